"""Every page in the URL map answers each role as the role table says: server-side."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from studio.roles import AREAS_BY_KEY, ROLES
from tests.factories import make_user, sign_in_as

PUBLIC_ENDPOINTS = {
    "static",
    "auth.sign_in",
    "auth.sign_out",
    "home.health",
    "home.ready",
    "assets.serve",
}
# Token-authenticated API views, the public API reference and the customer pages
# (authorized by the message token in the address): not session pages.
PUBLIC_BLUEPRINTS = {"api", "api_docs", "customer"}


def _is_public(endpoint: str) -> bool:
    return endpoint in PUBLIC_ENDPOINTS or endpoint.partition(".")[0] in PUBLIC_BLUEPRINTS


def _get_routes(app: Flask) -> list[tuple[str, str, str | None, bool]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or _is_public(rule.endpoint):
            continue
        view = app.view_functions[rule.endpoint]
        args: dict[str, Any] = {arg: 1 for arg in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **args)
        routes.append(
            (rule.endpoint, url, getattr(view, "_studio_area", "missing"), bool(rule.arguments))
        )
    return routes


def test_every_view_declares_who_may_use_it(app: Flask) -> None:
    undeclared = [endpoint for endpoint, _url, area, _ in _get_routes(app) if area == "missing"]
    assert undeclared == [], "views without @requires/@signed_in/@public: " + ", ".join(undeclared)
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if _is_public(rule.endpoint) and rule.endpoint not in ("static", "customer.static"):
            assert getattr(view, "_studio_public", False), rule.endpoint


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_its_areas(app: Flask, session, role: str) -> None:
    # A second person so that pages with an id in the URL find someone.
    make_user(session, "marketer")
    user = make_user(session, role)
    client = sign_in_as(app.test_client(), user)
    for endpoint, url, area, has_id in _get_routes(app):
        response = client.get(url)
        allowed = area is None or role in AREAS_BY_KEY[area].roles
        # Pages for one object are asked for object 1, which may not exist: 404 is honest.
        expected = ({200, 404} if has_id else {200}) if allowed else {403}
        assert response.status_code in expected, f"{role} GET {url} ({endpoint})"


def test_signed_out_visitor_is_sent_to_sign_in_from_every_page(app: Flask) -> None:
    client = app.test_client()
    for _endpoint, url, _area, _ in _get_routes(app):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/sign-in?next=" in response.headers["Location"]


def test_htmx_request_with_expired_session_gets_401_and_a_redirect_header(app: Flask) -> None:
    response = app.test_client().get("/admin/users", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/sign-in")


def test_forbidden_page_explains_who_may_use_it(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "Admin is for: admin" in response.get_data(as_text=True)


def test_deactivated_person_is_signed_out_on_next_request(app: Flask, session) -> None:
    user = make_user(session, "admin")
    client = sign_in_as(app.test_client(), user)
    assert client.get("/admin/users").status_code == 200
    user.active = False
    session.commit()
    assert client.get("/admin/users").status_code == 302
