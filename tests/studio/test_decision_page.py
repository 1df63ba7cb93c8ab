"""`/decisions/<id>`: why this customer got, or did not get, an offer."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from studio.models import Decision, FeedbackEvent
from tests.factories import make_user, sign_in_as

AT = datetime(2026, 11, 10, 12, tzinfo=UTC)


def _decision(session, **changes) -> Decision:
    values = dict(
        id="d-0000001",
        source="client",
        bundle_version=4,
        bundle_digest="sha256:ab",
        channel="chat",
        category="billing",
        customer_hash="f" * 64,
        rules=[{"ruleset": "retail", "rule": "Late fee refund"}],
        offers=[],
        guards=[],
        holdouts=[{"ruleset": "retail", "offer": "autopay", "rule": "Late fee refund"}],
        decided_at=AT,
    )
    values.update(changes)
    decision = Decision(**values)
    session.add(decision)
    session.commit()
    return decision


def _with_a_complaint(session) -> None:
    _decision(session)
    session.add(
        FeedbackEvent(
            event_id="c1", type="complaint", offer_key="autopay", decision_id="d-0000001", at=AT
        )
    )
    session.commit()


def test_a_holdout_is_explained_with_the_complaint_that_followed(app: Flask, session) -> None:
    _with_a_complaint(session)
    client = sign_in_as(app.test_client(), make_user(session, "service_lead"))
    html = client.get("/decisions/d-0000001").get_data(as_text=True)
    assert "Not offered autopay" in html and "holdout" in html
    assert "complaint" in html and "kept as a hash only" in html
    assert "No trace was kept" in html


def test_the_page_links_to_what_the_reader_may_open_and_names_the_rest(app: Flask, session) -> None:
    _with_a_complaint(session)
    lead = sign_in_as(app.test_client(), make_user(session, "service_lead"))
    html = lead.get("/decisions/d-0000001").get_data(as_text=True)
    assert '<a href="/rules/retail"><code>retail</code></a>' in html
    assert "/bundles/4" not in html and "bundle v4" in html, "no link to a page it cannot open"
    reviewer = sign_in_as(app.test_client(), make_user(session, "reviewer"))
    html = reviewer.get("/decisions/d-0000001").get_data(as_text=True)
    assert '<a href="/bundles/4">v4</a>' in html


def test_an_offer_and_a_fired_guard_are_both_explained(app: Flask, session) -> None:
    _decision(
        session,
        holdouts=[],
        offers=[{"ruleset": "retail", "offer": "card_plan", "rule": "New card"}],
        guards=[{"ruleset": "fraud", "line": 3, "text": "tone.label == distressed"}],
        trace={
            "retail": {"rules": [{"rule": "New card", "line": 5, "matched": True}], "guards": []}
        },
    )
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    html = client.get("/decisions/d-0000001").get_data(as_text=True)
    assert "Offered card_plan because rule" in html
    assert "the guard on line 3 fired" in html
    assert "matched: New card" in html


def test_an_unknown_decision_is_not_found_and_the_page_needs_a_role(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    assert client.get("/decisions/nope").status_code == 404
    _decision(session)
    admin_only = sign_in_as(app.test_client(), make_user(session, "admin"))
    assert admin_only.get("/decisions/d-0000001").status_code == 403


def test_a_gated_offer_is_explained_as_gated_on_resolution_of_its_thread(
    app: Flask, session
) -> None:
    _decision(
        session,
        id="d-scheduled",
        holdouts=[],
        gating={
            "scheduled": [
                {
                    "offer": "mobile_alerts",
                    "ruleset": "retail_banking",
                    "rule": "Check in",
                    "thread": "ob-3300-1",
                    "releases": "when resolution is confirmed",
                    "until": "2026-12-10T12:00:00Z",
                    "recorded": True,
                }
            ],
            "settled": [],
        },
    )
    _decision(
        session,
        id="d-released",
        holdouts=[],
        offers=[
            {
                "ruleset": "retail_banking",
                "offer": "mobile_alerts",
                "rule": "Check in",
                "gated_thread": "ob-3300-1",
                "gated_reason": "resolution of thread ob-3300-1 confirmed",
            }
        ],
    )
    client = sign_in_as(app.test_client(), make_user(session, "service_lead"))
    scheduled = client.get("/decisions/d-scheduled").get_data(as_text=True)
    assert "Scheduled mobile_alerts, gated on resolution of thread ob-3300-1" in scheduled
    assert "when resolution is confirmed, until 2026-12-10T12:00:00Z" in scheduled
    released = client.get("/decisions/d-released").get_data(as_text=True)
    assert "Offered mobile_alerts, gated on resolution of thread ob-3300-1" in released
    assert "released because resolution of thread ob-3300-1 confirmed" in released


def test_the_page_reads_as_english_for_any_category(app: Flask, session) -> None:
    _decision(session, category="informational")
    _decision(session, id="d-0000002", category="", channel="")
    client = sign_in_as(app.test_client(), make_user(session, "service_lead"))
    first = client.get("/decisions/d-0000001").get_data(as_text=True)
    assert "for an informational inquiry in chat." in first
    second = client.get("/decisions/d-0000002").get_data(as_text=True)
    assert "for an inquiry of no recorded category in no recorded channel." in second
