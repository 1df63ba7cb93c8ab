"""The conflict box starts every choice from the side that keeps both people's work."""

from __future__ import annotations

import pytest

from studio.services.merges import field_choices, hunks

BASE = {"name": "Card", "headline": "Old", "owner": "Cards"}


@pytest.mark.parametrize(
    ("theirs", "mine", "expected"),
    [
        ({**BASE, "headline": "Theirs"}, BASE, [("headline", "theirs", False)]),
        (BASE, {**BASE, "headline": "Mine"}, [("headline", "mine", False)]),
        (
            {**BASE, "headline": "Theirs"},
            {**BASE, "headline": "Mine"},
            [("headline", "mine", True)],
        ),
        ({**BASE, "headline": "Same"}, {**BASE, "headline": "Same"}, []),
    ],
)
def test_each_differing_field_starts_from_the_side_that_changed_it(theirs, mine, expected) -> None:
    choices = field_choices(BASE, theirs, mine, {"headline": "Headline"})
    assert [(c.name, c.take, c.both_changed) for c in choices] == expected
    assert all(c.label == "Headline" for c in choices)


def _merged(pieces, take=None) -> str:
    return "".join(
        h.mine if h.same else (h.theirs if (take or h.take) == "theirs" else h.mine) for h in pieces
    )


def test_a_source_is_cut_into_hunks_whose_defaults_keep_both_changes() -> None:
    base = "a\nb\nc\nd\ne\n"
    theirs = "a THEIRS\nb\nc\nd\ne\n"
    mine = "a\nb\nc\nd\ne MINE\n"
    pieces = hunks(base, theirs, mine)
    changes = [h for h in pieces if not h.same]
    assert [(h.take, h.both_changed, h.first_line) for h in changes] == [
        ("theirs", False, 1),
        ("mine", False, 5),
    ]
    assert _merged(pieces) == "a THEIRS\nb\nc\nd\ne MINE\n"
    assert _merged(pieces, take="mine") == mine and _merged(pieces, take="theirs") == theirs


@pytest.mark.parametrize(
    ("theirs", "mine", "take"),
    [
        ("a\nc\n", "a\nb\nc\n", "theirs"),  # they deleted b
        ("a\nb\nc\n", "a\nc\n", "mine"),  # I deleted b
        ("a\nb\nX\nc\n", "a\nb\nc\n", "theirs"),  # they inserted X
        ("a\nb\nc\n", "a\nY\nb\nc\n", "mine"),  # I inserted Y
    ],
)
def test_deletions_and_insertions_start_from_whoever_made_them(theirs, mine, take) -> None:
    [change] = [h for h in hunks("a\nb\nc\n", theirs, mine) if not h.same]
    assert change.take == take and not change.both_changed


def test_the_same_line_changed_by_both_keeps_mine_and_says_so() -> None:
    [change] = [h for h in hunks("a\nb\n", "a\nT\n", "a\nM\n") if not h.same]
    assert (change.take, change.both_changed, change.theirs, change.mine) == (
        "mine",
        True,
        "T\n",
        "M\n",
    )
