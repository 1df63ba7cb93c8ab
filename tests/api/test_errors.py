"""Whatever goes wrong, the API answers in JSON with a code, a message and a field."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from studio.models import FeedbackEvent


def _error(response) -> dict:
    assert response.mimetype == "application/json", response.data[:200]
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    return body["error"]


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/api/v1/nothing-here", 404),
        ("POST", "/api/v1/nothing-here", 404),
        ("GET", "/api/v1/decide", 405),
        ("PUT", "/api/v1/events", 405),
        ("DELETE", "/api/v1/bundles/current", 405),
        ("GET", "/api/v1/bundles/-1", 404),
        ("GET", "/api/v1/bundles/99999999999999999999", 404),
    ],
)
def test_routing_errors_are_json_never_html(
    client: FlaskClient, method: str, url: str, status: int
) -> None:
    response = client.open(url, method=method)
    assert response.status_code == status
    _error(response)


def test_method_not_allowed_says_which_methods_are(client: FlaskClient) -> None:
    response = client.get("/api/v1/decide")
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("url", ["/api/v1/decide", "/api/v1/events"])
def test_body_over_one_megabyte_is_413_and_nothing_is_stored(
    client: FlaskClient, session, auth: dict[str, str], url: str
) -> None:
    padding = "x" * (1024 * 1024)
    body = (
        '{"events": [{"event_id": "big", "type": "shown", "offer_key": "a", "payload": {"p": "'
        + padding
        + '"}}]}'
    )
    response = client.post(url, data=body, headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert _error(response)["code"] == "body_too_large"
    assert session.scalar(select(func.count(FeedbackEvent.id))) == 0


def test_chunked_body_over_the_cap_is_413_too(client: FlaskClient, auth: dict[str, str]) -> None:
    data = b'{"events": ["' + b"y" * (1100 * 1024) + b'"]}'
    response = client.post(
        "/api/v1/events",
        input_stream=io.BytesIO(data),
        headers={**auth, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    _error(response)


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        ('{"interaction": ', "application/json", "invalid_json"),
        ("[1, 2", "application/json", "invalid_json"),
        ('{"interaction": NaN}', "application/json", "invalid_json"),
        (b'{"interaction": "\xff"}', "application/json", "invalid_json"),
        ('{"interaction": {"data": {"x": "nul\\u0000"}}}', "application/json", "invalid_text"),
        ('{"interaction": {"data": {"x": "\\ud800"}}}', "application/json", "invalid_text"),
        ("[" * 100 + "]" * 100, "application/json", "too_deep"),
        ("interaction=1", "application/x-www-form-urlencoded", "unsupported_media_type"),
    ],
)
def test_unreadable_bodies_are_refused_with_a_reason(
    client: FlaskClient, auth: dict[str, str], body: str | bytes, content_type: str, code: str
) -> None:
    response = client.post(
        "/api/v1/decide", data=body, headers={**auth, "Content-Type": content_type}
    )
    assert response.status_code in (400, 415)
    assert _error(response)["code"] == code


def test_malformed_json_message_says_where(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/decide",
        data='{"interaction": {"a": }}',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert "line 1, column 23" in _error(response)["message"]
