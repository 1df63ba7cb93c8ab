"""A narrow-cast survey on the customer's message page: what is asked, and the answers.

When a message is opened, each survey its decision asks is copied into the message as
the bundle published it, so the page shows the questions the customer was asked even
after marketing edits the survey. A customer answers each survey once per message:
the first answer stands (one response row per message and survey, enforced by the
database), and answers are kept as plain text, shown escaped wherever they appear.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from content.diagnostics import ContentError
from content.surveys import Survey, read_answers
from studio.errors import FieldError, ValidationFailed
from studio.models import Message, SurveyAnswer, SurveyResponse

#: Most surveys one message asks.
MAX_PER_MESSAGE: Final = 3
#: How much of a refused answer is shown back to the customer to correct.
MAX_TYPED: Final = 20_000
#: On the message page every survey shares one form: its fields are named
#: `<survey key>` + SEPARATOR + field (`new_branch.answer_q1`).
SEPARATOR: Final = "."


@dataclass(frozen=True)
class DecidedSurvey:
    """A survey the decision asked, as the API reads it (`{"survey", "rule", "ruleset"}`)."""

    key: str
    rule: str = ""
    ruleset: str = ""


def snapshots(runtime: Any, decided: Iterable[DecidedSurvey]) -> list[dict[str, Any]]:
    """What the message keeps of each asked survey the bundle knows (others are skipped)."""
    out: list[dict[str, Any]] = []
    for item in decided:
        survey = runtime.surveys.get(item.key) if runtime is not None else None
        if survey is not None and all(s["key"] != item.key for s in out):
            out.append({**survey.to_dict(), "rule": item.rule, "ruleset": item.ruleset})
    return out[:MAX_PER_MESSAGE]


@dataclass(frozen=True)
class AskedSurvey:
    survey: Survey
    rule: str
    answered: bool


def _stored(message: Message) -> list[Mapping[str, Any]]:
    return [s for s in (message.decision or {}).get("surveys", []) if isinstance(s, Mapping)]


def asked(session: Session, message: Message) -> list[AskedSurvey]:
    """The surveys on this message's page, each with whether it was answered."""
    stored = _stored(message)
    if not stored:
        return []
    done = set(
        session.scalars(
            select(SurveyResponse.survey_key).where(SurveyResponse.message_id == message.id)
        )
    )
    out = []
    for item in stored:
        try:
            survey = Survey.from_dict(item)
        except ContentError:
            continue
        out.append(AskedSurvey(survey, str(item.get("rule") or ""), survey.key in done))
    return out


def find(session: Session, message: Message, key: str) -> AskedSurvey | None:
    return next((a for a in asked(session, message) if a.survey.key == key), None)


@dataclass(frozen=True)
class Submitted:
    """`stored` is False when this message's survey had already been answered."""

    stored: bool
    asked: AskedSurvey


def submit(
    session: Session,
    message: Message,
    key: str,
    form: Iterable[tuple[str, str]],
    *,
    now: datetime | None = None,
) -> Submitted | None:
    """Store the customer's answers (flushed), once per message and survey.

    None when the message asks no such survey; `ValidationFailed` (every problem, each at
    its field, nothing stored) when the answers do not fit the questions.
    """
    found = find(session, message, key)
    if found is None:
        return None
    if found.answered:
        return Submitted(False, found)
    answers, problems = read_answers(found.survey, form)
    if problems:
        raise ValidationFailed([FieldError(p.field, p.message) for p in problems])
    response = SurveyResponse(
        message_id=message.id,
        survey_key=key,
        bundle_version=message.bundle_version,
        rule=found.rule[:200],
        created_at=now or datetime.now(UTC),
    )
    try:
        # A savepoint: what else this request stored (the NPS score, another survey
        # sent with the same form) stays when only this survey lost the race.
        with session.begin_nested():
            session.add(response)
            session.flush()
    except IntegrityError:
        # A concurrent submission stored this survey first: the first answer stands.
        return Submitted(False, AskedSurvey(found.survey, found.rule, True))
    for question in found.survey.questions:
        if question.id in answers:
            session.add(
                SurveyAnswer(
                    response_id=response.id,
                    survey_key=key,
                    question_id=question.id,
                    kind=question.kind,
                    value=answers[question.id],
                )
            )
    session.flush()
    return Submitted(True, AskedSurvey(found.survey, found.rule, True))


def split_form(
    surveys: Iterable[AskedSurvey], form: Iterable[tuple[str, str]]
) -> dict[str, list[tuple[str, str]]]:
    """The message page's one form, as each survey's own fields (`answer_q1`, ...), for
    every survey in `surveys`; a field naming no survey there is left out."""
    pairs = list(form)
    out: dict[str, list[tuple[str, str]]] = {}
    for item in surveys:
        prefix = item.survey.key + SEPARATOR
        out[item.survey.key] = [(n[len(prefix) :], v) for n, v in pairs if n.startswith(prefix)]
    return out


def read_together(
    session: Session, message: Message, form: Iterable[tuple[str, str]]
) -> dict[str, list[tuple[str, str]]]:
    """The answers the message page's one form carries, by survey key, each survey's
    fields ready for `submit`: a survey already answered or left blank is left out.

    Nothing is stored. `ValidationFailed` names every problem of every survey at its
    field on the page (`<key>.answer_q1`), so one bad answer stores none of the others.
    """
    open_surveys = [a for a in asked(session, message) if not a.answered]
    by_key = {a.survey.key: a for a in open_surveys}
    chosen: dict[str, list[tuple[str, str]]] = {}
    problems: list[FieldError] = []
    for key, fields in split_form(open_surveys, form).items():
        if not any((value or "").strip() for _, value in fields):
            continue
        _, found = read_answers(by_key[key].survey, fields)
        problems.extend(FieldError(key + SEPARATOR + p.field, p.message) for p in found)
        chosen[key] = fields
    if problems:
        raise ValidationFailed(problems)
    return chosen
