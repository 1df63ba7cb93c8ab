"""Scoped API tokens: a wrong or revoked token is 401, a missing scope is 403."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from studio.models import ApiToken, Bundle, FeedbackEvent
from studio.services import api_tokens
from tests.api.conftest import CHECKBOOK, IssueToken, bearer

EVENT = {"event_id": "e-1", "type": "shown", "offer_key": "overdraft_protection"}

# (method, url, JSON body, scope the call needs)
CALLS = [
    ("GET", "/api/v1/bundles/current", None, "bundles:read"),
    ("GET", "/api/v1/bundles/1", None, "bundles:read"),
    ("GET", "/api/v1/bundles/current/signature", None, "bundles:read"),
    ("POST", "/api/v1/decide", {"interaction": CHECKBOOK}, "decide"),
    ("POST", "/api/v1/events", {"events": [EVENT]}, "events:write"),
]


def _call(client: FlaskClient, method: str, url: str, body: dict | None, headers: dict):
    return client.open(url, method=method, json=body, headers=headers)


def _stored(session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count(FeedbackEvent.id))),
        session.scalar(select(func.count(Bundle.id))),
    )


BAD_HEADERS = [
    None,
    "Bearer",
    "Bearer pst_not-a-real-token",
    "Basic dXNlcjpwYXNz",
    "Bearer " + "x" * 500,
]


@pytest.mark.parametrize(
    ("method", "url", "body", "scope", "header"),
    [(*call, header) for call in CALLS[3:] for header in BAD_HEADERS[:3]]
    + [(*CALLS[0], header) for header in BAD_HEADERS],
)
def test_missing_or_unknown_token_is_401_and_stores_nothing(
    client: FlaskClient,
    session,
    published,
    method: str,
    url: str,
    body: dict | None,
    scope: str,
    header: str | None,
) -> None:
    before = _stored(session)
    response = _call(client, method, url, body, {"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.is_json
    assert response.get_json()["error"]["code"] in {"unauthenticated", "invalid_token"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _stored(session) == before


@pytest.mark.parametrize(("method", "url", "body", "scope"), CALLS)
def test_revoked_token_is_401(
    client: FlaskClient,
    session,
    published,
    issue_token: IssueToken,
    method: str,
    url: str,
    body: dict | None,
    scope: str,
) -> None:
    secret = issue_token()
    assert _call(client, method, url, body, bearer(secret)).status_code == 200
    token = session.scalar(select(ApiToken))
    api_tokens.revoke(session, token.id, actor_id=None)
    session.commit()
    client.application.extensions["studio.api.token_cache"].clear()
    response = _call(client, method, url, body, bearer(secret))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


@pytest.mark.parametrize(("method", "url", "body", "scope"), CALLS)
def test_token_without_the_scope_is_403_naming_it(
    client: FlaskClient,
    session,
    published,
    issue_token: IssueToken,
    method: str,
    url: str,
    body: dict | None,
    scope: str,
) -> None:
    others = [s for s in api_tokens.SCOPES if s != scope]
    before = _stored(session)
    response = _call(client, method, url, body, bearer(issue_token(*others)))
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "insufficient_scope" and scope in error["message"]
    assert _stored(session) == before


def test_use_is_recorded_as_last_used_and_the_token_is_stored_hashed(
    client: FlaskClient, session, published, issue_token: IssueToken
) -> None:
    secret = issue_token("bundles:read")
    token = session.scalar(select(ApiToken))
    assert token.last_used_at is None
    assert secret not in (token.token_hash, token.prefix) and secret.startswith(token.prefix)
    assert client.get("/api/v1/bundles/current", headers=bearer(secret)).status_code == 200
    session.expire_all()
    assert session.scalar(select(ApiToken)).last_used_at is not None


def test_revoking_in_the_studio_takes_effect_at_once_in_this_worker(
    app, client: FlaskClient, session, published, issue_token: IssueToken
) -> None:
    from tests.factories import make_user, post, sign_in_as

    secret = issue_token("bundles:read")
    assert client.get("/api/v1/bundles/current", headers=bearer(secret)).status_code == 200
    token = session.scalar(select(ApiToken))
    admin = sign_in_as(app.test_client(), make_user(session, "admin"))
    assert post(admin, f"/admin/tokens/{token.id}/revoke").status_code == 302
    assert client.get("/api/v1/bundles/current", headers=bearer(secret)).status_code == 401
