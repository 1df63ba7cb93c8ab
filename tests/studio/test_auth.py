"""Signing in and out, lockout, CSRF, and security headers."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from studio.models import AuditEvent, User
from tests.factories import PASSWORD, make_user, post, sign_in_as


def _csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form has no CSRF field"
    return match.group(1)


def _sign_in(client, email: str, password: str, next_url: str = ""):
    page = client.get("/sign-in")
    token = _csrf_from(page.get_data(as_text=True))
    url = "/sign-in" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password, "csrf_token": token})


def test_person_signs_in_with_right_password_and_lands_home(app: Flask, session) -> None:
    user = make_user(session, "marketer", email="ana@example.com", name="Ana")
    client = app.test_client()
    response = _sign_in(client, "  ANA@example.com ", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Welcome, Ana" in home
    session.expire_all()
    assert session.get(User, user.id).last_login_at is not None


def test_wrong_password_gets_a_clear_message_and_no_session(app: Flask, session) -> None:
    make_user(session, "marketer", email="ana@example.com")
    client = app.test_client()
    response = _sign_in(client, "ana@example.com", "wrong password")
    assert response.status_code == 401
    assert "do not match an active account" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_email_gets_the_same_message_as_a_wrong_password(app: Flask) -> None:
    response = _sign_in(app.test_client(), "nobody@example.com", "whatever123")
    assert response.status_code == 401
    assert "do not match an active account" in response.get_data(as_text=True)


def test_account_locks_after_five_failures_even_for_the_right_password(app: Flask, session) -> None:
    make_user(session, "marketer", email="ana@example.com")
    client = app.test_client()
    for _ in range(5):
        _sign_in(client, "ana@example.com", "guess-guess")
    response = _sign_in(client, "ana@example.com", PASSWORD)
    assert response.status_code == 401
    assert "Too many failed sign-ins. Try again in 15 minute(s)." in response.get_data(as_text=True)
    failures = session.query(AuditEvent).filter_by(action="auth.sign_in_failed").count()
    assert failures == 5


def test_deactivated_account_cannot_sign_in(app: Flask, session) -> None:
    make_user(session, "marketer", email="ana@example.com", active=False)
    assert _sign_in(app.test_client(), "ana@example.com", PASSWORD).status_code == 401


def test_sign_in_follows_a_local_next_but_never_another_site(app: Flask, session) -> None:
    make_user(session, "admin", email="ana@example.com")
    local = _sign_in(app.test_client(), "ana@example.com", PASSWORD, "/admin/users")
    assert local.headers["Location"] == "/admin/users"
    for hostile in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = _sign_in(app.test_client(), "ana@example.com", PASSWORD, hostile)
        assert response.headers["Location"] == "/", hostile


def test_a_page_that_needs_signing_in_says_so_on_the_sign_in_page(app: Flask, session) -> None:
    client = app.test_client()
    sent = client.get("/offers/")
    assert sent.status_code == 302
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Sign in to open that page; you go straight to it afterwards." in page
    assert "Sign in to open that page" not in client.get("/sign-in").get_data(as_text=True)


def test_sign_out_ends_the_session(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    assert client.get("/").status_code == 200
    assert post(client, "/sign-out").status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_state_changing_request_without_the_right_csrf_token_is_refused(
    app: Flask, session, token: str | None
) -> None:
    admin = make_user(session, "admin")
    client = sign_in_as(app.test_client(), admin)
    data = {
        "email": "new@example.com",
        "name": "New",
        "password": "long enough pw",
        "roles": ["marketer"],
    }
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 400
    assert "nothing was saved" in response.get_data(as_text=True)
    assert session.query(User).filter_by(email="new@example.com").count() == 0


def test_htmx_request_may_send_the_csrf_token_as_a_header(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "admin"))
    response = client.post(
        "/admin/users/new",
        data={
            "email": "new@example.com",
            "name": "New",
            "password": "long enough pw",
            "roles": ["marketer"],
        },
        headers={"X-CSRF-Token": "test-csrf-token", "HX-Request": "true"},
    )
    assert response.status_code == 302
    assert session.query(User).filter_by(email="new@example.com").count() == 1


def test_sign_in_form_itself_is_csrf_protected(app: Flask, session) -> None:
    make_user(session, "marketer", email="ana@example.com")
    response = app.test_client().post(
        "/sign-in", data={"email": "ana@example.com", "password": PASSWORD}
    )
    assert response.status_code == 400


def test_pages_carry_a_csp_without_inline_script_and_other_security_headers(app: Flask) -> None:
    response = app.test_client().get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    html = response.get_data(as_text=True)
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, "inline script found"
    assert " on" + "click=" not in html


def test_an_editor_page_allows_only_its_own_nonced_style_element(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "service_lead"))
    page = client.get("/rules/new")
    nonce = re.search(r'<meta name="style-nonce" content="([^"]+)">', page.get_data(as_text=True))
    assert nonce is not None
    csp = page.headers["Content-Security-Policy"]
    assert f"style-src 'self' 'nonce-{nonce.group(1)}';" in csp and "unsafe-inline" not in csp
    again = client.get("/rules/new").headers["Content-Security-Policy"]
    assert nonce.group(1) not in again, "a nonce serves one page only"
    plain = client.get("/rules/").headers["Content-Security-Policy"]
    assert "style-src 'self';" in plain and "nonce-" not in plain


def test_session_cookie_is_http_only_and_same_site(app: Flask, session) -> None:
    make_user(session, "marketer", email="ana@example.com")
    client = app.test_client()
    response = _sign_in(client, "ana@example.com", PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    "hostile",
    [
        "/admin%0d%0aSet-Cookie:x=1",
        "/admin\r\nSet-Cookie: x=1",
        "/a\nb",
        "/a\x00b",
        "/\\evil.example",
        "/\t/evil.example",
        "/a b",
        "/a\u2028b",
        "/a\x85b",
    ],
)
def test_next_with_control_characters_or_odd_paths_goes_home_never_a_500(
    app: Flask, session, hostile: str
) -> None:
    from urllib.parse import quote

    make_user(session, "admin", email="ana@example.com")
    for next_value in (quote(hostile, safe=""), quote(hostile, safe="/%")):
        response = _sign_in(app.test_client(), "ana@example.com", PASSWORD, next_value)
        assert response.status_code == 302, hostile
        location = response.headers["Location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location
        assert not re.search(r"[\x00-\x20\x7f-\x9f\\]", location), location


def _copied_cookie(client) -> str:
    cookie = client.get_cookie("studio_session")
    assert cookie is not None
    return cookie.value


def _with_cookie(app: Flask, value: str):
    other = app.test_client()
    other.set_cookie("studio_session", value)
    return other


def test_a_cookie_copied_before_sign_out_no_longer_works(app: Flask, session) -> None:
    make_user(session, "marketer", email="ana@example.com")
    client = app.test_client()
    assert _sign_in(client, "ana@example.com", PASSWORD).status_code == 302
    copied = _copied_cookie(client)
    assert _with_cookie(app, copied).get("/").status_code == 200
    home = client.get("/").get_data(as_text=True)
    assert post(client, "/sign-out", {"csrf_token": _csrf_from(home)}).status_code == 302
    thief = _with_cookie(app, copied)
    assert thief.get("/").status_code == 302
    assert thief.get("/offers/").status_code == 302


def test_deactivation_ends_the_persons_sessions(app: Flask, session) -> None:
    ana = make_user(session, "marketer", email="ana@example.com")
    client = app.test_client()
    _sign_in(client, "ana@example.com", PASSWORD)
    copied = _copied_cookie(client)
    admin = sign_in_as(app.test_client(), make_user(session, "admin"))
    assert post(admin, f"/admin/users/{ana.id}/deactivate").status_code == 302
    assert post(admin, f"/admin/users/{ana.id}/activate").status_code == 302
    assert _with_cookie(app, copied).get("/").status_code == 302
    assert client.get("/").status_code == 302


def test_a_new_password_from_the_cli_ends_the_persons_sessions(
    app: Flask, session, monkeypatch
) -> None:
    from click.testing import CliRunner

    import studio.cli
    from studio.cli import main

    make_user(session, "marketer", email="ana@example.com")
    client = app.test_client()
    _sign_in(client, "ana@example.com", PASSWORD)
    copied = _copied_cookie(client)
    monkeypatch.setattr(studio.cli, "create_app", lambda: app)
    result = CliRunner().invoke(
        main,
        [
            "users",
            "set-password",
            "--email",
            "ana@example.com",
            "--password",
            "another long password",
        ],
    )
    assert result.exit_code == 0, result.output
    assert _with_cookie(app, copied).get("/").status_code == 302
    assert (
        _sign_in(app.test_client(), "ana@example.com", "another long password").status_code == 302
    )


def test_a_late_background_answer_does_not_put_back_the_cookie_it_was_sent_with(
    app: Flask, session
) -> None:
    """A preview sent before a save and answering after it must not drop "Saved …"."""
    make_user(session, "admin", email="ana@example.com")
    client = app.test_client()
    assert _sign_in(client, "ana@example.com", PASSWORD).status_code == 302
    before_save = _copied_cookie(client)
    form = client.get("/admin/users/new").get_data(as_text=True)
    created = post(
        client,
        "/admin/users/new",
        {
            "csrf_token": _csrf_from(form),
            "email": "new@example.com",
            "name": "New",
            "password": "long enough pw",
            "roles": ["marketer"],
        },
    )
    assert created.status_code == 302

    late = _with_cookie(app, before_save)
    for headers in ({"HX-Request": "true"}, {"Accept": "application/json"}):
        answer = late.get("/", headers=headers)
        assert answer.status_code == 200
        assert "Set-Cookie" not in answer.headers, headers
    page = client.get(created.headers["Location"])
    assert "New" in page.get_data(as_text=True)
    assert "flash" in page.get_data(as_text=True)
    # A page the person opens still keeps the sign-in alive (sliding expiry).
    assert "Set-Cookie" in client.get("/").headers


def test_a_background_request_that_changes_the_session_still_sends_it(app: Flask, session) -> None:
    make_user(session, "admin", email="ana@example.com")
    client = app.test_client()
    assert _sign_in(client, "ana@example.com", PASSWORD).status_code == 302
    with client.session_transaction() as flask_session:
        flask_session["sv"] = -1  # a session the person's password change has ended
    answer = client.get("/", headers={"HX-Request": "true"})
    assert "Set-Cookie" in answer.headers
    assert client.get("/").status_code == 302
