"""Harm avoided: decisions a guard withheld, by guard and tone, beside complaint rates."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask

from studio.models import Decision
from studio.services import analytics, harm
from tests.factories import make_user, sign_in_as

AT = datetime(2026, 11, 10, 12, tzinfo=UTC)
GUARD = {"ruleset": "retail", "line": 3, "text": "tone.label == distressed"}


def _decision(session, n: int, *, guards=(), tone="neutral") -> None:
    session.add(
        Decision(
            id=f"harm-{n:04d}",
            source="client",
            bundle_version=1,
            tone=tone,
            guards=list(guards),
            offers=[],
            holdouts=[],
            rules=[],
            decided_at=AT,
        )
    )


def test_withheld_decisions_are_counted_per_guard_and_tone(app: Flask, session) -> None:
    for n in range(3):
        _decision(session, n, guards=[GUARD], tone="distressed")
    _decision(session, 3, guards=[GUARD], tone="angry")
    _decision(session, 4)
    session.commit()
    found = harm.report(session, analytics.Window(date(2026, 11, 1), date(2026, 11, 30)))
    assert found.guarded == 4
    assert found.by_guard == [("retail:3", "tone.label == distressed", 4)]
    assert found.by_tone == [("distressed", 3), ("angry", 1)]
    client = sign_in_as(app.test_client(), make_user(session, "service_lead"))
    html = client.get("/analytics/harm?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    assert "4 decisions had a guard fire" in html and "distressed" in html
