"""Admins add people, give and take roles, and deactivate accounts."""

from __future__ import annotations

import pytest
from flask import Flask

from studio.models import AuditEvent, User
from tests.factories import make_user, post, sign_in_as

GOOD = {
    "name": "Nia Brown",
    "email": "nia@example.com",
    "password": "a long password",
    "roles": ["marketer", "reviewer"],
}


@pytest.fixture
def admin_client(app: Flask, session):
    admin = make_user(session, "admin", name="Admin")
    return sign_in_as(app.test_client(), admin), admin


def test_admin_adds_a_person_who_can_then_sign_in(admin_client, session) -> None:
    client, _ = admin_client
    response = post(client, "/admin/users/new", GOOD)
    assert response.status_code == 302
    user = session.query(User).filter_by(email="nia@example.com").one()
    assert user.roles == {"marketer", "reviewer"}
    assert (
        session.query(AuditEvent).filter_by(action="user.create", object_id=str(user.id)).count()
        == 1
    )


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"email": ""}, "email", "Enter an email address."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address"),
        ({"email": "x" * 300 + "@example.com"}, "email", "Enter a valid email address"),
        ({"name": "   "}, "name", "Enter the person&#39;s name."),
        ({"name": "n" * 121}, "name", "Keep the name under 120 characters."),
        ({"password": "short"}, "password", "Use at least 10 characters."),
        ({"password": "p" * 257}, "password", "Use at most 256 characters."),
        ({"roles": ["overlord"]}, "roles", "Unknown role: overlord."),
    ],
)
def test_bad_new_person_form_says_what_is_wrong_and_saves_nothing(
    admin_client, session, change: dict, field: str, message: str
) -> None:
    client, _ = admin_client
    before = session.query(User).count()
    response = post(client, "/admin/users/new", {**GOOD, **change})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert f'id="f-{field}-error"' in html or field == "roles"
    assert session.query(User).count() == before


def test_duplicate_email_is_refused_with_a_message(admin_client, session) -> None:
    client, _ = admin_client
    make_user(session, "marketer", email="nia@example.com")
    response = post(client, "/admin/users/new", {**GOOD, "email": "NIA@example.com"})
    assert response.status_code == 422
    assert "Someone already has the email nia@example.com." in response.get_data(as_text=True)
    assert session.query(User).filter_by(email="nia@example.com").count() == 1


def test_admin_gives_and_takes_roles(admin_client, session) -> None:
    client, _ = admin_client
    person = make_user(session, "marketer")
    response = post(
        client, f"/admin/users/{person.id}/roles", {"roles": ["service_lead", "reviewer"]}
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(User, person.id).roles == {"service_lead", "reviewer"}
    event = session.query(AuditEvent).filter_by(action="user.roles").one()
    assert event.detail == {"before": ["marketer"], "after": ["reviewer", "service_lead"]}


def test_admin_cannot_remove_their_own_admin_role(admin_client, session) -> None:
    client, admin = admin_client
    response = post(client, f"/admin/users/{admin.id}/roles", {"roles": ["marketer"]})
    assert response.status_code == 422
    assert "cannot take the admin role from yourself" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, admin.id).roles == {"admin"}


def test_deactivation_asks_for_confirmation_first(admin_client, session) -> None:
    client, _ = admin_client
    person = make_user(session, "marketer", name="Pat")
    page = client.get(f"/admin/users/{person.id}/deactivate")
    assert page.status_code == 200
    assert "Deactivate Pat?" in page.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, person.id).active is True


def test_admin_deactivates_and_reactivates_an_account(admin_client, session) -> None:
    client, _ = admin_client
    person = make_user(session, "marketer")
    assert post(client, f"/admin/users/{person.id}/deactivate").status_code == 302
    session.expire_all()
    assert session.get(User, person.id).active is False
    assert post(client, f"/admin/users/{person.id}/activate").status_code == 302
    session.expire_all()
    assert session.get(User, person.id).active is True


def test_admin_cannot_deactivate_themselves(admin_client, session) -> None:
    client, admin = admin_client
    response = post(client, f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 422
    session.expire_all()
    assert session.get(User, admin.id).active is True


def test_people_list_searches_and_paginates(admin_client, session) -> None:
    client, _ = admin_client
    for n in range(30):
        make_user(session, "marketer", name=f"Zed {n:02d}", email=f"zed{n}@example.com")
    first = client.get("/admin/users?q=zed").get_data(as_text=True)
    assert "30 people matching" in first and "Page 1 of 2" in first
    second = client.get("/admin/users?q=zed&page=2").get_data(as_text=True)
    assert "Zed 29" in second and "Zed 00" not in second
    nobody = client.get("/admin/users?q=qqqq").get_data(as_text=True)
    assert "Nobody matches" in nobody


def test_people_search_answers_htmx_with_just_the_table(admin_client) -> None:
    client, _ = admin_client
    html = client.get("/admin/users?q=admin", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<table" in html and "<html" not in html


def test_unknown_person_is_404(admin_client) -> None:
    client, _ = admin_client
    assert client.get("/admin/users/99999").status_code == 404
    assert post(client, "/admin/users/99999/roles", {"roles": ["marketer"]}).status_code == 404


def test_garbage_page_number_shows_the_first_page(admin_client) -> None:
    client, _ = admin_client
    assert client.get("/admin/users?page=abc").status_code == 200
