"""Line diffs of artifact bodies, with old and new line numbers for line comments."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "context", "add", "delete" or "gap"
    old: int | None
    new: int | None
    text: str


def diff_lines(before: str | None, after: str, *, context: int = 3) -> list[DiffLine]:
    """A side-aware line diff with old and new line numbers, for display and line comments."""
    old = before.splitlines() if before is not None else []
    new = after.splitlines()
    # Exact (no junk heuristic) for ordinary sizes; for large sources the heuristic keeps
    # the quadratic worst case of repeated lines away from the review page.
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=len(old) + len(new) > 2_000)
    out: list[DiffLine] = []
    for n, group in enumerate(matcher.get_grouped_opcodes(context)):
        if n:
            out.append(DiffLine("gap", None, None, "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [
                    DiffLine("context", i1 + k + 1, j1 + k + 1, old[i1 + k]) for k in range(i2 - i1)
                ]
                continue
            if tag in ("replace", "delete"):
                out += [DiffLine("delete", i + 1, None, old[i]) for i in range(i1, i2)]
            if tag in ("replace", "insert"):
                out += [DiffLine("add", None, j + 1, new[j]) for j in range(j1, j2)]
    return out
