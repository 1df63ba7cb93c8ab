"""Attribution, trends and exports, read from the rollups (never from raw rows).

- `attribution`: per offer, and per rule making it, the treatment arm against the
  holdout arm: decisions, acceptance, decline and complaint rates per decision, the
  difference with its 95% interval and a verdict (`studio.services.lift`), and value per
  decision where accepted events carry values (ARPU lift: treatment minus holdout).
- `trend`: decisions and acceptance per day or week, split by offer, channel,
  category, bundle version or rule; `trend_chart` draws it as SVG (pygal, no script).
- `export`: the tables behind the page (the rolled-up table, the raw decision log, the
  raw event log), as streamed rows with typed columns, for CSV and Parquet export to
  BI tools.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

import pygal
from pygal.style import Style
from sqlalchemy import String, case, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from studio.models import Decision, DecisionRollup, FeedbackEvent, OfferRollup
from studio.services import lift, svg_charts
from studio.services.analytics import Window

DIMENSIONS: Final = {
    "offer": DecisionRollup.offer_key,
    "channel": DecisionRollup.channel,
    "category": DecisionRollup.category,
    "bundle": DecisionRollup.bundle_version,
    "rule": DecisionRollup.rule,
}
GRAINS: Final = ("day", "week")
MEASURES: Final = ("decisions", "shown", "accepted", "declined", "complaints", "value_cents")


@dataclass(frozen=True)
class Filters:
    offer: str = ""
    channel: str = ""
    category: str = ""
    bundle: int | None = None

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        bundle = str(args.get("bundle", "")).strip()
        return cls(
            offer=str(args.get("offer", ""))[:64],
            channel=str(args.get("channel", ""))[:32],
            category=str(args.get("category", ""))[:32],
            bundle=int(bundle) if bundle.isdigit() and len(bundle) < 10 else None,
        )

    @property
    def table(self) -> type[DecisionRollup] | type[OfferRollup]:
        """The rollup table to read: `offer_rollups` (summed over channel, category and
        bundle, far fewer rows) unless one of those is filtered on."""
        if self.channel or self.category or self.bundle is not None:
            return DecisionRollup
        return OfferRollup

    def where(self, window: Window, table: Any = None) -> list[Any]:
        table = table or self.table
        out = [table.day >= window.start, table.day <= window.end]
        if self.offer:
            out.append(table.offer_key == self.offer)
        if self.channel:
            out.append(DecisionRollup.channel == self.channel)
        if self.category:
            out.append(DecisionRollup.category == self.category)
        if self.bundle is not None:
            out.append(DecisionRollup.bundle_version == self.bundle)
        return out


@dataclass
class Arm:
    decisions: int = 0
    shown: int = 0
    accepted: int = 0
    declined: int = 0
    complaints: int = 0
    value_cents: int = 0

    def add(self, values: dict[str, int]) -> None:
        for name in MEASURES:
            setattr(self, name, getattr(self, name) + int(values.get(name) or 0))


@dataclass
class Line:
    """One offer (rule empty) or one rule making an offer, treatment against holdout."""

    offer_key: str
    ruleset: str = ""
    rule: str = ""
    treatment: Arm = field(default_factory=Arm)
    holdout: Arm = field(default_factory=Arm)

    def compare(self, measure: str) -> lift.Comparison:
        return lift.compare(
            getattr(self.treatment, measure),
            self.treatment.decisions,
            getattr(self.holdout, measure),
            self.holdout.decisions,
            higher_is_better=measure == "accepted",
        )

    @property
    def acceptance(self) -> lift.Comparison:
        return self.compare("accepted")

    @property
    def declines(self) -> lift.Comparison:
        return self.compare("declined")

    @property
    def complaints(self) -> lift.Comparison:
        return self.compare("complaints")

    @property
    def arpu_lift_cents(self) -> float | None:
        """Value per decision, treatment minus holdout, when values were reported."""
        if not (self.treatment.value_cents or self.holdout.value_cents):
            return None
        if not self.treatment.decisions or not self.holdout.decisions:
            return None
        return (
            self.treatment.value_cents / self.treatment.decisions
            - self.holdout.value_cents / self.holdout.decisions
        )

    @property
    def scale_up(self) -> bool:
        return (
            self.acceptance.verdict == "better than holdout"
            and self.complaints.verdict != "worse than holdout"
        )


@dataclass(frozen=True)
class Attribution:
    offers: list[Line]
    rules: list[Line]


def attribution(session: Session, window: Window, filters: Filters) -> Attribution:
    table = filters.table
    stmt = (
        select(
            table.offer_key,
            table.ruleset,
            table.rule,
            table.arm,
            *(func.sum(getattr(table, m)) for m in MEASURES),
        )
        .where(*filters.where(window))
        .group_by(table.offer_key, table.ruleset, table.rule, table.arm)
    )
    offers: dict[str, Line] = {}
    rules: dict[tuple[str, str, str], Line] = {}
    for offer_key, ruleset, rule, arm, *sums in session.execute(stmt):
        values = dict(zip(MEASURES, sums, strict=True))
        for line in (
            offers.setdefault(offer_key, Line(offer_key)),
            rules.setdefault((offer_key, ruleset, rule), Line(offer_key, ruleset, rule)),
        ):
            (line.treatment if arm == "treatment" else line.holdout).add(values)
    order = sorted(offers.values(), key=lambda line: (-line.treatment.decisions, line.offer_key))
    return Attribution(
        order, sorted(rules.values(), key=lambda line: (line.offer_key, line.ruleset, line.rule))
    )


def offer_keys(session: Session) -> list[str]:
    """Every offer a logged decision made or held out, for the page's offer filter: read
    from `offer_rollups` (days x offer-rule pairs x arms, whatever the number of
    decisions), not from the far larger `decision_rollups`."""
    return list(
        session.scalars(
            select(OfferRollup.offer_key)
            .where(OfferRollup.offer_key != "")
            .distinct()
            .order_by(OfferRollup.offer_key)
        )
    )


@dataclass(frozen=True)
class Trend:
    grain: str
    dimension: str
    periods: list[date]
    series: dict[str, dict[date, tuple[int, int]]]  # label -> period -> (decisions, accepted)


def _period(day: date, grain: str) -> date:
    return day - timedelta(days=day.weekday()) if grain == "week" else day


def trend(
    session: Session,
    window: Window,
    filters: Filters,
    *,
    dimension: str = "offer",
    grain: str = "day",
) -> Trend:
    dimension = dimension if dimension in DIMENSIONS else "offer"
    grain = grain if grain in GRAINS else "day"
    table = filters.table if dimension in ("offer", "rule") else DecisionRollup
    column = getattr(table, DIMENSIONS[dimension].key)
    stmt = (
        select(table.day, column, func.sum(table.decisions), func.sum(table.accepted))
        .where(*filters.where(window, table), table.arm == "treatment")
        .group_by(table.day, column)
    )
    series: dict[str, dict[date, tuple[int, int]]] = {}
    for day, label, decisions, accepted in session.execute(stmt):
        name = (f"v{label}" if dimension == "bundle" else str(label)) or "–"
        period = _period(day, grain)
        before = series.setdefault(name, {}).get(period, (0, 0))
        series[name][period] = (before[0] + int(decisions or 0), before[1] + int(accepted or 0))
    periods = []
    cursor = _period(window.start, grain)
    while cursor <= window.end:
        periods.append(cursor)
        cursor += timedelta(days=7 if grain == "week" else 1)
    return Trend(grain, dimension, periods, series)


def trend_chart(found: Trend, *, top: int = 8) -> str:
    """Acceptance per 100 decisions over time, one line per label (the busiest `top`)."""
    style = Style(
        background="white",
        plot_background="white",
        foreground="#1d2433",
        foreground_strong="#1d2433",
        foreground_subtle="#6b7488",
        font_family="sans-serif",
    )
    chart = pygal.Line(
        style=style,
        js=[],
        width=760,
        height=320,
        legend_at_bottom=True,
        x_label_rotation=30,
        show_minor_x_labels=False,
        allow_interruptions=True,
        # From 0: an axis from 5% to 9% made a fall from 9.6% to 5.3% look like a crash.
        include_x_axis=True,
        truncate_legend=-1,
        legend_at_bottom_columns=2,
        value_formatter=lambda v: f"{v:.1f}%",
        no_data_text=f"No {found.grain} has 5 or more decisions yet",
    )
    chart.title = f"Accepted per 100 decisions, by {found.dimension}, per {found.grain}"
    chart.x_labels = [p.isoformat() for p in found.periods]
    chart.x_labels_major = chart.x_labels[:: max(1, len(found.periods) // 8)]
    busiest = sorted(found.series.items(), key=lambda kv: -sum(d for d, _ in kv[1].values()))
    for label, points in busiest[:top]:
        values = []
        for period in found.periods:
            decisions, accepted = points.get(period, (0, 0))
            # A period with fewer than 5 decisions is left as a gap, not drawn as 0% or 100%.
            values.append(round(accepted * 100 / decisions, 1) if decisions >= 5 else None)
        if any(value is not None for value in values):  # all gaps: nothing to draw or name
            chart.add(label[:80], values)
    return svg_charts.render(chart)


ROLLUP_COLUMNS: Final = (
    "day",
    "offer_key",
    "ruleset",
    "rule",
    "channel",
    "category",
    "bundle_version",
    "arm",
    *MEASURES,
)
DECISION_COLUMNS: Final = (
    "decision_id",
    "decided_at",
    "source",
    "bundle_version",
    "channel",
    "category",
    "tone",
    "customer_hash",
    "offers",
    "holdouts",
    "guards",
    "withheld",
)
EVENT_COLUMNS: Final = (
    "event_id",
    "at",
    "type",
    "offer_key",
    "decision_id",
    "channel",
    "category",
    "bundle_version",
    "score",
    "value_cents",
)
#: Each export's columns that are not text (for Parquet's typed columns).
KINDS: Final = {
    "rollups": {"day": "date", "bundle_version": "int", **{m: "int" for m in MEASURES}},
    "decisions": {"decided_at": "timestamp", "bundle_version": "int"},
    "events": {
        "at": "timestamp",
        "bundle_version": "int",
        "score": "float",
        "value_cents": "int",
    },
}
_BATCH: Final = 5000
_PIECE: Final = 256 * 1024


@dataclass(frozen=True)
class Export:
    """One table for BI tools: its name, columns, column kinds and rows (streamed from
    the database `_BATCH` rows at a time, so memory stays bounded)."""

    name: str
    columns: tuple[str, ...]
    kinds: dict[str, str]
    rows: Iterator[list[Any]]
    #: The same rows as CSV text (no header), in pieces, made by the database where it
    #: can (`rollup_csv`); None: the CSV is written from `rows`.
    csv_text: Callable[[], Iterator[str]] | None = None


def export(session: Session, table: str, window: Window, filters: Filters) -> Export:
    """The rolled-up table (filtered), or the raw decision or event log for the window."""
    if table == "decisions":
        return Export(table, DECISION_COLUMNS, KINDS[table], raw_decisions(session, window))
    if table == "events":
        return Export(table, EVENT_COLUMNS, KINDS[table], raw_events(session, window))
    return Export(
        "rollups",
        ROLLUP_COLUMNS,
        KINDS["rollups"],
        rollup_rows(session, window, filters),
        lambda: rollup_csv(session, window, filters),
    )


def _bounds(window: Window) -> tuple[datetime, datetime]:
    return (
        datetime.combine(window.start, time.min, tzinfo=UTC),
        datetime.combine(window.end + timedelta(days=1), time.min, tzinfo=UTC),
    )


def rollup_rows(session: Session, window: Window, filters: Filters) -> Iterator[list[Any]]:
    stmt = (
        select(*(getattr(DecisionRollup, c) for c in ROLLUP_COLUMNS))
        .where(*filters.where(window, DecisionRollup))
        .order_by(DecisionRollup.day, DecisionRollup.offer_key, DecisionRollup.id)
    )
    for row in session.execute(stmt.execution_options(yield_per=_BATCH)):
        yield list(row)


#: A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def rollup_csv(session: Session, window: Window, filters: Filters) -> Iterator[str]:
    """`rollup_rows` as CSV text (no header), in pieces, with no Python step per row or
    cell: a text cell that starts like a formula is quoted in SQL (a leading ``'``) and
    an empty one written empty, the day is the database's own ISO text, and
    PostgreSQL writes the CSV itself (``COPY ... TO STDOUT``); elsewhere the csv module
    writes the driver's rows in batches of `_BATCH`. Lines end with ``\n``, as every
    analytics CSV's do. A 155,000-row export took seconds converting cells one by one;
    a test checks the text is the same as that conversion's."""
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    columns = []
    for name in ROLLUP_COLUMNS:
        column = getattr(DecisionRollup, name)
        kind = KINDS["rollups"].get(name)
        if kind is None:  # text: quoted when it starts like a formula, '' as empty
            column = func.nullif(
                case(
                    (func.substr(column, 1, 1).in_(FORMULA_STARTS), literal("'") + column),
                    else_=column,
                ),
                "",
            )
        elif kind == "date":  # written as stored: no date object made and printed back
            column = func.to_char(column, "YYYY-MM-DD") if postgres else type_coerce(column, String)
        columns.append(column.label(name))
    stmt = (
        select(*columns)
        .where(*filters.where(window, DecisionRollup))
        .order_by(DecisionRollup.day, DecisionRollup.offer_key, DecisionRollup.id)
    )
    if postgres:
        compiled = stmt.compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        cursor = connection.connection.cursor()
        try:
            with cursor.copy(
                f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)", compiled.params
            ) as copy:
                # COPY answers a message per row: gathered into pieces of about
                # `_PIECE` bytes, or the response would stream 100,000 tiny chunks.
                piece, size = [], 0
                for data in copy:
                    piece.append(bytes(data))
                    size += len(data)
                    if size >= _PIECE:
                        yield b"".join(piece).decode()
                        piece, size = [], 0
                yield b"".join(piece).decode()
        finally:
            cursor.close()
        return
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # Core, not the ORM: rows come straight from the driver's cursor.
    for batch in connection.execute(stmt.execution_options(yield_per=_BATCH)).partitions():
        writer.writerows(batch)
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def _offers(entries: Any) -> str:
    return ";".join(str(o.get("offer")) for o in entries or () if isinstance(o, dict))


def raw_decisions(session: Session, window: Window) -> Iterator[list[Any]]:
    start, end = _bounds(window)
    stmt = (
        select(
            Decision.id,
            Decision.decided_at,
            Decision.source,
            Decision.bundle_version,
            Decision.channel,
            Decision.category,
            Decision.tone,
            Decision.customer_hash,
            Decision.offers,
            Decision.holdouts,
            Decision.guards,
            Decision.withheld,
        )
        .where(Decision.decided_at >= start, Decision.decided_at < end)
        .order_by(Decision.decided_at, Decision.id)
    )
    for d in session.execute(stmt.execution_options(yield_per=_BATCH)):
        yield [
            d.id,
            d.decided_at,
            d.source,
            d.bundle_version,
            d.channel,
            d.category,
            d.tone,
            d.customer_hash,
            _offers(d.offers),
            _offers(d.holdouts),
            ";".join(
                f"{g.get('ruleset')}:{g.get('line')}" for g in d.guards or () if isinstance(g, dict)
            ),
            ";".join(
                f"{w.get('offer')}@{w.get('line')}" for w in d.withheld or () if isinstance(w, dict)
            ),
        ]


def raw_events(session: Session, window: Window) -> Iterator[list[Any]]:
    start, end = _bounds(window)
    stmt = (
        select(
            FeedbackEvent.event_id,
            FeedbackEvent.at,
            FeedbackEvent.type,
            FeedbackEvent.offer_key,
            FeedbackEvent.decision_id,
            FeedbackEvent.channel,
            FeedbackEvent.category,
            FeedbackEvent.bundle_version,
            FeedbackEvent.score,
            FeedbackEvent.value_cents,
        )
        .where(FeedbackEvent.at >= start, FeedbackEvent.at < end)
        .order_by(FeedbackEvent.at, FeedbackEvent.id)
    )
    for e in session.execute(stmt.execution_options(yield_per=_BATCH)):
        row = list(e)
        row[4] = row[4] or ""
        yield row
