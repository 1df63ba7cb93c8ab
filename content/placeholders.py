"""Swapping Jinja out of marketing markup and back, so markup tools never parse it.

MJML and the HTML sanitizer both parse markup; ``{% if a > 5 %}`` is not markup and would
be escaped or rejected. Every Jinja construct is replaced by an inert ASCII word that
survives both tools unchanged, in text and in attribute values, and is put back after.
"""

from __future__ import annotations

import re
from typing import Final

JINJA: Final = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_PLACEHOLDER: Final = re.compile(r"zzjinja(\d+)zz")


def protect_jinja(source: str) -> tuple[str, list[str]]:
    """`source` with each Jinja construct replaced by ``zzjinjaNzz``, and the originals."""
    saved: list[str] = []

    def stash(match: re.Match[str]) -> str:
        saved.append(match.group(0))
        return f"zzjinja{len(saved) - 1}zz"

    return JINJA.sub(stash, source), saved


def restore_jinja(text: str, saved: list[str]) -> str:
    """Put back the Jinja `protect_jinja` took out (placeholders a tool dropped stay gone)."""
    if not saved:
        return text
    return _PLACEHOLDER.sub(
        lambda m: saved[int(m.group(1))] if int(m.group(1)) < len(saved) else "", text
    )
