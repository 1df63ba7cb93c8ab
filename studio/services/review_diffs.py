"""Bounded diffs for the review page: hunks that collapse, a cap, and the full text apart.

A change request can carry a huge artifact (a generated ruleset of 100,000 lines). The
review page must stay fast for every reviewer, so the diff shown in the page is bounded:
at most `MAX_SHOWN_LINES` diff lines, hunks longer than `COLLAPSE_LINES` start collapsed
(each expands on its own), and sources too large to compare in the page
(`MAX_COMPARED_LINES`) are not compared there at all. The complete unified diff is
always available as a download.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from studio.services.diffs import DiffLine, diff_lines

MAX_COMPARED_LINES: Final = 20_000
MAX_SHOWN_LINES: Final = 500
COLLAPSE_LINES: Final = 40


@dataclass(frozen=True)
class Hunk:
    """One run of changes with its context; `collapsed` when it is long."""

    lines: list[DiffLine]
    collapsed: bool

    @property
    def first_line(self) -> int:
        return next((line.new or line.old or 0 for line in self.lines), 0)

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.kind == "add")

    @property
    def deleted(self) -> int:
        return sum(1 for line in self.lines if line.kind == "delete")


@dataclass(frozen=True)
class BoundedDiff:
    """What the review page shows of one item's diff, and what it leaves to the download."""

    hunks: list[Hunk] = field(default_factory=list)
    shown_lines: int = 0
    hidden_lines: int = 0
    compared: bool = True
    old_lines: int = 0
    new_lines: int = 0

    @property
    def lines(self) -> list[DiffLine]:
        return [line for hunk in self.hunks for line in hunk.lines]

    @property
    def complete(self) -> bool:
        return self.compared and self.hidden_lines == 0


def bounded_diff(before: str | None, after: str) -> BoundedDiff:
    """The in-page diff of `before` -> `after`, within the bounds above."""

    old_count = before.count("\n") + 1 if before else 0
    new_count = after.count("\n") + 1 if after else 0
    if before is not None and old_count + new_count > MAX_COMPARED_LINES:
        return BoundedDiff(compared=False, old_lines=old_count, new_lines=new_count)
    if before is None and new_count > MAX_SHOWN_LINES:
        # A new artifact: every line is added; show the first ones without diffing it all.
        head = "\n".join(after.split("\n", MAX_SHOWN_LINES)[:MAX_SHOWN_LINES])
        lines = diff_lines(None, head)
        return BoundedDiff(
            hunks=_hunks(lines),
            shown_lines=len(lines),
            hidden_lines=new_count - len(lines),
            old_lines=0,
            new_lines=new_count,
        )
    lines = diff_lines(before, after)
    shown = lines[:MAX_SHOWN_LINES]
    return BoundedDiff(
        hunks=_hunks(shown),
        shown_lines=len(shown),
        hidden_lines=len(lines) - len(shown),
        old_lines=old_count,
        new_lines=new_count,
    )


def _hunks(lines: list[DiffLine]) -> list[Hunk]:
    out: list[Hunk] = []
    current: list[DiffLine] = []
    for line in lines:
        if line.kind == "gap":
            if current:
                out.append(Hunk(current, len(current) > COLLAPSE_LINES))
            current = []
            continue
        current.append(line)
    if current:
        out.append(Hunk(current, len(current) > COLLAPSE_LINES))
    return out
