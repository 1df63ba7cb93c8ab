"""Did-you-mean suggestions for misspelt fields, enum values and offer keys."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate nearest to `word`, or None when nothing is close enough.

    Case differences alone always count as close (`Gold` -> `gold`).
    """
    pool = list(dict.fromkeys(candidates))
    if not pool or len(word) > 200:
        return None
    lowered = word.lower()
    for candidate in pool:
        if candidate.lower() == lowered:
            return candidate
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=cutoff)
    if matches:
        return matches[0]
    by_lower = {c.lower(): c for c in pool}
    matches = difflib.get_close_matches(lowered, list(by_lower), n=1, cutoff=cutoff)
    return by_lower[matches[0]] if matches else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A hint sentence such as "did you mean `transactional`?", or None."""
    match = closest(word, candidates)
    return f"did you mean `{match}`?" if match is not None else None
