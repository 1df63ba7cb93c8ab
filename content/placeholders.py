"""Swapping Jinja out of marketing markup and back, so markup tools never parse it.

MJML and the HTML sanitizer both parse markup; ``{% if a > 5 %}`` is not markup and would
be escaped or rejected. Every Jinja construct is replaced by an inert ASCII word that
survives both tools unchanged, in text and in attribute values, and is put back after.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

_OPENER: Final = re.compile(r"\{[{%#]")
_CLOSER: Final = {"{{": "}}", "{%": "%}", "{#": "#}"}
_PLACEHOLDER: Final = re.compile(r"zzjinja(\d+)zz")


def jinja_spans(source: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each Jinja construct (``{{ }}``, ``{% %}``, ``{# #}``), left to
    right, the shortest from each opener, as the regular expression
    ``{{.*?}}|{%.*?%}|{#.*?#}`` finds them, but in one pass over the source: an opener
    whose closer does not follow is text. (That expression searched the rest of the
    source again from every unclosed opener: 30,000 ``{{`` took 21 s.)"""
    absent_from: dict[str, int] = {}  # a closer not found after here is in no later text
    position = 0
    while (found := _OPENER.search(source, position)) is not None:
        start, after = found.start(), found.end()
        closer = _CLOSER[found.group(0)]
        end = (
            -1 if after >= absent_from.get(closer, len(source) + 1) else source.find(closer, after)
        )
        if end < 0:
            absent_from.setdefault(closer, after)
            position = start + 1
            continue
        yield start, end + len(closer)
        position = end + len(closer)


def protect_jinja(source: str) -> tuple[str, list[str]]:
    """`source` with each Jinja construct replaced by ``zzjinjaNzz``, and the originals."""
    saved: list[str] = []
    parts: list[str] = []
    position = 0
    for start, end in jinja_spans(source):
        parts.append(source[position:start])
        parts.append(f"zzjinja{len(saved)}zz")
        saved.append(source[start:end])
        position = end
    parts.append(source[position:])
    return "".join(parts), saved


def restore_jinja(text: str, saved: list[str]) -> str:
    """Put back the Jinja `protect_jinja` took out (placeholders a tool dropped stay gone)."""
    if not saved:
        return text
    return _PLACEHOLDER.sub(
        lambda m: saved[int(m.group(1))] if int(m.group(1)) < len(saved) else "", text
    )
