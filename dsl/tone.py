"""Tone from the distress lexicon alone: the part of tone inference every decider shares.

Rules key on tone (`never offer when tone is distressed`), and many interactions carry
only what the customer wrote. The service team's lexicon of distress terms (stolen,
assaulted, died, fraud, ...) travels in every bundle, so the studio's `/api/v1/decide`,
`studio decide` and the downstream client infer the same tone from the same words:
`distressed` when a term appears, and otherwise no tone at all (unknown), which a
ruleset can name (`never offer when tone is unknown`).

The studio's preview may add VADER's polarity on top (`preview.tone`); VADER is not part
of the client distribution, so a decision never depends on it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, Final

#: A distressed exchange scores at most this, however polite the words around it.
DISTRESS_CEILING: Final = -0.6
MAX_TEXT: Final = 20_000
MAX_TERMS: Final = 500
MAX_TERM_LENGTH: Final = 60
MAX_WORDS_SHOWN: Final = 6

DEFAULT_DISTRESS_TERMS: Final = (
    "stolen",
    "robbed",
    "robbery",
    "mugged",
    "assaulted",
    "attacked",
    "threatened",
    "died",
    "dead",
    "death",
    "passed away",
    "funeral",
    "bereavement",
    "fraud",
    "scam*",
    "identity theft",
    "hospital*",
    "emergency",
    "desperate",
    "evicted",
    "afraid",
    "terrified",
    "scared",
)

TERM: Final = re.compile(r"^[\w'][\w' -]*\*?$")


def normalize_term(term: str) -> str:
    return " ".join(term.lower().split())


def distress_terms(data: Any) -> tuple[str, ...]:
    """The usable distress terms of a stored lexicon (``{"distress": [...]}``).

    The defaults when there is no lexicon; bad entries are skipped (the lexicon editor
    refuses them on save, and a decision must never fail on a stored value).
    """
    if not isinstance(data, Mapping):
        return DEFAULT_DISTRESS_TERMS
    raw = data.get("distress")
    if not isinstance(raw, list | tuple):
        return DEFAULT_DISTRESS_TERMS
    terms = [normalize_term(t) for t in raw[:MAX_TERMS] if isinstance(t, str)]
    return tuple(
        dict.fromkeys(t for t in terms if t and len(t) <= MAX_TERM_LENGTH and TERM.match(t))
    )


@functools.lru_cache(maxsize=64)
def distress_matcher(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for every term, longest first, matched whole and ignoring case.

    A trailing `*` matches any ending (`scam*` matches scam, scams, scammed).
    """
    parts = []
    for term in sorted(terms, key=len, reverse=True):
        wildcard = term.endswith("*")
        body = r"\s+".join(re.escape(word) for word in term.rstrip("*").split())
        parts.append(body + (r"\w*" if wildcard else r"\b"))
    if not parts:
        return None
    return re.compile(r"\b(?:" + "|".join(parts) + ")", re.IGNORECASE)


def distress_words(text: str, terms: tuple[str, ...]) -> list[str]:
    """The distress terms found in `text`, in order of appearance, each once."""
    matcher = distress_matcher(terms)
    found: list[str] = []
    if matcher is None:
        return found
    for match in matcher.finditer(text[:MAX_TEXT]):
        word = " ".join(match.group().lower().split())
        if word not in found:
            found.append(word)
    return found


def lexicon_tone(text: str, terms: tuple[str, ...]) -> dict[str, Any] | None:
    """The interaction's `tone` object when a distress term appears in `text`, else None."""
    found = distress_words(text, terms)
    if not found:
        return None
    return {"label": "distressed", "score": DISTRESS_CEILING, "words": found[:MAX_WORDS_SHOWN]}
