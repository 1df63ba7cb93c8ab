"""A narrow-cast survey's results: counts per answer, a chart per question, the
free-text answers a page at a time, and a CSV export.

Questions are those of the survey's latest revision; answers to a question a later
revision dropped are still counted, under "no longer asked". Customers' words are
plain text: pages escape them, and the CSV export defuses cells a spreadsheet would
read as a formula.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

import pygal
from pygal.style import Style
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content.surveys import Question, QuestionKind
from studio.models import Artifact, SurveyAnswer, SurveyResponse
from studio.services import artifacts, survey_library, svg_charts
from studio.services.pagination import Page, clamp

TEXTS_PER_PAGE: Final = 20
MAX_EXPORT_ROWS: Final = 100_000
_FORMULA: Final = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class TextAnswer:
    value: str
    answered_at: object


@dataclass
class QuestionResult:
    question: Question
    current: bool
    answers: int = 0
    counts: list[tuple[str, int]] = field(default_factory=list)
    texts: Page[TextAnswer] | None = None

    @property
    def charted(self) -> bool:
        return self.question.kind in ("scale", "choice")

    @property
    def average(self) -> float | None:
        if self.question.kind != "scale" or not self.answers:
            return None
        return sum(int(v) * n for v, n in self.counts) / self.answers


@dataclass(frozen=True)
class SurveyReport:
    key: str
    title: str
    responses: int
    questions: list[QuestionResult]


def _questions(session: Session, artifact: Artifact) -> list[Question]:
    survey = survey_library.survey_of(artifact.key, artifacts.head(session, artifact).body)
    return list(survey.questions) if survey is not None else []


def _all_questions(session: Session, artifact: Artifact) -> list[tuple[Question, bool]]:
    """The current questions, then any answered question a later revision dropped."""
    current = _questions(session, artifact)
    known = {q.id for q in current}
    earlier = session.execute(
        select(SurveyAnswer.question_id, SurveyAnswer.kind)
        .where(SurveyAnswer.survey_key == artifact.key)
        .group_by(SurveyAnswer.question_id, SurveyAnswer.kind)
        .order_by(SurveyAnswer.question_id)
    ).all()
    out = [(q, True) for q in current]
    for question_id, kind in earlier:
        if question_id not in known:
            known.add(question_id)
            stored_kind: QuestionKind = (
                "text" if kind == "text" else "choice" if kind == "choice" else "scale"
            )
            out.append(
                (
                    Question(
                        question_id,
                        stored_kind,
                        f"Question {question_id} (no longer asked)",
                        low=0,
                        high=10,
                    ),
                    False,
                )
            )
    return out


def report(
    session: Session, artifact: Artifact, *, text_page: int = 1, question: str = ""
) -> SurveyReport:
    """Counts per question; free text paged (`text_page` applies to `question`, or to the
    first free-text question when none is named)."""
    responses = (
        session.scalar(
            select(func.count())
            .select_from(SurveyResponse)
            .where(SurveyResponse.survey_key == artifact.key)
        )
        or 0
    )
    counted: dict[str, dict[str, int]] = defaultdict(dict)
    for question_id, value, count in session.execute(
        select(SurveyAnswer.question_id, SurveyAnswer.value, func.count())
        .where(SurveyAnswer.survey_key == artifact.key, SurveyAnswer.kind != "text")
        .group_by(SurveyAnswer.question_id, SurveyAnswer.value)
    ):
        counted[question_id][value] = count
    results = []
    questions = _all_questions(session, artifact)
    paged = question or next((q.id for q, _ in questions if q.kind == "text"), "")
    for q, current in questions:
        result = QuestionResult(q, current)
        if q.kind == "text":
            result.texts = _texts(session, artifact.key, q.id, text_page if q.id == paged else 1)
            result.answers = result.texts.total
        else:
            found = counted.get(q.id, {})
            options = (
                [str(p) for p in q.points]
                if q.kind == "scale" and current
                else list(q.choices)
                if current
                else []
            )
            options += sorted(v for v in found if v not in options)
            result.counts = [(option, found.get(option, 0)) for option in options]
            result.answers = sum(found.values())
        results.append(result)
    return SurveyReport(artifact.key, artifact.name, responses, results)


def _texts(session: Session, key: str, question_id: str, page: int) -> Page[TextAnswer]:
    where = (
        SurveyAnswer.survey_key == key,
        SurveyAnswer.question_id == question_id,
        SurveyAnswer.kind == "text",
    )
    total = session.scalar(select(func.count()).select_from(SurveyAnswer).where(*where)) or 0
    page = clamp(page, total=total, per_page=TEXTS_PER_PAGE)
    rows = session.execute(
        select(SurveyAnswer.value, SurveyResponse.created_at)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(*where)
        .order_by(SurveyResponse.created_at.desc(), SurveyAnswer.id.desc())
        .offset((page - 1) * TEXTS_PER_PAGE)
        .limit(TEXTS_PER_PAGE)
    ).all()
    return Page(
        items=[TextAnswer(value, at) for value, at in rows],
        page=page,
        per_page=TEXTS_PER_PAGE,
        total=total,
    )


def chart(session: Session, artifact: Artifact, question_id: str) -> str | None:
    """An SVG bar chart of one scale or choice question's counts; None for any other id."""
    found = next(
        (
            r
            for r in report(session, artifact).questions
            if r.question.id == question_id and r.charted
        ),
        None,
    )
    if found is None:
        return None
    style = Style(
        background="white",
        plot_background="white",
        foreground="#1d2433",
        foreground_strong="#1d2433",
        foreground_subtle="#6b7488",
        colors=("#3b5bdb",),
        font_family="sans-serif",
    )
    horizontal = found.question.kind == "choice"
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    plot = kind(
        style=style,
        js=[],
        width=640,
        height=max(220, 40 * len(found.counts) + 90) if horizontal else 300,
        show_legend=False,
        print_values=True,
        show_y_guides=not horizontal,
    )
    plot.title = found.question.label[:80]
    plot.x_labels = [label[:40] for label, _ in found.counts]
    plot.add("answers", [count for _, count in found.counts])
    # pygal writes a config <script> even with js=[]: the chart is shown as an <img>,
    # where scripts never run, and a chart with no script is one less thing to trust.
    return svg_charts.render(plot, counts=True)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def csv_export(session: Session, artifact: Artifact, *, limit: int = MAX_EXPORT_ROWS) -> str:
    """One row per response, one column per question, newest first."""
    questions = [q for q, _ in _all_questions(session, artifact)]
    limit = max(1, min(limit, MAX_EXPORT_ROWS))
    responses = session.execute(
        select(
            SurveyResponse.id,
            SurveyResponse.created_at,
            SurveyResponse.message_id,
            SurveyResponse.bundle_version,
            SurveyResponse.rule,
        )
        .where(SurveyResponse.survey_key == artifact.key)
        .order_by(SurveyResponse.created_at.desc(), SurveyResponse.id.desc())
        .limit(limit)
    ).all()
    answers: dict[int, dict[str, str]] = defaultdict(dict)
    ids = [r.id for r in responses]
    for start in range(0, len(ids), 500):
        for response_id, question_id, value in session.execute(
            select(SurveyAnswer.response_id, SurveyAnswer.question_id, SurveyAnswer.value).where(
                SurveyAnswer.response_id.in_(ids[start : start + 500])
            )
        ):
            answers[response_id][question_id] = value
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "response",
            "answered_at",
            "message",
            "bundle_version",
            "rule",
            *[f"{q.id}: {q.label}" for q in questions],
        ]
    )
    for row in responses:
        given = answers.get(row.id, {})
        writer.writerow(
            [
                row.id,
                _aware(row.created_at).isoformat() if row.created_at else "",
                row.message_id,
                row.bundle_version or "",
                _cell(row.rule),
                *[_cell(given.get(q.id, "")) for q in questions],
            ]
        )
    return out.getvalue()


def _aware(at: datetime) -> datetime:
    """`at` with its time zone: SQLite hands back the stored UTC time without one, and
    every other export writes `+00:00`."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)
