"""Every role signs in, sees its home and only its areas, and signs out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.pages import sign_in
from studio.demo import DEMO_PEOPLE
from studio.roles import ROLE_LABELS, areas_for

SINGLE_ROLE_PEOPLE = [person for person in DEMO_PEOPLE if len(person.roles) == 1]


@pytest.mark.parametrize("person", SINGLE_ROLE_PEOPLE, ids=lambda p: p.roles[0])
def test_each_role_signs_in_and_sees_its_areas(page: Page, person) -> None:
    sign_in(page, person.email)
    expect(page.get_by_role("heading", name=f"Welcome, {person.name}")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expected = [area.label for area in areas_for(frozenset(person.roles))]
    expect(nav.get_by_role("link")).to_have_text(expected)
    expect(page.locator(".usermenu .roles .badge")).to_have_text([ROLE_LABELS[person.roles[0]]])


def test_wrong_password_shows_a_clear_message_and_keeps_the_email(page: Page) -> None:
    sign_in(page, "mara@demo.studio", "not the password")
    expect(page.get_by_role("alert")).to_have_text(
        "That email and password do not match an active account."
    )
    expect(page.get_by_label("Email")).to_have_value("mara@demo.studio")
    expect(page.get_by_label("Password")).to_be_focused()


def test_sign_out_returns_to_sign_in_and_protects_pages(page: Page) -> None:
    sign_in(page, "sam@demo.studio")
    # The home page's own requests finish first: one still in flight when the sign-out
    # answers refreshes the session cookie and takes the flash with it (signed out all
    # the same: the old session's version is void).
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto("/rules/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))


def test_marketer_typing_an_admin_address_gets_a_403_page(page: Page) -> None:
    sign_in(page, "mara@demo.studio")
    response = page.goto("/admin/users")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="You do not have access to this page")).to_be_visible()


def test_admin_adds_a_person_who_then_signs_in(page: Page, browser) -> None:
    sign_in(page, "alex@demo.studio")
    page.get_by_role("link", name="Admin").first.click()
    page.get_by_role("link", name="Add a person").click()
    page.get_by_label("Name").fill("Noor Service")
    page.get_by_label("Email").fill("noor@demo.studio")
    page.get_by_label("First password").fill("short")
    page.get_by_label("Service lead").check()
    page.get_by_role("button", name="Add person").click()
    expect(page.get_by_text("Use at least 10 characters.")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Noor Service")
    page.get_by_label("First password").fill("a long enough password")
    page.get_by_role("button", name="Add person").click()
    expect(page.get_by_text("Noor Service can now sign in as noor@demo.studio.")).to_be_visible()

    other = browser.new_page(base_url=page.url.split("/admin")[0])
    sign_in(other, "noor@demo.studio", "a long enough password")
    expect(other.get_by_role("heading", name="Welcome, Noor Service")).to_be_visible()
    other.close()


def test_admin_searches_people_as_they_type(page: Page) -> None:
    sign_in(page, "alex@demo.studio")
    page.goto("/admin/users")
    page.get_by_label("Search people").fill("rita")
    expect(page.locator("#users-table tbody tr")).to_have_count(1)
    expect(page.locator("#users-table")).to_contain_text("Rita Jensen")
