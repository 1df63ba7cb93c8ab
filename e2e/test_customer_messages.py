"""A customer answers on their own page: opened by a decision through the API, read on a
phone, accepted, rated with a comment; staff see it in the analytics and can withdraw.

axe-core checks every customer page (no serious or critical violations); screenshots
at 375 px and 1280 px land in the test's output folder for a person to look at.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import update

from e2e.pages import sign_in
from studio.db import get_database
from studio.models import Message
from studio.services import api_tokens

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
CHANNEL = "text_message"
CHECKBOOK: dict[str, Any] = {
    "id": "i-e2e-checkbook",
    "at": "2026-03-02T10:15:00Z",
    "inquiry": {
        "category": "transactional",
        "intent": "order_checkbook",
        "channel": "email",
        "resolution": "confirmed",
    },
    "tone": {"label": "neutral", "score": 0.2},
    "customer": {
        "id": "c-e2e-1",
        "authenticated": True,
        "tier": "gold",
        "state": "CA",
        "products": ["checking"],
    },
}


@pytest.fixture(scope="module")
def api_token(live_app: tuple[Flask, str]) -> str:
    app, _ = live_app
    session = get_database(app).session()
    try:
        secret = api_tokens.create(
            session, name="E2E responder", scopes=["decide", "messages:write"], actor_id=None
        ).secret
        session.commit()
    finally:
        session.close()
    return secret


def _open(page: Page, token: str, customer: str) -> dict[str, Any]:
    interaction = {**CHECKBOOK, "customer": {**CHECKBOOK["customer"], "id": customer}}
    response = page.request.post(
        "/api/v1/decide",
        headers={"Authorization": f"Bearer {token}"},
        data={
            "interaction": interaction,
            "channels": ["sms"],
            "open_message": {
                "channel": CHANNEL,
                "customer": {"id": customer, "first_name": "Ann"},
                "response": {
                    "text": "Your new checks are on their way: expect them within 5 business days."
                },
            },
        },
    )
    assert response.status == 201, response.text()
    return response.json()


def _phone(browser: Browser, base_url: str, width: int = 375) -> BrowserContext:
    # bypass_csp lets the test inject axe-core; the page itself allows no script at all.
    return browser.new_context(
        base_url=base_url,
        viewport={"width": width, "height": 800},
        locale="en-US",
        timezone_id="UTC",
        bypass_csp=True,
    )


def _axe(page: Page) -> None:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], "\n".join(bad)


def _no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_customer_accepts_rates_and_comments_once_and_analytics_counts_it(
    page: Page, browser: Browser, base_url: str, api_token: str, tmp_path: Path
) -> None:
    answer = _open(page, api_token, "c-e2e-1")
    url = answer["message"]["url"]
    assert re.fullmatch(re.escape(base_url) + r"/m/[A-Za-z0-9_-]{22}", url)
    assert url in answer["offers"][0]["variants"]["sms"]["text"]

    phone = _phone(browser, base_url)
    customer = phone.new_page()
    customer.goto(url)
    expect(customer.get_by_role("heading", name="Your answer")).to_be_visible()
    expect(customer.locator(".c-response")).to_have_text(
        "Your new checks are on their way: expect them within 5 business days."
    )
    offer = customer.locator("section.c-offer")
    expect(offer.get_by_role("heading", name="Never bounce a check again")).to_be_visible()
    _no_horizontal_scroll(customer)
    customer.screenshot(path=str(tmp_path / "message-375.png"), full_page=True)
    _axe(customer)

    offer.get_by_role("button", name="Accept").click()
    expect(customer.get_by_text("You accepted this offer")).to_be_visible()
    expect(offer.get_by_role("button", name="Accept")).to_have_count(0)

    customer.locator("label.c-score", has_text=re.compile(r"^9$")).click()
    customer.get_by_role("button", name="Send").click()
    expect(customer.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(customer.get_by_text("9 out of 10")).to_be_visible()
    _axe(customer)
    customer.get_by_label("What is the main reason for your score?").fill(
        "Quick <b>answer</b>, thanks!"
    )
    customer.get_by_role("button", name="Send comment").click()
    expect(customer.locator("blockquote")).to_have_text("Quick <b>answer</b>, thanks!")
    customer.screenshot(path=str(tmp_path / "thanks-375.png"), full_page=True)

    # Replays: the same clicks again (a second tab, a reload, a retried form) count once.
    token_path = url.removeprefix(base_url)
    again = customer.request.post(
        f"{token_path}/offers/overdraft_protection/accept", max_redirects=0
    )
    assert again.status == 303
    assert (
        customer.request.post(f"{token_path}/nps", form={"score": "2"}, max_redirects=0).status
        == 303
    )
    customer.goto(url)
    expect(customer.get_by_text("You gave us 9 out of 10")).to_be_visible()

    customer.goto(f"{url}/offers/overdraft_protection/not-welcome")
    expect(customer.get_by_role("heading", name="This offer was not welcome")).to_be_visible()
    _axe(customer)
    customer.screenshot(path=str(tmp_path / "complaint-375.png"), full_page=True)
    customer.get_by_role("button", name="Tell them").click()
    expect(customer.get_by_text("The team responsible for it has been told")).to_be_visible()

    wide = _phone(browser, base_url, width=1280)
    desk = wide.new_page()
    desk.goto(url)
    desk.screenshot(path=str(tmp_path / "message-1280.png"), full_page=True)
    wide.close()

    sign_in(page, "rita@demo.studio")
    page.goto("/analytics/")
    row = page.locator("tr", has=page.locator("td", has_text=CHANNEL))
    expect(row).to_have_count(1)
    cells = row.locator("td")
    expect(cells.nth(0)).to_have_text("overdraft_protection")
    # One customer is a small sample: counts, never "1 (100.0%)".
    expect(cells.nth(4)).to_have_text("1 small sample")
    expect(cells.nth(5)).to_have_text("1")
    expect(cells.nth(8)).to_have_text("+100 (1 answer: small sample)")

    # Every event the page recorded names the decision that opened the message.
    page.goto(f"/decisions/{answer['decision_id']}")
    after = page.locator("section.card", has=page.get_by_role("heading", name="What happened next"))
    expect(after.get_by_text("No events name this decision yet")).to_have_count(0)
    kinds = after.locator("tbody tr td:nth-child(2)")
    expect(kinds).to_have_text(["shown", "accepted", "nps", "complaint"])
    phone.close()


def test_expired_and_withdrawn_links_show_a_customer_page(
    page: Page,
    browser: Browser,
    base_url: str,
    api_token: str,
    live_app: tuple[Flask, str],
    tmp_path: Path,
) -> None:
    expired = _open(page, api_token, "c-e2e-2")
    withdrawn = _open(page, api_token, "c-e2e-3")
    app, _ = live_app
    session = get_database(app).session()
    session.execute(
        update(Message)
        .where(Message.id == expired["message"]["id"])
        .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    session.commit()
    session.close()

    sign_in(page, "sam@demo.studio")
    page.get_by_role("link", name="Messages").first.click()
    page.get_by_label("Customer id or message number").fill("c-e2e-3")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Withdraw…").click()
    page.get_by_role("button", name="Withdraw message").click()
    expect(page.get_by_text("is withdrawn")).to_be_visible()

    phone = _phone(browser, base_url)
    customer = phone.new_page()
    response = customer.goto(expired["message"]["url"])
    assert response is not None and response.status == 410
    expect(customer.get_by_role("heading", name="This message has expired")).to_be_visible()
    _axe(customer)
    response = customer.goto(withdrawn["message"]["url"])
    assert response is not None and response.status == 410
    expect(customer.get_by_role("heading", name="This message was withdrawn")).to_be_visible()
    customer.screenshot(path=str(tmp_path / "withdrawn-375.png"), full_page=True)
    _axe(customer)
    response = customer.goto("/m/not-a-real-token")
    assert response is not None and response.status == 404
    expect(customer.get_by_role("heading", name="We could not find this message")).to_be_visible()
    expect(customer.get_by_text("Sign in")).to_have_count(0)
    _axe(customer)
    phone.close()
