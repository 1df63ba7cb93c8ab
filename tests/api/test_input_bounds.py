"""Every API input bound answers 4xx JSON naming the field, never a 500.

Huge integers, deep nesting, oversized headers and event dates far from now are what a
buggy or hostile caller sends; each gets a clear refusal, and nothing is stored.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import CHECKBOOK


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        value = {"more": value}
    return value


@pytest.mark.parametrize("version", [10**30, -(10**30), 2**31])
def test_decide_with_a_huge_version_is_refused_with_the_field(
    client: FlaskClient, auth: dict[str, str], published, version: int
) -> None:
    answer = client.post(
        "/api/v1/decide",
        headers=auth,
        data=json.dumps({"interaction": CHECKBOOK, "version": version}),
        content_type="application/json",
    )
    assert 400 <= answer.status_code < 500, answer.get_data(as_text=True)
    assert answer.get_json()["error"]["field"] == "version"


@pytest.mark.parametrize("depth", [25, 40, 63])
def test_decide_with_deeply_nested_interaction_data_answers_without_a_500(
    client: FlaskClient, auth: dict[str, str], published, depth: int
) -> None:
    interaction = {**CHECKBOOK, "data": _nested(depth)}
    answer = client.post(
        "/api/v1/decide",
        headers=auth,
        data=json.dumps({"interaction": interaction, "explain": True}),
        content_type="application/json",
    )
    assert answer.status_code < 500, answer.get_data(as_text=True)
    if answer.status_code >= 400:
        assert answer.get_json()["error"]["field"].startswith("interaction")


def test_nesting_beyond_the_limit_is_refused_with_the_field(
    client: FlaskClient, auth: dict[str, str], published
) -> None:
    answer = client.post(
        "/api/v1/decide",
        headers=auth,
        data=json.dumps({"interaction": {**CHECKBOOK, "data": _nested(100)}}),
        content_type="application/json",
    )
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "too_deep"
    assert error["field"].startswith("interaction.data.more")


def test_nesting_too_deep_to_parse_is_too_deep_with_where_it_goes_too_deep(
    client: FlaskClient, auth: dict[str, str], published
) -> None:
    body = '{"interaction": {"data": {"note": "[[[ in text", "x": ' + "[" * 100_000
    answer = client.post("/api/v1/decide", headers=auth, data=body, content_type="application/json")
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "too_deep"
    # The 65th bracket: three objects, then the 62nd of the list's (the ones in text skipped).
    assert error["message"] == (
        "The body nests more than 64 levels deep (from line 1, column 116)."
    )


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('{"interaction": {"data": {"n": NaN}}}', "NaN is not a JSON number"),
        ('{"interaction": {"data": {"n": ' + "7" * 5000 + "}}}", "more than 4,300 digits"),
    ],
)
def test_numbers_the_studio_cannot_read_are_named(
    client: FlaskClient, auth: dict[str, str], published, body: str, says: str
) -> None:
    answer = client.post("/api/v1/decide", headers=auth, data=body, content_type="application/json")
    assert answer.status_code == 400
    assert says in answer.get_json()["error"]["message"]


def test_a_10_kb_authorization_header_gets_a_json_431(client: FlaskClient) -> None:
    answer = client.get(
        "/api/v1/bundles/current", headers={"Authorization": "Bearer " + "x" * 10_240}
    )
    assert answer.status_code == 431
    assert answer.is_json
    assert answer.get_json()["error"]["field"] == "Authorization"


def _event(at: datetime) -> dict[str, Any]:
    return {
        "event_id": f"skew-{at.isoformat()}",
        "type": "nps",
        "score": 8,
        "customer_id": "c-1",
        "at": at.isoformat(),
    }


def test_event_dates_outside_the_skew_window_are_refused_per_event(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    events = [
        _event(now - timedelta(minutes=5)),
        _event(now + timedelta(days=3650)),
        _event(now - timedelta(days=365 * 50)),
        _event(now + timedelta(hours=2)),
    ]
    answer = client.post(
        "/api/v1/events",
        headers=auth,
        data=json.dumps({"events": events}),
        content_type="application/json",
    )
    assert answer.status_code == 200
    results = answer.get_json()["results"]
    assert [r["status"] for r in results] == ["stored", "rejected", "rejected", "stored"]
    assert results[1]["error"]["code"] == "time_out_of_range"
    assert results[1]["error"]["field"] == "events[1].at"
    assert "future" in results[1]["error"]["message"]
    assert "years" in results[2]["error"]["message"]
