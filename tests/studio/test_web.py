"""The shared request helpers: every list page reads `page` and `HX-Request` the same way."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import make_user, sign_in_as

LIST_PAGES = [
    "/offers/",
    "/layouts/",
    "/rules/",
    "/interactions/",
    "/assets/",
    "/reviews/",
    "/bundles/",
    "/admin/users",
    "/audit/",
    "/inbox/",
]


@pytest.fixture
def everyone(app: Flask, session: Session) -> FlaskClient:
    user = make_user(session, "marketer", "service_lead", "reviewer", "admin")
    return sign_in_as(app.test_client(), user)


@pytest.mark.parametrize("url", LIST_PAGES)
@pytest.mark.parametrize("page", ["abc", "-3"])
def test_a_list_page_shows_the_first_page_for_a_missing_or_garbage_page_number(
    everyone: FlaskClient, url: str, page: str
) -> None:
    response = everyone.get(f"{url}?page={page}")
    assert response.status_code == 200
    assert "<html" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", LIST_PAGES)
def test_an_htmx_request_gets_the_partial_from_the_same_view(
    everyone: FlaskClient, url: str
) -> None:
    response = everyone.get(f"{url}?page=2", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.strip()


def test_a_page_not_found_says_what_is_missing_when_the_view_knows(app, session) -> None:
    """Every abort(404, description=...) showed the generic text instead."""
    client = sign_in_as(app.test_client(), make_user(session, "service_lead"))
    missing = client.get("/history/customers/nobody-here")
    assert missing.status_code == 404
    assert "There is no history for the customer nobody-here." in missing.get_data(as_text=True)
    unknown = client.get("/no/such/page").get_data(as_text=True)
    assert "The page you asked for does not exist." in unknown
