"""Harm avoided: decisions a guard fired in and offers the contact policy withheld, by line
and by tone, from the harm rollups kept as decisions arrive."""

from __future__ import annotations

from datetime import date

from flask import Flask

from studio.services import analytics, decision_log, harm, rollups
from tests.factories import make_user, sign_in_as

GUARD = {"ruleset": "retail", "line": 3, "text": "tone.label == distressed"}
CAP: dict[str, object] = {
    "offer": "card_plan",
    "ruleset": "retail",
    "rule": "Rule A",
    "line": 7,
    "text": "limit card_plan to 1 per customer per 7 days",
    "reason": "over the limit",
}
WINDOW = analytics.Window(date(2026, 11, 1), date(2026, 11, 30))


def _record(n: int, *, guards=(), withheld=(), tone="neutral") -> dict:
    return {
        "decision_id": f"harm-{n:04d}",
        "bundle_version": 1,
        "decided_at": "2026-11-10T12:00:00Z",
        "tone": tone,
        "guards": list(guards),
        "withheld": list(withheld),
    }


def test_withheld_decisions_are_counted_per_guard_and_tone(app: Flask, session) -> None:
    records = [_record(n, guards=[GUARD], tone="distressed") for n in range(3)]
    records += [_record(3, guards=[GUARD], tone="angry"), _record(4)]
    decision_log.ingest(session, {"decisions": records})
    session.commit()
    found = harm.report(session, WINDOW)
    assert found.guarded == 4
    assert found.by_guard == [("retail:3", "tone.label == distressed", 4)]
    assert found.by_tone == [("distressed", 3), ("angry", 1)]
    client = sign_in_as(app.test_client(), make_user(session, "service_lead"))
    html = client.get("/analytics/harm?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    assert "4 decisions had a guard fire" in html and "distressed" in html


def test_contact_policy_refusals_are_counted_per_policy_line_beside_the_guards(
    app: Flask, session
) -> None:
    second = {**CAP, "offer": "autopay"}
    records = [
        _record(0, withheld=[CAP, second], tone="angry"),  # two offers, one decision
        _record(1, withheld=[CAP], tone="neutral"),
        _record(2, guards=[GUARD], withheld=[CAP], tone="angry"),
        _record(3, withheld=[{"line": "seven"}], tone="calm"),
        _record(4, withheld=["not an object"], tone="calm"),
    ]
    report = decision_log.ingest(session, {"decisions": records})
    assert isinstance(report, decision_log.DecisionReport)
    assert [r.status for r in report.results] == ["stored"] * 4 + ["rejected"]
    session.commit()
    found = harm.report(session, WINDOW)
    assert found.guarded == 1 and found.policy_withheld == 4
    assert found.by_policy_line[0] == (7, CAP["text"], 3, 4)
    assert dict(found.policy_by_tone) == {"angry": 2, "neutral": 1, "calm": 1}
    assert rollups.harm_stored(session) == rollups.harm_recount(session)
    client = sign_in_as(app.test_client(), make_user(session, "service_lead"))
    html = client.get("/analytics/harm?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    assert "in 4 the contact policy withheld an offer" in html
    assert "By contact-policy line" in html and str(CAP["text"]) in html


def test_a_decision_reported_twice_is_counted_once(session) -> None:
    body = {"decisions": [_record(0, withheld=[CAP])]}
    decision_log.ingest(session, body)
    decision_log.ingest(session, body)
    assert harm.report(session, WINDOW).policy_withheld == 1
