"""The tone lexicon: distress terms the service team keeps, stored as revisions.

Tone inference (VADER) cannot tell a customer who was robbed from one who is merely
annoyed, and only the service team knows which words mean "do not sell to this person
now". The lexicon is an artifact like a ruleset (kind "lexicon", key "tone"): every
save is a revision, it goes through review, and it ships in the bundle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from preview.tone import (
    DEFAULT_DISTRESS_TERMS,
    Lexicon,
    Tone,
    infer_tone,
    lexicon_problems,
    normalize_term,
)
from studio.errors import FieldError, ValidationFailed
from studio.models import Artifact, Revision
from studio.services import artifacts

KIND = "lexicon"
KEY = "tone"
NAME = "Tone lexicon"
MAX_TEXT = 20_000
SAMPLE_TEXT = "My card was stolen last night and I am scared someone will use it."


@dataclass(frozen=True)
class LexiconState:
    """What the editor shows: the stored terms (or the defaults) and where they stand."""

    artifact: Artifact | None
    head: Revision | None
    terms: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.terms)

    @property
    def base_number(self) -> int:
        return self.artifact.head_number if self.artifact else 0


def state(session: Session) -> LexiconState:
    artifact = artifacts.find(session, KIND, KEY)
    if artifact is None:
        return LexiconState(None, None, DEFAULT_DISTRESS_TERMS)
    head = artifacts.head(session, artifact)
    return LexiconState(artifact, head, Lexicon.from_dict(head.body).distress)


def current(session: Session) -> Lexicon:
    return Lexicon(state(session).terms)


def parse_terms(text: str) -> tuple[list[str], list[FieldError]]:
    """One term per line; blank lines and lines starting with # are ignored."""
    if len(text) > MAX_TEXT:
        return [], [FieldError("terms", f"The lexicon is over {MAX_TEXT:,} characters.")]
    lines = text.splitlines()
    kept: list[tuple[int, str]] = [
        (n, line)
        for n, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    problems = lexicon_problems(term for _n, term in kept)
    errors = []
    for index, reason in problems:
        if index < len(kept):
            number, term = kept[index]
            errors.append(FieldError("terms", f"Line {number}: “{term.strip()[:60]}” {reason}."))
        else:
            errors.append(FieldError("terms", reason[:1].upper() + reason[1:] + "."))
    return [normalize_term(term) for _n, term in kept], errors


def save(
    session: Session, text: str, *, base_number: int, actor_id: int | None, summary: str = ""
) -> Revision | Artifact:
    """Store the terms as the next revision (the first save creates the artifact).

    Raises ValidationFailed or EditConflict.
    """
    terms, errors = parse_terms(text)
    if errors:
        raise ValidationFailed(errors)
    if not terms:
        raise ValidationFailed(
            [
                FieldError(
                    "terms",
                    "Keep at least one term: without any, "
                    "no interaction is ever read as distressed.",
                )
            ]
        )
    body: dict[str, Any] = Lexicon(tuple(dict.fromkeys(terms))).to_dict()
    artifact = artifacts.find(session, KIND, KEY)
    if artifact is None:
        return artifacts.create(
            session,
            kind=KIND,
            key=KEY,
            name=NAME,
            body=body,
            actor_id=actor_id,
            summary=summary or "Created",
        )
    return artifacts.save(
        session, artifact, body=body, base_number=base_number, actor_id=actor_id, summary=summary
    )


@dataclass(frozen=True)
class TryOut:
    text: str
    tone: Tone | None
    errors: list[FieldError]


def try_text(terms_text: str, text: str) -> TryOut:
    """The tone of `text` with the terms as typed (unsaved), for the editor's try-out box."""
    terms, errors = parse_terms(terms_text)
    if not text.strip():
        return TryOut(text, None, errors)
    usable = Lexicon.from_dict({"distress": terms})
    return TryOut(text, infer_tone(text, usable), errors)


def infer(session: Session, text: str) -> Tone | None:
    """The tone the studio infers for `text` with the stored lexicon; None without text."""
    if not text.strip():
        return None
    return infer_tone(text, current(session))
