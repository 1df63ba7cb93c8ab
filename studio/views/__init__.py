"""Blueprints, one module per area of the studio; each module exposes `bp`."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def modules() -> list[ModuleType]:
    """Every view module, imported in name order (so registration is deterministic)."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.ispkg)
    return [importlib.import_module(f"{__name__}.{name}") for name in names]
