"""`POST /api/v1/events`: bulk feedback, stored once per id, checked event by event."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from studio.models import FeedbackEvent

SHOWN = {
    "event_id": "evt-1",
    "type": "shown",
    "offer_key": "overdraft_protection",
    "rule": "Overdraft protection with a checkbook order",
    "channel": "email",
    "category": "transactional",
    "bundle_version": 1,
    "customer_id": "c-1001",
    "at": "2026-03-02T10:15:00Z",
    "payload": {"campaign": "spring"},
}
NPS = {"event_id": "evt-2", "type": "nps", "score": 9, "customer_id": "c-1001"}


def _send(client: FlaskClient, auth: dict[str, str], events: list[Any]):
    return client.post("/api/v1/events", json={"events": events}, headers=auth)


def _count(session) -> int:
    return session.scalar(select(func.count(FeedbackEvent.id)))


def test_a_batch_is_stored_with_every_field(client: FlaskClient, session, auth) -> None:
    response = _send(client, auth, [SHOWN, NPS])
    assert response.status_code == 200
    assert response.get_json() == {
        "stored": 2,
        "duplicates": 0,
        "rejected": 0,
        "results": [
            {
                "index": 0,
                "event_id": "evt-1",
                "status": "stored",
                "warnings": [
                    {
                        "code": "unknown_offer",
                        "field": "events[0].offer_key",
                        "message": "The studio has no offer 'overdraft_protection'"
                        "; the event is stored but no owner is told "
                        "about it.",
                    }
                ],
            },
            {"index": 1, "event_id": "evt-2", "status": "stored"},
        ],
    }
    shown = session.scalar(select(FeedbackEvent).where(FeedbackEvent.event_id == "evt-1"))
    assert (
        shown.type,
        shown.offer_key,
        shown.channel,
        shown.category,
        shown.bundle_version,
        shown.customer_id,
        shown.payload,
    ) == (
        "shown",
        "overdraft_protection",
        "email",
        "transactional",
        1,
        "c-1001",
        {"campaign": "spring"},
    )
    assert shown.at.isoformat().startswith("2026-03-02T10:15:00")
    nps = session.scalar(select(FeedbackEvent).where(FeedbackEvent.event_id == "evt-2"))
    assert nps.score == 9.0


def test_a_retried_batch_is_stored_once(client: FlaskClient, session, auth) -> None:
    _send(client, auth, [SHOWN, NPS])
    again = _send(client, auth, [SHOWN, NPS, {**SHOWN, "event_id": "evt-3"}]).get_json()
    assert (again["stored"], again["duplicates"]) == (1, 2)
    assert _count(session) == 3


def test_the_same_id_twice_in_one_batch_is_stored_once(client: FlaskClient, session, auth) -> None:
    report = _send(client, auth, [SHOWN, SHOWN]).get_json()
    assert [r["status"] for r in report["results"]] == ["stored", "duplicate"]
    assert _count(session) == 1


@pytest.mark.parametrize(
    ("event", "code", "field"),
    [
        ("not an object", "invalid_type", "events[1]"),
        ({"type": "shown", "offer_key": "a"}, "missing_field", "events[1].event_id"),
        (
            {"event_id": " ", "type": "shown", "offer_key": "a"},
            "missing_field",
            "events[1].event_id",
        ),
        (
            {"event_id": "x", "type": "liked", "offer_key": "a"},
            "unknown_event_type",
            "events[1].type",
        ),
        ({"event_id": "x", "type": "shown"}, "missing_field", "events[1].offer_key"),
        ({"event_id": "x", "type": "nps"}, "missing_field", "events[1].score"),
        ({"event_id": "x", "type": "nps", "score": 11}, "invalid_score", "events[1].score"),
        ({"event_id": "x", "type": "nps", "score": 7.5}, "invalid_score", "events[1].score"),
        (
            {"event_id": "x", "type": "shown", "offer_key": "a", "score": 3},
            "unexpected_field",
            "events[1].score",
        ),
        (
            {"event_id": "x", "type": "shown", "offer_key": "a", "colour": 1},
            "unknown_field",
            "events[1].colour",
        ),
        (
            {"event_id": "x", "type": "shown", "offer_key": "a", "at": "yesterday"},
            "invalid_time",
            "events[1].at",
        ),
        (
            {"event_id": "x", "type": "shown", "offer_key": "a", "bundle_version": 0},
            "invalid_version",
            "events[1].bundle_version",
        ),
        (
            {"event_id": "x", "type": "shown", "offer_key": "a", "bundle_version": True},
            "invalid_type",
            "events[1].bundle_version",
        ),
        (
            {"event_id": "x" * 101, "type": "shown", "offer_key": "a"},
            "too_long",
            "events[1].event_id",
        ),
        (
            {"event_id": "x", "type": "shown", "offer_key": "a", "payload": {"p": "y" * 20000}},
            "too_long",
            "events[1].payload",
        ),
    ],
)
def test_a_bad_event_is_refused_alone_with_its_field(
    client: FlaskClient, session, auth, event: Any, code: str, field: str
) -> None:
    report = _send(client, auth, [SHOWN, event, NPS]).get_json()
    assert [r["status"] for r in report["results"]] == ["stored", "rejected", "stored"]
    error = report["results"][1]["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert _count(session) == 2


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "events"),
        ({"events": {}}, 400, "events"),
        ({"events": [], "extra": 1}, 400, "extra"),
        ({"events": [NPS] * 501}, 413, "events"),
    ],
)
def test_an_unreadable_batch_is_refused_whole(
    client: FlaskClient, session, auth, body: dict, status: int, field: str
) -> None:
    response = client.post("/api/v1/events", json=body, headers=auth)
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field
    assert _count(session) == 0


@pytest.mark.parametrize(("score", "said"), [(True, "not true"), (False, "not false")])
def test_a_true_or_false_score_is_refused_as_not_a_number(
    client: FlaskClient, session, auth, score: bool, said: str
) -> None:
    """It said "'score' must be a whole number or a number."."""
    report = _send(client, auth, [{**NPS, "score": score}]).get_json()
    error = report["results"][0]["error"]
    assert (error["code"], error["field"]) == ("invalid_type", "events[0].score")
    assert error["message"] == f"'score' must be a number, {said}."
    assert _count(session) == 0


def test_a_text_score_is_refused_as_not_a_number(client: FlaskClient, session, auth) -> None:
    report = _send(client, auth, [{**NPS, "score": "9"}]).get_json()
    assert report["results"][0]["error"]["message"] == "'score' must be a number."
