"""The decision log through the API: `/decide` remembers, clients report, events join."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from studio.errors import Refusal
from studio.models import Bundle, Decision, FeedbackEvent
from studio.roles import ADMIN
from studio.services import decision_log
from studio.services.messages import hash_customer
from tests.api.conftest import CHECKBOOK, STOLEN_CARD
from tests.factories.people import make_user


def _record(decision_id: str = "client-0001", **changes: Any) -> dict[str, Any]:
    record = {
        "decision_id": decision_id,
        "decided_at": "2026-03-02T10:15:00Z",
        "bundle_version": 1,
        "bundle_digest": "sha256:abc",
        "channel": "email",
        "category": "transactional",
        "customer_id": "c-1001",
        "rules": [{"ruleset": "retail_banking", "rule": "Checkbook"}],
        "offers": [
            {"ruleset": "retail_banking", "offer": "overdraft_protection", "rule": "Checkbook"}
        ],
        "guards": [],
        "holdouts": [],
    }
    record.update(changes)
    return record


def test_decide_answers_with_an_id_and_logs_the_decision_with_a_hashed_customer(
    client: FlaskClient, session, published: Bundle, auth
) -> None:
    answer = client.post("/api/v1/decide", json={"interaction": CHECKBOOK}, headers=auth)
    assert answer.status_code == 200
    logged = session.get(Decision, answer.get_json()["decision_id"])
    assert logged is not None and logged.source == "studio"
    assert (logged.bundle_version, logged.bundle_digest) == (published.version, published.digest)
    assert (logged.channel, logged.category) == ("email", "transactional")
    assert logged.customer_hash == hash_customer("c-1001") and logged.customer_id is None
    assert [o["offer"] for o in logged.offers] == ["overdraft_protection"]
    assert logged.rules and logged.rules[0]["rule"] == logged.offers[0]["rule"]


def test_a_guard_that_fired_is_logged_with_its_ruleset(
    client: FlaskClient, session, published: Bundle, auth
) -> None:
    answer = client.post("/api/v1/decide", json={"interaction": STOLEN_CARD}, headers=auth)
    logged = session.get(Decision, answer.get_json()["decision_id"])
    assert logged.offers == []
    assert any(g["ruleset"] == "retail_banking" and g["text"] for g in logged.guards)


def test_raw_customer_ids_are_kept_only_while_an_admin_allows_it(
    client: FlaskClient, session, published: Bundle, auth
) -> None:
    admin = make_user(session, ADMIN)
    decision_log.set_raw_ids_allowed(session, True, actor=admin)
    answer = client.post("/api/v1/decide", json={"interaction": CHECKBOOK}, headers=auth)
    assert session.get(Decision, answer.get_json()["decision_id"]).customer_id == "c-1001"


def test_a_change_of_the_raw_id_setting_reaches_the_next_decision_despite_the_cache(
    client: FlaskClient, session, published: Bundle, auth
) -> None:
    admin = make_user(session, ADMIN)

    def kept_id() -> str | None:
        answer = client.post("/api/v1/decide", json={"interaction": CHECKBOOK}, headers=auth)
        return session.get(Decision, answer.get_json()["decision_id"]).customer_id

    assert kept_id() is None
    decision_log.set_raw_ids_allowed(session, True, actor=admin)
    assert kept_id() == "c-1001"
    decision_log.set_raw_ids_allowed(session, False, actor=admin)
    assert kept_id() is None


def test_a_refused_decide_logs_nothing(
    client: FlaskClient, session, published: Bundle, auth
) -> None:
    answer = client.post("/api/v1/decide", json={"interaction": {"inquiry": 3}}, headers=auth)
    assert answer.status_code == 400
    assert session.scalar(select(func.count(Decision.id))) == 0


def test_reported_decisions_are_stored_once_each_and_bad_ones_alone(
    client: FlaskClient, session, auth
) -> None:
    batch = [
        _record("client-0001"),
        _record("client-0001"),
        _record("x"),
        _record("client-0002", decided_at="yesterday"),
        _record("client-0003", offers=["overdraft_protection"]),
        _record("client-0004", bundle_version=0),
        {"decision_id": "client-0005"},
    ]
    answer = client.post("/api/v1/decisions", json={"decisions": batch}, headers=auth)
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["stored"], body["duplicates"], body["rejected"]) == (1, 1, 5)
    errors = {
        r["index"]: (r["error"]["code"], r["error"]["field"])
        for r in body["results"]
        if r["status"] == "rejected"
    }
    assert errors == {
        2: ("invalid_decision_id", "decisions[2].decision_id"),
        3: ("invalid_time", "decisions[3].decided_at"),
        4: ("invalid_type", "decisions[4].offers[0]"),
        5: ("invalid_version", "decisions[5].bundle_version"),
        6: ("missing_field", "decisions[6].bundle_version"),
    }
    again = client.post("/api/v1/decisions", json={"decisions": batch[:1]}, headers=auth)
    assert again.get_json()["duplicates"] == 1
    assert session.scalar(select(func.count(Decision.id))) == 1
    stored = session.get(Decision, "client-0001")
    assert stored.source == "client" and stored.customer_id is None


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "decisions"),
        ({"decisions": {}}, 400, "decisions"),
        ({"decisions": [_record()] * 501}, 413, "decisions"),
    ],
)
def test_an_unreadable_decision_batch_is_refused_whole(
    client: FlaskClient, session, auth, body, status, field
) -> None:
    answer = client.post("/api/v1/decisions", json=body, headers=auth)
    assert answer.status_code == status
    assert answer.get_json()["error"]["field"] == field
    assert session.scalar(select(func.count(Decision.id))) == 0


def test_an_event_for_a_decision_not_logged_yet_is_stored_with_a_warning(
    client: FlaskClient, session, auth
) -> None:
    event = {"event_id": "e-1", "type": "nps", "score": 3, "decision_id": "later-0001"}
    answer = client.post("/api/v1/events", json={"events": [event]}, headers=auth)
    [result] = answer.get_json()["results"]
    assert result["status"] == "stored"
    assert [w["code"] for w in result["warnings"]] == ["unknown_decision"]
    client.post("/api/v1/decisions", json={"decisions": [_record("later-0001")]}, headers=auth)
    explained = decision_log.explain(session, "later-0001")
    assert [e.event_id for e in explained.events] == ["e-1"]
    assert session.scalar(select(func.count(FeedbackEvent.id))) == 1


@pytest.mark.parametrize(("value", "cents"), [("12.50", 1250), ("0.5", 50), ("7", 700)])
def test_an_accepted_event_carries_its_value_in_cents(
    client: FlaskClient, session, auth, value, cents
) -> None:
    event = {"event_id": "v-1", "type": "accepted", "offer_key": "autopay", "value": value}
    client.post("/api/v1/events", json={"events": [event]}, headers=auth)
    assert session.scalar(select(FeedbackEvent.value_cents)) == cents


@pytest.mark.parametrize(
    ("event", "code"),
    [
        ({"type": "accepted", "value": "12,50"}, "invalid_value"),
        ({"type": "accepted", "value": "$12"}, "invalid_value"),
        ({"type": "accepted", "value": 12.5}, "invalid_value"),
        ({"type": "accepted", "value": "1.005"}, "invalid_value"),
        ({"type": "shown", "value": "3.00"}, "unexpected_field"),
    ],
)
def test_a_value_in_the_wrong_format_refuses_that_event_alone(
    client: FlaskClient, session, auth, event, code
) -> None:
    good = {"event_id": "ok-1", "type": "shown", "offer_key": "autopay"}
    bad = {"event_id": "bad-1", "offer_key": "autopay", **event}
    body = client.post("/api/v1/events", json={"events": [good, bad]}, headers=auth).get_json()
    assert (body["stored"], body["rejected"]) == (1, 1)
    assert body["results"][1]["error"] == {
        **body["results"][1]["error"],
        "code": code,
        "field": "events[1].value",
    }


def test_a_decision_stored_meanwhile_by_a_concurrent_report_counts_as_a_duplicate(session) -> None:
    first = decision_log.ingest(session, {"decisions": [_record("race-0001")]})
    assert not isinstance(first, Refusal) and first.count("stored") == 1
    # The id check ran before the other report committed: the insert itself collides.
    fresh = {
        "race-0001": decision_log._row(
            session, _record("race-0001"), "client", datetime.now(UTC), raw=False
        ),
        "race-0002": decision_log._row(
            session, _record("race-0002"), "client", datetime.now(UTC), raw=False
        ),
    }
    kept = decision_log._add(session, fresh)
    assert list(kept) == ["race-0002"]
    assert session.scalar(select(func.count(Decision.id))) == 2
