"""The tone of an interaction, inferred from its text when it carries none.

Rules key on tone (`never offer when tone is distressed`), but most sample interactions
and many downstream systems send only what the customer wrote. VADER (a lexicon and
rules tuned for short, informal text) gives a polarity score; it has no notion of
*distress*, the one tone where any offer is wrong, so the service team keeps a small
lexicon of distress terms (stolen, assaulted, died, fraud, ...) that overrides it.

The result always says which words drove it, so a surprising label can be traced to
the words that caused it and the lexicon fixed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from dsl.tone import (  # re-exported: the studio's lexicon editor reads them here
    DEFAULT_DISTRESS_TERMS,
    DISTRESS_CEILING,
    MAX_TERM_LENGTH,
    MAX_TERMS,
    MAX_TEXT,
    MAX_WORDS_SHOWN,
    TERM,
    distress_words,
    normalize_term,
)

#: VADER's own recommended thresholds on the compound score.
POSITIVE_AT: Final = 0.05
NEGATIVE_AT: Final = -0.05

_TERM = TERM

__all__ = [
    "DEFAULT_DISTRESS_TERMS",
    "DISTRESS_CEILING",
    "Lexicon",
    "Tone",
    "infer_tone",
    "lexicon_problems",
    "needs_tone",
    "normalize_term",
    "with_inferred_tone",
]


@dataclass(frozen=True)
class Lexicon:
    """Distress terms: words or phrases, matched whole and case-insensitively.

    A trailing `*` matches any ending (`scam*` matches scam, scams, scammed).
    """

    distress: tuple[str, ...] = DEFAULT_DISTRESS_TERMS

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Lexicon:
        """The lexicon stored by the studio; the defaults when there is none yet.

        Bad entries are skipped rather than refused: the editor validates on save
        (`lexicon_problems`), and a preview must never fail on a stored value.
        """
        if not isinstance(data, Mapping):
            return cls()
        raw = data.get("distress")
        if not isinstance(raw, list | tuple):
            return cls()
        terms = [normalize_term(t) for t in raw if isinstance(t, str)]
        return cls(distress=tuple(dict.fromkeys(t for t in terms if t and _TERM.match(t))))

    def to_dict(self) -> dict[str, Any]:
        return {"distress": list(self.distress)}


@dataclass(frozen=True)
class Tone:
    """A tone label, its score from -1 (worst) to 1 (best), and the words behind it."""

    label: str
    score: float
    words: tuple[str, ...]
    distress: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The interaction's `tone` object, as the rule language's schema expects it."""
        return {"label": self.label, "score": self.score, "words": list(self.words)}


def lexicon_problems(terms: Iterable[str]) -> list[tuple[int, str]]:
    """(index, reason) for each term the matcher cannot use, for the lexicon editor."""
    problems: list[tuple[int, str]] = []
    seen: set[str] = set()
    count = 0
    for index, raw in enumerate(terms):
        term = normalize_term(raw)
        if not term:
            continue
        count += 1
        if len(term) > MAX_TERM_LENGTH:
            problems.append((index, f"is longer than {MAX_TERM_LENGTH} characters"))
        elif not _TERM.match(term):
            problems.append(
                (
                    index,
                    "may hold only letters, digits, spaces, ' and -, with an optional * at the end",
                )
            )
        elif term in seen:
            problems.append((index, "is listed twice"))
        seen.add(term)
    if count > MAX_TERMS:
        problems.append((MAX_TERMS, f"the lexicon holds at most {MAX_TERMS} terms"))
    return problems


@functools.lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    """VADER loads its 7,500-word lexicon once per process (about 8 ms)."""
    return SentimentIntensityAnalyzer()


_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def _driving_words(text: str, compound: float) -> list[str]:
    """The words VADER weighed most, on the side of the score."""
    lexicon = _analyzer().lexicon
    weighted: dict[str, float] = {}
    for match in _WORD.finditer(text):
        word = match.group().lower()
        valence = lexicon.get(word)
        if valence is None or word in weighted:
            continue
        if (compound < 0 and valence < 0) or (compound > 0 and valence > 0):
            weighted[word] = abs(valence)
    return sorted(weighted, key=lambda w: -weighted[w])


@functools.lru_cache(maxsize=2048)
def _infer(text: str, terms: tuple[str, ...]) -> Tone:
    compound = round(float(_analyzer().polarity_scores(text)["compound"]), 3)
    found = distress_words(text, terms)
    drivers = _driving_words(text, compound)
    if found:
        score = min(compound, DISTRESS_CEILING)
        words = found + [w for w in _driving_words(text, -1.0) if w not in found]
        return Tone("distressed", score, tuple(words[:MAX_WORDS_SHOWN]), tuple(found))
    if compound >= POSITIVE_AT:
        label = "positive"
    elif compound <= NEGATIVE_AT:
        label = "negative"
    else:
        label, drivers = "neutral", []
    return Tone(label, compound, tuple(drivers[:MAX_WORDS_SHOWN]))


def infer_tone(text: str, lexicon: Lexicon | None = None) -> Tone:
    """The tone of `text`: distressed when a lexicon term appears, else VADER's verdict."""
    lexicon = lexicon or Lexicon()
    return _infer(text[:MAX_TEXT], lexicon.distress)


def needs_tone(interaction: Mapping[str, Any]) -> str | None:
    """The text to infer a tone from, when the interaction has text but no tone label."""
    inquiry = interaction.get("inquiry")
    text = inquiry.get("text") if isinstance(inquiry, Mapping) else None
    if not isinstance(text, str) or not text.strip():
        return None
    tone = interaction.get("tone")
    if isinstance(tone, Mapping) and tone.get("label") not in (None, ""):
        return None
    return text


def with_inferred_tone(
    interaction: Mapping[str, Any], lexicon: Lexicon | None = None
) -> tuple[dict[str, Any], Tone | None]:
    """A copy of the interaction with its tone filled in, and the tone when inferred."""
    out = dict(interaction)
    text = needs_tone(interaction)
    if text is None:
        return out, None
    tone = infer_tone(text, lexicon)
    out["tone"] = tone.to_dict()
    return out, tone
