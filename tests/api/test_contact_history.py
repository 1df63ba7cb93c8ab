"""The studio's contact history: /decide counts and records caps, events and reports add to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from studio.models import Bundle, ContactHistory

REFILL: dict[str, Any] = {
    "at": "2026-03-02T10:15:00Z",
    "inquiry": {
        "category": "transactional",
        "intent": "refill_prescription",
        "channel": "chat",
        "resolution": "confirmed",
    },
    "tone": "positive",
    "customer": {"id": "c-refill", "authenticated": True, "tier": "gold"},
    "data": {"refill": {"due_in_days": 3}},
}


def _decide(
    client: FlaskClient, auth: dict[str, str], interaction: dict[str, Any]
) -> dict[str, Any]:
    response = client.post("/api/v1/decide", json={"interaction": interaction}, headers=auth)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _offers(decision: dict[str, Any]) -> list[str]:
    return [o["offer"] for o in decision["offers"]]


def test_the_demo_bundle_carries_the_workspace_policy(published: Bundle) -> None:
    import json

    body = json.loads(published.body)
    assert body["policy"]["ir"] == "pos-policy"
    assert any(c["offer"] == "refill_savings" for c in body["policy"]["caps"])


def test_decide_records_offers_and_a_cap_counts_them_on_the_next_call(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session
) -> None:
    first = _decide(client, auth, REFILL)
    assert _offers(first) == ["refill_savings"]
    assert first["policy"]["history"]["store"] == "database"
    second = _decide(client, auth, {**REFILL, "at": "2026-03-04T10:15:00Z"})
    assert "refill_savings" not in _offers(second)
    removed = [r for r in second["policy"]["removed"] if r["offer"] == "refill_savings"]
    assert removed and removed[0]["text"] == "limit refill_savings to 1 per customer per 7 days"
    assert removed[0]["ruleset"] == "pharmacy"
    rows = session.scalars(
        select(ContactHistory).where(ContactHistory.customer_id == "c-refill")
    ).all()
    assert [(r.kind, r.offer_key, r.channel, r.source) for r in rows][0] == (
        "offer",
        "refill_savings",
        "chat",
        "studio",
    )


def test_the_offers_decide_records_carry_the_decision_id_it_answers_with(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session
) -> None:
    decision = _decide(client, auth, {**REFILL, "customer": {**REFILL["customer"], "id": "c-id"}})
    assert _offers(decision) == ["refill_savings"]
    recorded = session.scalars(
        select(ContactHistory.decision_id).where(ContactHistory.customer_id == "c-id")
    ).all()
    assert recorded == [decision["decision_id"]]


def test_a_declined_event_suppresses_the_offer(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session
) -> None:
    event = {
        "event_id": "decl-1",
        "type": "declined",
        "offer_key": "refill_savings",
        "customer_id": "c-decliner",
        "channel": "chat",
        "at": "2026-03-01T09:00:00Z",
    }
    for _ in range(2):  # the same event twice is one outcome
        assert (
            client.post("/api/v1/events", json={"events": [event]}, headers=auth).status_code == 200
        )
    outcomes = session.scalar(
        select(func.count())
        .select_from(ContactHistory)
        .where(ContactHistory.customer_id == "c-decliner", ContactHistory.kind == "declined")
    )
    assert outcomes == 1
    body = {**REFILL, "customer": {**REFILL["customer"], "id": "c-decliner"}}
    decision = _decide(client, auth, body)
    assert "refill_savings" not in _offers(decision)
    assert any(
        r["text"].startswith("never offer refill_savings again")
        for r in decision["policy"]["removed"]
    )


def test_client_reports_are_stored_once_and_counted(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session
) -> None:
    report = {
        "decision_id": "local-1",
        "customer_id": "c-local",
        "offer_key": "refill_savings",
        "channel": "chat",
        "at": "2026-03-01T10:00:00Z",
    }
    first = client.post("/api/v1/contacts", json={"contacts": [report]}, headers=auth).get_json()
    again = client.post("/api/v1/contacts", json={"contacts": [report]}, headers=auth).get_json()
    assert (first["stored"], again["duplicates"]) == (1, 1)
    body = {**REFILL, "customer": {**REFILL["customer"], "id": "c-local"}}
    assert "refill_savings" not in _offers(_decide(client, auth, body))
    count = session.scalar(
        select(func.count())
        .select_from(ContactHistory)
        .where(ContactHistory.customer_id == "c-local")
    )
    assert count == 1


def test_a_contact_reported_from_a_clock_ahead_is_stored_at_its_arrival(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session
) -> None:
    report = {
        "decision_id": "ahead-1",
        "customer_id": "c-ahead",
        "offer_key": "refill_savings",
        "at": "2099-01-01T00:00:00Z",
    }
    before = datetime.now(UTC)
    answer = client.post("/api/v1/contacts", json={"contacts": [report]}, headers=auth)
    assert answer.get_json()["results"][0]["status"] == "stored"
    row = session.scalars(
        select(ContactHistory).where(ContactHistory.decision_id == "ahead-1")
    ).one()
    stored = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= stored <= datetime.now(UTC) + timedelta(seconds=1)


def test_a_bad_report_is_rejected_alone_and_every_report_is_answered_by_index(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    good = {"decision_id": "d", "customer_id": "c", "offer_key": "x", "at": "2026-03-01T10:00:00Z"}
    answer = client.post(
        "/api/v1/contacts",
        json={"contacts": [good, {**good, "decision_id": "e", "at": "someday"}, 7, good]},
        headers=auth,
    ).get_json()
    assert (answer["stored"], answer["duplicates"], answer["rejected"]) == (1, 1, 2)
    assert [(r["index"], r["status"], r["decision_id"]) for r in answer["results"]] == [
        (0, "stored", "d"),
        (1, "rejected", "e"),
        (2, "rejected", None),
        (3, "duplicate", "d"),
    ]
    assert [r.get("error", {}).get("field") for r in answer["results"]] == [
        None,
        "contacts[1].at",
        "contacts[2]",
        None,
    ]
    assert answer["results"][1]["error"]["code"] == "invalid_contact"
    assert client.post("/api/v1/contacts", json={"contacts": "x"}, headers=auth).status_code == 400
