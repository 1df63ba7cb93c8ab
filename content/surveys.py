"""Narrow-cast surveys as plain data: a few questions marketing asks a small group.

A survey has a key, a title, an intro and one to ten questions. A question is a scale
(0-10 or 1-5), a single choice among two to ten options, or free text. The same
`Survey` value is authored in the studio, carried by the bundle and shown on the
customer's message page; `read_answers` turns what a customer posted into plain text
answers, or says what is wrong with it, so nothing half-valid is ever stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from content.diagnostics import ContentError, Diagnostic

QuestionKind = Literal["scale", "choice", "text"]
KINDS: Final = ("scale", "choice", "text")
#: The scales a question may use: (lowest, highest).
SCALES: Final = ((0, 10), (1, 5))
KEY_SHAPE: Final = re.compile(r"[a-z][a-z0-9_]{1,63}")
QUESTION_ID: Final = re.compile(r"q[0-9]{1,3}")
MAX_QUESTIONS: Final = 10
MAX_CHOICES: Final = 10
MAX_TITLE: Final = 200
MAX_INTRO: Final = 1000
MAX_LABEL: Final = 300
MAX_CHOICE: Final = 100
#: Longest free-text answer kept, in characters.
MAX_ANSWER: Final = 2000
#: Form fields carrying answers are named `FIELD_PREFIX + question id`.
FIELD_PREFIX: Final = "answer_"


@dataclass(frozen=True, slots=True)
class Question:
    """One question. `low`/`high` bound a scale; `choices` lists a choice's options."""

    id: str
    kind: QuestionKind
    label: str
    low: int = 0
    high: int = 10
    choices: tuple[str, ...] = ()

    @property
    def field(self) -> str:
        return FIELD_PREFIX + self.id

    @property
    def points(self) -> tuple[int, ...]:
        return tuple(range(self.low, self.high + 1)) if self.kind == "scale" else ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "label": self.label}
        if self.kind == "scale":
            out.update(low=self.low, high=self.high)
        if self.kind == "choice":
            out["choices"] = list(self.choices)
        return out


@dataclass(frozen=True, slots=True)
class Survey:
    key: str
    title: str
    intro: str
    questions: tuple[Question, ...]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "intro": self.intro,
            "questions": [q.to_dict() for q in self.questions],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Survey:
        """Read a survey (from a revision or a bundle); raise `ContentError` listing every
        problem, each located at its field (`title`, `questions[2].choices`, ...)."""
        found: list[Diagnostic] = []
        if not isinstance(data, Mapping):
            raise ContentError([Diagnostic("survey-shape", "a survey must be an object")])
        key = data.get("key")
        if not isinstance(key, str) or not KEY_SHAPE.fullmatch(key):
            found.append(
                Diagnostic(
                    "survey-key",
                    "Use 2-64 lowercase letters, digits or _, "
                    "starting with a letter, like breakfast_hours.",
                    "key",
                )
            )
        title = _text(data.get("title"), "title", MAX_TITLE, found, required=True)
        intro = _text(data.get("intro"), "intro", MAX_INTRO, found)
        raw = data.get("questions")
        questions: list[Question] = []
        if not isinstance(raw, list) or not raw:
            found.append(Diagnostic("survey-questions", "Ask at least one question.", "questions"))
        elif len(raw) > MAX_QUESTIONS:
            found.append(
                Diagnostic(
                    "survey-questions",
                    f"Ask at most {MAX_QUESTIONS} questions: a narrow-cast survey is short.",
                    "questions",
                )
            )
        else:
            for index, item in enumerate(raw):
                question = _question(item, f"questions[{index}]", found)
                if question is not None:
                    questions.append(question)
            ids = [q.id for q in questions]
            if len(set(ids)) != len(ids):
                found.append(
                    Diagnostic("survey-question-id", "Two questions share an id.", "questions")
                )
        if found:
            raise ContentError(found)
        return cls(key=str(key), title=title, intro=intro, questions=tuple(questions))


def _text(
    value: Any, where: str, limit: int, found: list[Diagnostic], *, required: bool = False
) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        found.append(Diagnostic("survey-text", "Write plain text here.", where))
    elif required and not text:
        found.append(Diagnostic("survey-text", "This cannot be empty.", where))
    elif len(text) > limit:
        found.append(
            Diagnostic(
                "survey-text",
                f"Keep this under {limit:,} characters (it has {len(text):,}).",
                where,
            )
        )
    elif "\x00" in text:
        found.append(
            Diagnostic("survey-text", "This contains characters that cannot be stored.", where)
        )
    return text


def _question(item: Any, where: str, found: list[Diagnostic]) -> Question | None:
    if not isinstance(item, Mapping):
        found.append(Diagnostic("survey-question", "Each question is an object.", where))
        return None
    before = len(found)
    question_id = item.get("id")
    if not isinstance(question_id, str) or not QUESTION_ID.fullmatch(question_id):
        found.append(
            Diagnostic(
                "survey-question-id",
                "A question id is q followed by a number, such as q1.",
                f"{where}.id",
            )
        )
    kind = item.get("kind")
    if kind not in KINDS:
        found.append(
            Diagnostic(
                "survey-question-kind",
                "A question is a scale, a choice or free text.",
                f"{where}.kind",
            )
        )
    label = _text(item.get("label"), f"{where}.label", MAX_LABEL, found, required=True)
    low, high = item.get("low", 0), item.get("high", 10)
    if kind == "scale" and (low, high) not in SCALES:
        found.append(
            Diagnostic("survey-scale", "A scale runs from 0 to 10 or from 1 to 5.", f"{where}.low")
        )
    choices: tuple[str, ...] = ()
    if kind == "choice":
        raw = item.get("choices")
        if (
            not isinstance(raw, list)
            or not 2 <= len(raw) <= MAX_CHOICES
            or not all(isinstance(c, str) and c.strip() for c in raw)
        ):
            found.append(
                Diagnostic(
                    "survey-choices",
                    f"Give 2 to {MAX_CHOICES} options, one per line.",
                    f"{where}.choices",
                )
            )
        else:
            choices = tuple(c.strip() for c in raw)
            if any(len(c) > MAX_CHOICE for c in choices):
                found.append(
                    Diagnostic(
                        "survey-choices",
                        f"Keep each option under {MAX_CHOICE} characters.",
                        f"{where}.choices",
                    )
                )
            elif len(set(choices)) != len(choices):
                found.append(
                    Diagnostic("survey-choices", "Two options read the same.", f"{where}.choices")
                )
    if len(found) > before:
        return None
    return Question(
        id=question_id,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
        label=label,
        low=low if kind == "scale" else 0,
        high=high if kind == "scale" else 0,
        choices=choices,
    )


@dataclass(frozen=True, slots=True)
class AnswerProblem:
    """Why a posted answer is refused: the form field and a message for the customer."""

    field: str
    message: str


def read_answers(
    survey: Survey, form: Mapping[str, str] | Iterable[tuple[str, str]]
) -> tuple[dict[str, str], list[AnswerProblem]]:
    """The customer's answers by question id, as text, or every problem with them.

    A field for a question the survey does not have, a second value for one question, a
    scale point out of range, an option that is not offered or an overlong text is a
    problem; unanswered questions are simply left out, but at least one must be answered.
    """
    pairs = list(form.items()) if isinstance(form, Mapping) else list(form)
    answers: dict[str, str] = {}
    problems: list[AnswerProblem] = []
    for name, raw in pairs:
        if not name.startswith(FIELD_PREFIX):
            continue
        question = survey.question(name[len(FIELD_PREFIX) :])
        if question is None:
            problems.append(AnswerProblem(name[:40], "This survey has no such question."))
            continue
        if question.id in answers:
            problems.append(AnswerProblem(name, "Give one answer per question."))
            continue
        value = (raw or "").replace("\r\n", "\n").strip()
        if not value:
            continue
        problem = _answer_problem(question, value)
        if problem:
            problems.append(AnswerProblem(question.field, problem))
        else:
            answers[question.id] = value
    if not answers and not problems:
        problems.append(AnswerProblem("survey", "Answer at least one question."))
    return ({} if problems else answers), problems


def _answer_problem(question: Question, value: str) -> str | None:
    if question.kind == "scale":
        if not value.isdigit() or len(value) > 2 or int(value) not in question.points:
            return f"Choose a number from {question.low} to {question.high}."
        return None
    if question.kind == "choice":
        return None if value in question.choices else "Choose one of the options shown."
    if len(value) > MAX_ANSWER:
        return f"Your answer has {len(value):,} characters; please keep it under {MAX_ANSWER:,}."
    if "\x00" in value:
        return "Your answer contains characters we cannot store."
    return None
