"""Narrow-cast surveys as artifacts: authored by marketing, reviewed and published like
an offer.

The editor is a plain form with one row per question (kind, wording, options), so it
works without JavaScript. A revision body holds the survey as `content.surveys` reads
it (`title`, `intro`, `questions`); the artifact's name is the survey's title. Question
ids (`q1`, `q2`, ...) are kept from one revision to the next, so answers collected under
an earlier revision still count towards the same question.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.diagnostics import ContentError
from content.surveys import MAX_QUESTIONS, QUESTION_ID, Survey
from studio.errors import FieldError, ValidationFailed
from studio.models import Artifact, Revision
from studio.services import artifacts

KIND: Final = "survey"
#: Question rows the form offers: every question of the survey, plus a few empty ones.
SPARE_ROWS: Final = 3
#: What the kind menu offers, and what each choice stores.
QUESTION_KINDS: Final[dict[str, tuple[str, dict[str, Any]]]] = {
    "scale_10": ("Scale 0-10", {"kind": "scale", "low": 0, "high": 10}),
    "scale_5": ("Scale 1-5", {"kind": "scale", "low": 1, "high": 5}),
    "choice": ("Single choice", {"kind": "choice"}),
    "text": ("Free text", {"kind": "text"}),
}
RESERVED_KEYS: Final = frozenset({"new", "check"})
_LOCATION: Final = re.compile(r"questions\[(\d+)\](?:\.(\w+))?")


@dataclass(frozen=True)
class QuestionRow:
    """One row of the editor: what the person typed or what the revision holds."""

    number: int
    id: str
    kind: str
    label: str
    choices: str


def rows_of(body: Mapping[str, Any]) -> list[QuestionRow]:
    """The editor's rows for a revision body, with spare empty rows after them."""
    rows = []
    for index, question in enumerate(body.get("questions") or []):
        kind = question.get("kind", "")
        menu = (
            "scale_5"
            if kind == "scale" and question.get("low") == 1
            else "scale_10"
            if kind == "scale"
            else kind
        )
        rows.append(
            QuestionRow(
                index + 1,
                question.get("id", ""),
                menu,
                question.get("label", ""),
                "\n".join(question.get("choices") or []),
            )
        )
    return _with_spares(rows)


def rows_from_form(form: Mapping[str, str]) -> list[QuestionRow]:
    rows = []
    for number in range(1, MAX_QUESTIONS + 1):
        prefix = f"q{number}_"
        if prefix + "label" not in form and prefix + "kind" not in form:
            continue
        rows.append(
            QuestionRow(
                number,
                form.get(prefix + "id", ""),
                form.get(prefix + "kind", ""),
                form.get(prefix + "label", ""),
                form.get(prefix + "choices", ""),
            )
        )
    return _with_spares(rows)


def _with_spares(rows: list[QuestionRow]) -> list[QuestionRow]:
    filled = [r for r in rows if r.label.strip() or r.kind]
    out = [QuestionRow(i + 1, r.id, r.kind, r.label, r.choices) for i, r in enumerate(filled)]
    while len(out) < min(len(filled) + SPARE_ROWS, MAX_QUESTIONS):
        out.append(QuestionRow(len(out) + 1, "", "", "", ""))
    return out


def body_from_form(
    title: str, intro: str, rows: list[QuestionRow]
) -> tuple[dict[str, Any], list[FieldError]]:
    """The revision body for the form's rows, and the problems only the form can have (a
    row with wording but no kind)."""
    errors: list[FieldError] = []
    used = {r.id for r in rows if QUESTION_ID.fullmatch(r.id)}
    questions: list[dict[str, Any]] = []
    next_id = 1
    for row in rows:
        if not row.label.strip() and not row.kind:
            continue
        if row.kind not in QUESTION_KINDS:
            errors.append(
                FieldError(f"q{row.number}_kind", "Choose what kind of question this is.")
            )
            continue
        question_id = row.id if QUESTION_ID.fullmatch(row.id) else ""
        while not question_id:
            candidate = f"q{next_id}"
            next_id += 1
            if candidate not in used:
                question_id = candidate
                used.add(candidate)
        question: dict[str, Any] = {
            "id": question_id,
            "label": row.label.strip(),
            **QUESTION_KINDS[row.kind][1],
        }
        if row.kind == "choice":
            question["choices"] = [
                line.strip() for line in row.choices.splitlines() if line.strip()
            ]
        questions.append(question)
    return {"title": title.strip(), "intro": intro.strip(), "questions": questions}, errors


def _field_of(location: str | None) -> str:
    """The form field for a `content.surveys` location such as `questions[2].choices`."""
    found = _LOCATION.fullmatch(location or "")
    if found:
        part = {"choices": "choices", "kind": "kind", "low": "kind"}.get(
            found.group(2) or "", "label"
        )
        return f"q{int(found.group(1)) + 1}_{part}"
    return {"title": "name", "intro": "intro"}.get(location or "", "questions")


def problems(key: str, body: Mapping[str, Any]) -> list[FieldError]:
    """Every problem with a survey body, each placed at its form field."""
    try:
        Survey.from_dict({**body, "key": key})
    except ContentError as failed:
        return [
            FieldError(_field_of(d.field), d.message)
            for d in failed.diagnostics
            if d.field != "key"
        ]
    return []


def create(
    session: Session, *, key: str, title: str, intro: str, rows: list[QuestionRow], actor_id: int
) -> Artifact:
    """Create a survey (flushed, audited) or raise `ValidationFailed` with every problem."""
    errors = artifacts.key_and_name_errors(
        key, title, noun="survey", example="breakfast_hours", reserved=RESERVED_KEYS
    )
    if not errors and artifacts.find(session, KIND, key) is not None:
        errors.append(FieldError("key", f"A survey called {key} already exists."))
    body, form_errors = body_from_form(title, intro, rows)
    errors += form_errors + [e for e in problems(key, body) if e.field != "name"]
    if errors:
        raise ValidationFailed(errors)
    return artifacts.create(
        session, kind=KIND, key=key, name=body["title"], body=body, actor_id=actor_id
    )


def save(
    session: Session,
    artifact: Artifact,
    *,
    title: str,
    intro: str,
    rows: list[QuestionRow],
    base_number: int,
    actor_id: int,
    summary: str = "",
) -> Revision:
    """The next revision, or `ValidationFailed` / `EditConflict` with nothing stored."""
    errors = artifacts.key_and_name_errors(None, title, noun="survey", example="")
    body, form_errors = body_from_form(title, intro, rows)
    errors += form_errors + [e for e in problems(artifact.key, body) if e.field != "name"]
    if errors:
        raise ValidationFailed(errors)
    return artifacts.save(
        session,
        artifact,
        body=body,
        base_number=base_number,
        actor_id=actor_id,
        name=body["title"],
        summary=summary or "Edited",
    )


def head_keys(session: Session) -> list[str]:
    """Survey keys a ruleset being edited may ask: every survey not archived."""
    return list(
        session.scalars(
            select(Artifact.key)
            .where(Artifact.kind == KIND, Artifact.archived.is_(False))
            .order_by(Artifact.key)
        )
    )


def survey_of(key: str, body: Mapping[str, Any]) -> Survey | None:
    """The survey a revision holds, or None when the revision is not a valid survey."""
    try:
        return Survey.from_dict({**body, "key": key})
    except ContentError:
        return None
