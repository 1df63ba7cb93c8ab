"""A service lead reads why a resolution-gated offer was, or was not yet, made.

The demo bank example through the real `/api/v1/decide`: a proposed fix schedules the
check-in with `mobile_alerts` gated on the thread; the customer's confirming reply on the
same thread gets the offer; each decision's page says so in words.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect

from e2e.pages import sign_in
from studio.db import get_database
from studio.demo.samples import demo_samples
from studio.services import api_tokens


def _token(app: Flask) -> str:
    session = get_database(app).session()
    try:
        secret = api_tokens.create(
            session, name="E2E gated offers", scopes=["decide"], actor_id=None
        ).secret
        session.commit()
    finally:
        session.close()
    return secret


def _decide(page: Page, token: str, key: str) -> dict[str, Any]:
    interaction = copy.deepcopy(next(s for s in demo_samples() if s["key"] == key)["interaction"])
    interaction["customer"]["id"] = "c-e2e-gated"
    interaction["tone"] = "positive"
    answer = page.request.post(
        "/api/v1/decide",
        headers={"Authorization": f"Bearer {token}"},
        data={"interaction": interaction},
    )
    assert answer.status == 200, answer.text()
    return answer.json()


def test_the_decision_pages_say_the_offer_is_gated_on_resolution_of_the_thread(
    page: Page, live_app: tuple[Flask, str]
) -> None:
    token = _token(live_app[0])
    first = _decide(page, token, "online-banking-fix-proposed")
    reply = _decide(page, token, "online-banking-fix-confirmed")
    assert "mobile_alerts" in [o["offer"] for o in reply["offers"]]

    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "sam@demo.studio")
    page.goto(f"/decisions/{first['decision_id']}")
    why = page.locator(".explanation")
    expect(why).to_contain_text("Scheduled mobile_alerts, gated on resolution of thread ob-3300-1")
    expect(why).to_contain_text("or not reopened within 7 days")
    page.screenshot(path="/tmp/gated-scheduled.png", full_page=True)
    page.goto(f"/decisions/{reply['decision_id']}")
    expect(page.locator(".explanation")).to_contain_text(
        "Offered mobile_alerts, gated on resolution of thread ob-3300-1"
    )
    page.screenshot(path="/tmp/gated-released.png", full_page=True)


def test_the_rule_preview_shows_the_check_in_and_the_offer_gated_on_the_thread(
    page: Page,
) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "sam@demo.studio")
    page.goto("/rules/retail_banking")
    expect(page.locator("#preview-result .pv-decision")).to_be_visible()
    page.get_by_label("Sample interaction").select_option("online-banking-fix-proposed")
    follow = page.locator(".pv-box-follow")
    expect(follow).to_contain_text("check_in")
    expect(follow).to_contain_text(
        "then mobile_alerts gated on resolution of the thread "
        "(when resolution is confirmed or not reopened within 7 days)"
    )
    follow.scroll_into_view_if_needed()
    page.screenshot(path="/tmp/gated-preview.png")
