"""What a person does in the browser, as small helpers the tests read like prose."""

from __future__ import annotations

from playwright.sync_api import Page

from studio.demo import DEMO_PASSWORD


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def code_editor(page: Page, label: str = "Source"):
    """The code editor (CodeMirror) that replaces a source textarea, found by its label."""
    return page.get_by_role("textbox", name=label, exact=True).and_(page.locator(".cm-content"))


def source_text(page: Page) -> str:
    """What the form will post: the editor writes every change back to the textarea."""
    return page.locator("#source").input_value()


def replace_source(page: Page, text: str, label: str = "Source") -> None:
    """Select everything in the code editor and type `text` over it (one paste)."""
    editor = code_editor(page, label)
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
