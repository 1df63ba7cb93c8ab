"""Admin > API tokens: issue (shown once, stored hashed), list, revoke with confirmation."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask
from sqlalchemy import select

from studio.models import ApiToken, AuditEvent
from tests.factories import make_user, post, sign_in_as


@pytest.fixture
def admin(app: Flask, session):
    return sign_in_as(app.test_client(), make_user(session, "admin", name="Alex Admin"))


def test_issuing_a_token_shows_it_once_and_stores_only_its_hash(admin, session) -> None:
    response = post(
        admin,
        "/admin/tokens/new",
        {"name": "Email responder", "scopes": ["bundles:read", "events:write"]},
    )
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    token = session.scalar(select(ApiToken))
    secret = page.split('id="secret" type="text" readonly value="', 1)[1].split('"', 1)[0]
    assert secret.startswith(token.prefix)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.scopes == ["bundles:read", "events:write"]
    assert "will not be shown again" in page
    listing = admin.get("/admin/tokens/").get_data(as_text=True)
    assert "Email responder" in listing and token.prefix in listing and secret not in listing
    assert (
        session.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "api_token"))
        == "api_token.create"
    )


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"name": "", "scopes": ["decide"]}, "name", "Name the system"),
        ({"name": "x" * 121, "scopes": ["decide"]}, "name", "under 120"),
        ({"name": "Chat"}, "scopes", "at least one"),
        ({"name": "Chat", "scopes": ["admin"]}, "scopes", "not a scope"),
    ],
)
def test_a_refused_token_says_why_and_issues_nothing(admin, session, form, field, message) -> None:
    response = post(admin, "/admin/tokens/new", form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(ApiToken)) is None


def test_revoking_asks_first_then_marks_the_token_revoked(admin, session) -> None:
    post(admin, "/admin/tokens/new", {"name": "Chat bot", "scopes": ["decide"]})
    token = session.scalar(select(ApiToken))
    confirm = admin.get(f"/admin/tokens/{token.id}/revoke")
    assert confirm.status_code == 200
    assert "Revoke “Chat bot”?" in confirm.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(ApiToken)).revoked_at is None
    response = post(admin, f"/admin/tokens/{token.id}/revoke")
    assert response.status_code == 302
    session.expire_all()
    assert session.scalar(select(ApiToken)).revoked_at is not None
    listing = admin.get("/admin/tokens/").get_data(as_text=True)
    assert "Revoked" in listing and "is revoked" in listing


def test_revoking_an_unknown_token_is_404(admin) -> None:
    assert admin.get("/admin/tokens/999/revoke").status_code == 404
    assert post(admin, "/admin/tokens/999/revoke").status_code == 404


@pytest.mark.parametrize("role", ["marketer", "service_lead", "reviewer"])
def test_only_admins_manage_tokens(app: Flask, session, role: str) -> None:
    client = sign_in_as(app.test_client(), make_user(session, role))
    assert client.get("/admin/tokens/").status_code == 403
    assert post(client, "/admin/tokens/new", {"name": "x", "scopes": ["decide"]}).status_code == 403
    assert session.scalar(select(ApiToken)) is None


def test_people_page_links_to_api_tokens(admin) -> None:
    assert 'href="/admin/tokens/"' in admin.get("/admin/users").get_data(as_text=True)


def test_api_reference_page_is_rendered_from_the_openapi_document(app: Flask) -> None:
    page = app.test_client().get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    for path, methods in document["paths"].items():
        for method in methods:
            assert f"{method.upper()} {path}" in html
    assert '<script src="http' not in html
