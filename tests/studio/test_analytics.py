"""Analytics rolls feedback events up into the rates marketers compare."""

from __future__ import annotations

from datetime import UTC, date, datetime

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


def test_page_shows_an_empty_state_that_says_how_events_arrive(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    html = client.get("/analytics/").get_data(as_text=True)
    assert "No feedback between" in html and "POST /api/v1/events" in html


def test_page_and_chart_show_the_figures(app: Flask, session) -> None:
    _events(session, "refill_savings", "sms", shown=20, accepted=5)
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    html = client.get("/analytics/?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    assert "refill_savings" in html and "25.0%" in html
    chart = client.get("/analytics/chart.svg?start=2026-11-01&end=2026-11-30")
    assert chart.mimetype == "image/svg+xml"
    assert b"<script" not in chart.data and b"refill_savings" in chart.data


def test_partial_is_served_to_htmx(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "service_lead"))
    html = client.get("/analytics/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in html and "No feedback" in html
