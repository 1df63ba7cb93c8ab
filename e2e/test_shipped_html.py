"""What the studio ships to customers, opened in Chromium the way a mail client would.

No Content-Security-Policy, no iframe sandbox: each hostile layout of the corpus
(tests/content/corpora/shipped_layouts.txt, in every layout channel) is rendered through
the content library exactly as `/api/v1/decide` and the bundle client render it, served
from a plain origin, and loaded with every dialog hooked and every element's event
handlers provoked. Nothing may run and nothing may be fetched from another host.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from playwright.sync_api import Dialog, Page, Route

from tests.shipped_html import cases, shipped_html

ORIGIN = "https://mail.test"
HOOKS = """
window.__ran = [];
for (const name of ['alert', 'confirm', 'prompt', 'print']) {
  window[name] = (...args) => { window.__ran.push(name + ':' + args.join(',')); };
}
"""
PROVOKE = """() => {
  const kinds = ['click', 'mouseover', 'mouseenter', 'focus', 'blur', 'load', 'error',
                 'toggle', 'animationstart', 'transitionend', 'pointerdown', 'keydown'];
  for (const el of document.querySelectorAll('*')) {
    for (const kind of kinds) {
      try { el.dispatchEvent(new Event(kind, {bubbles: true})); } catch (e) {}
    }
    if ((el.tagName === 'A' || el.tagName === 'AREA') && el.href &&
        !['http:', 'https:', 'mailto:'].includes(new URL(el.href, location.href).protocol)) {
      window.__ran.push('link:' + el.href);
      el.click();
    }
  }
  return window.__ran;
}"""

SHIPPED = [(case.id, html) for case in cases() if (html := shipped_html(case)) is not None]


RAW_CONTROL = "<p>unsanitized</p><img src=x onerror=alert(1)>"


class MailClient:
    """One Chromium page that opens documents from a plain origin and records what runs."""

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def __init__(self, page: Page) -> None:
        self.page = page
        self.documents: dict[str, str] = {}
        self.dialogs: list[str] = []
        self.foreign: list[str] = []
        page.on("dialog", self._dialog)
        page.route("**/*", self._serve)

    def _serve(self, route: Route) -> None:
        url = route.request.url
        path = urlparse(url).path
        if urlparse(url).hostname == "mail.test" and path in self.documents:
            route.fulfill(
                status=200, body=self.documents[path], content_type="text/html; charset=utf-8"
            )
            return
        if urlparse(url).hostname != "mail.test":
            self.foreign.append(url)
        route.fulfill(status=204, body="")

    def open(self, name: str, html: str) -> tuple[list[str], list[str], list[str], str]:
        """Load `html`, provoke every handler; return (ran, dialogs, foreign fetches, url)."""
        self.dialogs.clear()
        self.foreign.clear()
        path = f"/message/{name}"
        self.documents[path] = html
        self.page.goto(f"{ORIGIN}{path}", wait_until="load")
        ran = list(self.page.evaluate(PROVOKE))
        self.page.wait_for_timeout(20)
        if self.page.url == f"{ORIGIN}{path}":
            ran = list(self.page.evaluate("() => window.__ran || []"))
        return ran, list(self.dialogs), list(self.foreign), self.page.url


@pytest.fixture(scope="module")
def mail_client(browser):
    context = browser.new_context(bypass_csp=True)
    context.add_init_script(HOOKS)
    page = context.new_page()
    yield MailClient(page)
    context.close()


def test_the_corpus_is_large_enough_to_mean_something() -> None:
    assert len(SHIPPED) >= 250


def test_the_mail_client_sees_script_that_runs(mail_client: MailClient) -> None:
    ran, _dialogs, _foreign, _url = mail_client.open("control", RAW_CONTROL)
    assert "alert:1" in ran


@pytest.mark.parametrize(("case_id", "html"), SHIPPED, ids=[c for c, _ in SHIPPED])
def test_shipped_html_runs_nothing_and_fetches_nothing_elsewhere(
    mail_client: MailClient, case_id: str, html: str
) -> None:
    ran, dialogs, foreign, url = mail_client.open(case_id, html)
    assert url == f"{ORIGIN}/message/{case_id}", f"the page navigated to {url}"
    assert (ran, dialogs, foreign) == ([], [], []), html
