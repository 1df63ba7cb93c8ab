"""Three-way merge choices for the conflict box: what differs between their revision and
what the person typed, field by field or hunk by hunk, and which side to start from.

The base is the revision the person started from. Where only they changed something
(theirs equals the base) the person's text is the default; where only the other person
changed it (the person's equals the base) theirs is the default, so taking the
suggested side of every choice keeps both people's work. Where both changed it, the
person's own text is the default and the choice is marked as changed by both.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from studio.services.diffs import DiffLine, diff_lines


@dataclass(frozen=True)
class FieldChoice:
    """One form field that differs: its name and label, both values, the default side."""

    name: str
    label: str
    theirs: str
    mine: str
    take: str  # "theirs" or "mine"
    both_changed: bool
    lines: list[DiffLine]


@dataclass(frozen=True)
class Hunk:
    """A stretch of a single source: the same on both sides, or a choice between them.

    `first_line` counts lines of their text (1-based), for the label."""

    same: bool
    theirs: str
    mine: str
    take: str = "mine"
    both_changed: bool = False
    first_line: int = 1


def field_choices(
    base: Mapping[str, str] | None,
    theirs: Mapping[str, str],
    mine: Mapping[str, str],
    labels: Mapping[str, str],
) -> list[FieldChoice]:
    """The fields whose values differ between theirs and mine, in form order."""
    base = base or {}
    out: list[FieldChoice] = []
    for name in dict.fromkeys([*mine, *theirs]):
        their_value, my_value = theirs.get(name, ""), mine.get(name, "")
        if their_value == my_value:
            continue
        original = base.get(name, "")
        mine_changed = my_value != original
        theirs_changed = their_value != original
        out.append(
            FieldChoice(
                name=name,
                label=labels.get(name, name),
                theirs=their_value,
                mine=my_value,
                take="theirs" if theirs_changed and not mine_changed else "mine",
                both_changed=mine_changed and theirs_changed,
                lines=diff_lines(their_value, my_value, context=1),
            )
        )
    return out


def _unchanged(base: list[str], other: list[str]) -> set[int]:
    """Indexes of the lines of `other` that are unchanged from `base`."""
    matcher = difflib.SequenceMatcher(None, base, other, autojunk=False)
    return {j + k for _i, j, size in matcher.get_matching_blocks() for k in range(size)}


def hunks(base: str | None, theirs: str, mine: str) -> list[Hunk]:
    """Their text and the person's, cut into equal stretches and choices."""
    old = theirs.splitlines(keepends=True)
    new = mine.splitlines(keepends=True)
    origin = (base or "").splitlines(keepends=True)
    theirs_kept = _unchanged(origin, old) if base is not None else set()
    mine_kept = _unchanged(origin, new) if base is not None else set()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=len(old) + len(new) > 2_000)
    out: list[Hunk] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        their_part, my_part = "".join(old[i1:i2]), "".join(new[j1:j2])
        if tag == "equal":
            out.append(Hunk(True, their_part, my_part, first_line=i1 + 1))
            continue
        theirs_plain = all(i in theirs_kept for i in range(i1, i2))
        mine_plain = all(j in mine_kept for j in range(j1, j2))
        # An empty side is the one that deviated when the other side is the base's text.
        theirs_changed = mine_plain if i1 == i2 else not theirs_plain
        mine_changed = theirs_plain if j1 == j2 else not mine_plain
        if base is None:
            theirs_changed = mine_changed = True
        out.append(
            Hunk(
                False,
                their_part,
                my_part,
                take="theirs" if theirs_changed and not mine_changed else "mine",
                both_changed=theirs_changed and mine_changed,
                first_line=i1 + 1,
            )
        )
    return out
