"""How offers perform: feedback events rolled up per offer x inquiry category x channel
x bundle version, with rates a marketer can compare at a glance. The counts come from
`event_rollups` (`studio.services.event_rollups`), kept as events arrive.

Rates are relative to `shown`: an offer shown 200 times and accepted 30 times has a 15%
acceptance rate. NPS is the share of promoters (9-10) minus detractors (0-6) among the
NPS answers that name the offer, or among all answers for the overall figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pygal
from pygal.style import Style
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.errors import FieldError
from studio.models import EventRollup
from studio.services import date_range, svg_charts
from studio.services.lift import MIN_ARM

COUNTED = ("shown", "clicked", "accepted", "declined", "complaint")
MAX_DAYS = 366


@dataclass(frozen=True)
class Window:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass
class Row:
    offer_key: str
    category: str
    channel: str
    bundle_version: int | None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED, 0))
    promoters: int = 0
    detractors: int = 0
    answers: int = 0

    def rate(self, kind: str) -> float | None:
        shown = self.counts["shown"]
        return self.counts[kind] / shown if shown else None

    @property
    def small(self) -> bool:
        """Shown too few times for its rates to mean much (the lift page's arm minimum):
        counts are shown, not rates or bars."""
        return self.counts["shown"] < MIN_ARM

    @property
    def nps(self) -> float | None:
        return (self.promoters - self.detractors) * 100 / self.answers if self.answers else None

    @property
    def nps_small(self) -> bool:
        return self.answers < MIN_ARM


@dataclass(frozen=True)
class Report:
    window: Window
    rows: list[Row]
    offers: list[Row]
    total_events: int
    overall_nps: float | None
    nps_answers: int
    offer_keys: list[str]


@dataclass(frozen=True)
class ChosenWindow:
    """The window a page shows for the From/To someone asked for, and what was changed on
    the way: `problems` name a day that is not a date and what was used instead,
    `notices` say a swap or a shortening. Both are empty when the window is as asked."""

    window: Window
    problems: tuple[FieldError, ...] = ()
    notices: tuple[str, ...] = ()


def window_from(start: str | None, end: str | None, *, today: date | None = None) -> Window:
    """The window asked for, or the last 30 days; silly input falls back, never raises.
    The same window as `choose_window` (which also says what it changed)."""
    return choose_window(start, end, today=today).window


def choose_window(start: str | None, end: str | None, *, today: date | None = None) -> ChosenWindow:
    """The window for a From (`start`) and To (`end`), each YYYY-MM-DD or empty.

    An empty To is today and an empty From the 30 days up to To; a day that is not a date
    is treated as empty and named in `problems`. A From after To is swapped. A window
    longer than `MAX_DAYS` is shortened to the `MAX_DAYS` of it nearest today: the ones
    ending on To when To is today or earlier, the ones from From when From is less than
    `MAX_DAYS` before today, otherwise the ones ending today (so `1900-01-01` to
    `2999-12-31` shows the last year rather than an empty year in 2999)."""
    today = today or datetime.now(UTC).date()
    problems: list[FieldError] = []
    notices: list[str] = []
    asked_end = date_range.day(end, "To", problems)
    parsed_end = asked_end or today
    if problems:
        problems[-1] = replace(problems[-1], hint=f"Showing up to today, {today}, instead.")
    asked_start = date_range.day(start, "From", problems)
    parsed_start = asked_start or _plus(parsed_end, -29)
    if start and asked_start is None:
        problems[-1] = replace(
            problems[-1], hint=f"Showing from {parsed_start} (the 30 days up to To) instead."
        )
    if parsed_start > parsed_end:
        parsed_start, parsed_end = parsed_end, parsed_start
        notices.append(date_range.swapped(parsed_start, parsed_end, doing="showing"))
    days = (parsed_end - parsed_start).days + 1
    if days > MAX_DAYS:
        last = min(parsed_end, max(today, _plus(parsed_start, MAX_DAYS - 1)))
        first = _plus(last, 1 - MAX_DAYS)
        kept = (
            "ending on To"
            if last == parsed_end
            else "from From"
            if first == parsed_start
            else "ending today"
        )
        notices.append(
            f"{parsed_start} to {parsed_end} is {days:,} days, longer than the {MAX_DAYS} "
            f"days allowed, so it was shortened to the {MAX_DAYS} days {kept}: "
            f"showing {first} to {last}."
        )
        parsed_start, parsed_end = first, last
    return ChosenWindow(Window(parsed_start, parsed_end), tuple(problems), tuple(notices))


def _plus(day: date, days: int) -> date:
    """`day` moved by `days`, held at the first or last day a date can be."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def report(session: Session, window: Window, *, offer_key: str = "") -> Report:
    """The events in the window (inclusive), optionally for one offer, summed from
    `event_rollups` (kept as events arrive), never from the event log itself."""
    stmt = (
        select(
            EventRollup.offer_key,
            EventRollup.category,
            EventRollup.channel,
            EventRollup.bundle_version,
            EventRollup.type,
            func.sum(EventRollup.events),
            func.sum(EventRollup.promoters),
            func.sum(EventRollup.detractors),
            func.sum(EventRollup.answers),
        )
        .where(EventRollup.day >= window.start, EventRollup.day <= window.end)
        .group_by(
            EventRollup.offer_key,
            EventRollup.category,
            EventRollup.channel,
            EventRollup.bundle_version,
            EventRollup.type,
        )
    )
    if offer_key:
        stmt = stmt.where(EventRollup.offer_key == offer_key)
    groups: dict[tuple, Row] = {}
    by_offer: dict[str, Row] = {}
    overall = Row("", "", "", None)
    total = 0
    for key, category, channel, stored_version, kind, count, *nps in session.execute(stmt):
        total += count
        if kind == "nps":
            _add_nps(overall, *nps)
        if not key:
            continue
        version = stored_version or None  # 0 stands for "no bundle named"
        row = groups.setdefault(
            (key, category, channel, version), Row(key, category, channel, version)
        )
        offer = by_offer.setdefault(key, Row(key, "", "", None))
        for target in (row, offer):
            if kind in COUNTED:
                target.counts[kind] += count
            elif kind == "nps":
                _add_nps(target, *nps)
    rows = sorted(
        groups.values(), key=lambda r: (r.offer_key, r.category, r.channel, r.bundle_version or 0)
    )
    offers = sorted(by_offer.values(), key=lambda r: (-r.counts["shown"], r.offer_key))
    keys = list(
        session.scalars(
            select(EventRollup.offer_key)
            .where(EventRollup.offer_key != "")
            .distinct()
            .order_by(EventRollup.offer_key)
        )
    )
    return Report(
        window=window,
        rows=rows,
        offers=offers,
        total_events=total,
        overall_nps=overall.nps,
        nps_answers=overall.answers,
        offer_keys=keys,
    )


def _add_nps(row: Row, promoters: int, detractors: int, answers: int) -> None:
    row.promoters += promoters
    row.detractors += detractors
    row.answers += answers


def acceptance_chart(report: Report) -> str:
    """An SVG bar chart of acceptance and complaint rates per offer (server-side, no JS)."""
    style = Style(
        background="white",
        plot_background="white",
        foreground="#1d2433",
        foreground_strong="#1d2433",
        foreground_subtle="#6b7488",
        colors=("#3b5bdb", "#c0362c"),
        font_family="sans-serif",
    )
    chart = pygal.HorizontalBar(
        style=style,
        js=[],
        width=760,
        height=max(220, 46 * len(report.offers) + 90),
        legend_at_bottom=True,
        print_values=False,
        value_formatter=lambda v: f"{v:.1f}%",
        show_y_guides=False,
    )
    chart.title = "Accepted and complaints, per 100 shown"
    offers = report.offers[:20]
    # An offer shown fewer than MIN_ARM times gets no bar (pygal leaves None out), and its
    # label says why: 1 acceptance in 2 shown is not a 50% bar.
    chart.x_labels = [
        f"{row.offer_key} ({row.counts['shown']} shown: small sample)"
        if row.small
        else row.offer_key
        for row in offers
    ]
    for name, kind in (("accepted", "accepted"), ("complaints", "complaint")):
        chart.add(
            name,
            [None if row.small else round((row.rate(kind) or 0) * 100, 1) for row in offers],
        )
    # pygal writes a config <script> even with js=[]; the chart is shown as an <img>, where
    # scripts never run, but a chart with no script at all is one less thing to trust.
    return svg_charts.render(chart)
