"""Analytics rolls feedback events up into the rates marketers compare."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask

from studio.services import analytics, events
from tests.factories import make_user, sign_in_as

DAY = datetime(2026, 11, 10, 12, tzinfo=UTC)


def _ingest(session, batch: list[dict]) -> None:
    """Store events the way they arrive (`/api/v1/events`), which keeps the rollups."""
    report = events.ingest(session, {"events": batch})
    assert isinstance(report, events.IngestReport) and report.count("stored") == len(batch)
    session.commit()


def _events(session, offer: str, channel: str, **counts: int) -> None:
    _ingest(
        session,
        [
            {
                "event_id": f"{offer}-{channel}-{kind}-{n}",
                "type": kind,
                "offer_key": offer,
                "category": "transactional",
                "channel": channel,
                "bundle_version": 3,
                "at": DAY.isoformat(),
            }
            for kind, count in counts.items()
            for n in range(count)
        ],
    )


def _nps(session, *scores: int) -> None:
    _ingest(
        session,
        [
            {
                "event_id": f"nps-{n}",
                "type": "nps",
                "offer_key": "refill_savings",
                "score": score,
                "at": DAY.isoformat(),
            }
            for n, score in enumerate(scores)
        ],
    )


WINDOW = analytics.Window(date(2026, 11, 1), date(2026, 11, 30))


def test_rates_are_per_shown_and_split_by_channel(session) -> None:
    _events(session, "refill_savings", "sms", shown=20, accepted=5, complaint=1)
    _events(session, "refill_savings", "chat", shown=10, declined=4)
    report = analytics.report(session, WINDOW)
    sms = next(r for r in report.rows if r.channel == "sms")
    assert sms.rate("accepted") == 0.25 and sms.rate("complaint") == 0.05
    assert sms.bundle_version == 3
    offer = report.offers[0]
    assert offer.counts["shown"] == 30 and offer.rate("declined") == pytest.approx(4 / 30)


def test_nps_counts_promoters_minus_detractors(session) -> None:
    _nps(session, 10, 9, 8, 3)
    report = analytics.report(session, WINDOW)
    assert report.overall_nps == pytest.approx(25.0)
    assert report.nps_answers == 4


def test_events_outside_the_window_are_left_out(session) -> None:
    _events(session, "refill_savings", "sms", shown=3)
    october = analytics.Window(date(2026, 10, 1), date(2026, 10, 31))
    assert analytics.report(session, october).total_events == 0


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, (date(2026, 10, 24), date(2026, 11, 22))),
        ("2026-11-30", "2026-11-01", (date(2026, 11, 1), date(2026, 11, 30))),
        ("garbage", "2026-11-22", (date(2026, 10, 24), date(2026, 11, 22))),
        ("2000-01-01", "2026-11-22", (date(2025, 11, 22), date(2026, 11, 22))),
    ],
)
def test_window_falls_back_to_something_sensible(start, end, expected) -> None:
    window = analytics.window_from(start, end, today=date(2026, 11, 22))
    assert (window.start, window.end) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected", "kept"),
    [
        ("2000-01-01", "2026-11-22", (date(2025, 11, 22), date(2026, 11, 22)), "ending on To"),
        ("1900-01-01", "2999-12-31", (date(2025, 11, 22), date(2026, 11, 22)), "ending today"),
        ("2026-06-01", "2999-12-31", (date(2026, 6, 1), date(2027, 6, 1)), "from From"),
        ("9999-12-31", "0001-01-01", (date(2025, 11, 22), date(2026, 11, 22)), "ending today"),
    ],
)
def test_a_window_longer_than_allowed_is_shortened_nearest_today_and_said_so(
    start, end, expected, kept
) -> None:
    chosen = analytics.choose_window(start, end, today=date(2026, 11, 22))
    assert (chosen.window.start, chosen.window.end) == expected
    assert chosen.window.days == analytics.MAX_DAYS
    [*_swapped, shortened] = chosen.notices
    assert f"longer than the 366 days allowed, so it was shortened to the 366 days {kept}" in (
        shortened
    )
    assert f"showing {expected[0]} to {expected[1]}." in shortened


def test_a_window_as_asked_comes_with_nothing_to_say() -> None:
    for start, end in (("2026-11-01", "2026-11-30"), (None, None), ("", "")):
        chosen = analytics.choose_window(start, end, today=date(2026, 11, 22))
        assert not chosen.problems and not chosen.notices


def test_a_day_that_is_not_a_date_is_named_with_what_was_used_instead() -> None:
    chosen = analytics.choose_window("abc", "2026-11-30x", today=date(2026, 11, 22))
    assert (chosen.window.start, chosen.window.end) == (date(2026, 10, 24), date(2026, 11, 22))
    by_field = {p.field: f"{p.message} {p.hint}" for p in chosen.problems}
    assert by_field == {
        "From": "abc is not a date; write it like 2026-11-30. "
        "Showing from 2026-10-24 (the 30 days up to To) instead.",
        "To": "2026-11-30x is not a date; write it like 2026-11-30. "
        "Showing up to today, 2026-11-22, instead.",
    }


def test_reversed_dates_are_swapped_said_so_and_shown_in_the_inputs(app: Flask, session) -> None:
    _events(session, "refill_savings", "sms", shown=20, accepted=5)
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    html = client.get("/analytics/?start=2026-12-01&end=2026-11-10").get_data(as_text=True)
    assert "From was after To, so the dates were swapped: showing 2026-11-10 to 2026-12-01." in html
    assert 'id="f-start" type="date" name="start" value="2026-11-10"' in html
    assert 'id="f-end" type="date" name="end" value="2026-12-01"' in html
    assert "events, 22 days" in html
    assert "chart.svg?start=2026-11-10&amp;end=2026-12-01" in html
    in_order = client.get("/analytics/?start=2026-11-10&end=2026-12-01").get_data(as_text=True)
    assert "swapped" not in in_order and "alert" not in in_order


def test_htmx_brings_the_dates_shown_along_only_when_they_changed(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    htmx = {"HX-Request": "true"}
    swapped = client.get("/analytics/?start=2026-12-01&end=2026-11-10", headers=htmx)
    html = swapped.get_data(as_text=True)
    assert "<html" not in html and "dates were swapped" in html
    assert 'id="f-start" type="date" name="start" value="2026-11-10" hx-swap-oob="true"' in html
    assert 'id="f-end" type="date" name="end" value="2026-12-01" hx-swap-oob="true"' in html
    as_asked = client.get("/analytics/?start=2026-11-10&end=2026-12-01", headers=htmx)
    assert "hx-swap-oob" not in as_asked.get_data(as_text=True)


def test_an_over_long_window_is_shortened_and_said_so(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    html = client.get("/analytics/?start=2020-01-01&end=2024-06-30").get_data(as_text=True)
    assert (
        "2020-01-01 to 2024-06-30 is 1,643 days, longer than the 366 days allowed, so it was "
        "shortened to the 366 days ending on To: showing 2023-07-01 to 2024-06-30." in html
    )
    assert 'name="start" value="2023-07-01"' in html and 'name="end" value="2024-06-30"' in html


def test_a_far_past_start_and_far_future_end_show_the_year_up_to_today(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    html = client.get("/analytics/?start=1900-01-01&end=2999-12-31").get_data(as_text=True)
    today = datetime.now(UTC).date()
    first = today - timedelta(days=365)
    assert f"shortened to the 366 days ending today: showing {first} to {today}." in html
    assert f'name="start" value="{first}"' in html and f'name="end" value="{today}"' in html
    assert "2998-12-31" not in html


def test_a_start_that_is_not_a_date_is_named_on_the_page(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    html = client.get("/analytics/?start=abc&end=2026-11-30").get_data(as_text=True)
    assert (
        "From: abc is not a date; write it like 2026-11-30. "
        "Showing from 2026-11-01 (the 30 days up to To) instead." in html
    )
    assert 'name="start" value="2026-11-01"' in html


def test_lift_and_harm_say_what_they_changed_and_link_the_window_shown(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    lift = client.get("/analytics/lift?start=2026-12-01&end=2026-11-10").get_data(as_text=True)
    assert "dates were swapped: showing 2026-11-10 to 2026-12-01." in lift
    assert 'id="l-start" type="date" name="start" value="2026-11-10"' in lift
    assert "export.csv?table=rollups&amp;start=2026-11-10&amp;end=2026-12-01" in lift
    export = client.get("/analytics/export.csv?start=2026-12-01&end=2026-11-10")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "rollups-2026-11-10-2026-12-01.csv" in export.headers["Content-Disposition"]
    harm_page = client.get("/analytics/harm?start=abc&end=2026-11-30").get_data(as_text=True)
    assert "From: abc is not a date" in harm_page
    assert 'id="h-start" type="date" name="start" value="2026-11-01"' in harm_page


def test_page_shows_an_empty_state_that_says_how_events_arrive(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    html = client.get("/analytics/").get_data(as_text=True)
    assert "No feedback between" in html and "POST /api/v1/events" in html


def test_page_and_chart_show_the_figures(app: Flask, session) -> None:
    _events(session, "refill_savings", "sms", shown=40, accepted=10)
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    html = client.get("/analytics/?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    assert "refill_savings" in html and "25.0%" in html and "small sample" not in html
    chart = client.get("/analytics/chart.svg?start=2026-11-01&end=2026-11-30")
    assert chart.mimetype == "image/svg+xml"
    assert b"<script" not in chart.data and b"refill_savings" in chart.data


def test_an_offer_shown_a_few_times_shows_counts_not_rates_or_bars(app: Flask, session) -> None:
    """The issue: small samples are shown as such, never as 100% bars."""
    _events(session, "refill_savings", "sms", shown=4, accepted=2)
    _events(session, "autopay", "chat", shown=40, accepted=10)
    _nps(session, 10, 9, 2)
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    html = client.get("/analytics/?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    rows = [row for row in html.split("<tr>") if "<code>refill_savings</code>" in row]
    assert rows and all("small sample" in row and "50.0%" not in row for row in rows)
    assert any('<td class="num">4 <span' in row for row in rows)
    assert any("(3 answers: small sample)" in row for row in rows)
    chart = client.get("/analytics/chart.svg?start=2026-11-01&end=2026-11-30").get_data(
        as_text=True
    )
    assert "refill_savings (4 shown: small sample)" in chart
    assert "50.0%" not in chart and "25.0%" in chart


def test_partial_is_served_to_htmx(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "service_lead"))
    html = client.get("/analytics/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in html and "No feedback" in html


def test_an_offer_with_no_events_says_so_and_the_filter_shows_it(app: Flask, session) -> None:
    """It said "No feedback ... as soon as events arrive" under "Every offer"."""
    _events(session, "autopay", "chat", shown=40, accepted=10)
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    html = client.get("/analytics/?start=2026-11-01&end=2026-11-30&offer=nonexistent").get_data(
        as_text=True
    )
    assert "No feedback about <code>nonexistent</code> between 2026-11-01" in html
    assert "No stored event names this offer." in html and "Show every offer</a>" in html
    assert '<option value="nonexistent" selected>nonexistent (no events)</option>' in html
