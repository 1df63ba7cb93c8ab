"""What a person does in the browser, as small helpers the tests read like prose."""

from __future__ import annotations

from playwright.sync_api import Page

from studio.demo import DEMO_PASSWORD


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
