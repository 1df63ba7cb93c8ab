"""Pausing Python's cyclic garbage collector around work that builds many objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building a big AST, IR or generated module: its passes
    would rescan the growing structure again and again (loading a 1,000-rule ruleset
    took twice as long with it running)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
