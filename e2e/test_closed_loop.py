"""Complaints posted through the API pause an offer; its owner sees why in the inbox; a
reviewer undoes the pause; the offer is back in the next bundle and in decisions."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from werkzeug.serving import make_server

from e2e.pages import sign_in
from studio import migrate
from studio.db import get_database
from studio.demo import seed_demo
from studio.services import api_tokens
from tests.factories.apps import make_app

OFFER = "overdraft_protection"
CHECKBOOK = {
    "id": "i-e2e-loop",
    "at": "2026-03-02T10:15:00Z",
    "inquiry": {
        "category": "transactional",
        "intent": "order_checkbook",
        "channel": "email",
        "resolution": "confirmed",
    },
    "tone": {"label": "neutral", "score": 0.2},
    "customer": {
        "id": "c-e2e-loop",
        "authenticated": True,
        "tier": "gold",
        "state": "CA",
        "products": ["checking"],
    },
}


@pytest.fixture(scope="module")
def loop_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    """A studio of its own: pausing and undoing publish bundles, which the shared
    studio's other tests count on being theirs."""
    folder = tmp_path_factory.mktemp("e2e-loop")
    url = f"sqlite:///{folder / 'studio.sqlite3'}"
    migrate.upgrade(url)
    app = make_app(url, folder / "instance")
    with app.app_context():
        session = get_database(app).session()
        seed_demo(session)
        session.close()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def token(loop_studio: tuple[Flask, str]) -> str:
    app, _ = loop_studio
    session = get_database(app).session()
    try:
        secret = api_tokens.create(
            session,
            name="E2E loop",
            scopes=["bundles:read", "decide", "events:write"],
            actor_id=None,
        ).secret
        session.commit()
    finally:
        session.close()
    return secret


def _decide(page: Page, token: str) -> dict[str, Any]:
    answer = page.request.post(
        "/api/v1/decide",
        headers={"Authorization": f"Bearer {token}"},
        data={"interaction": CHECKBOOK},
    )
    assert answer.status == 200, answer.text()
    return answer.json()


def _bundle_offers(page: Page, token: str) -> set[str]:
    answer = page.request.get(
        "/api/v1/bundles/current", headers={"Authorization": f"Bearer {token}"}
    )
    return {o["key"] for o in answer.json()["offers"]}


def test_complaints_pause_the_offer_and_a_reviewer_undoes_it(
    browser: Browser, loop_studio: tuple[Flask, str], token: str
) -> None:
    base_url = loop_studio[1]
    marketer = browser.new_context(base_url=base_url).new_page()
    sign_in(marketer, "mara@demo.studio")
    marketer.goto("/pauses/")
    marketer.get_by_label("Offer").select_option(OFFER)
    marketer.get_by_label("Pause above (% complaints per shown)").fill("1")
    marketer.get_by_label("After at least (times shown)").fill("5")
    marketer.get_by_role("button", name="Save threshold").click()
    expect(
        marketer.get_by_text("Complaint threshold for overdraft_protection saved.")
    ).to_be_visible()

    decision = _decide(marketer, token)
    assert [o["offer"] for o in decision["offers"]] == [OFFER]
    complaints = [
        {
            "event_id": f"e2e-loop-complaint-{n}",
            "type": "complaint",
            "offer_key": OFFER,
            "decision_id": decision["decision_id"],
            "channel": "email",
            "category": "transactional",
        }
        for n in range(8)
    ]
    sent = marketer.request.post(
        "/api/v1/events", headers={"Authorization": f"Bearer {token}"}, data={"events": complaints}
    )
    assert sent.json()["stored"] == 8
    assert OFFER not in _bundle_offers(marketer, token)
    assert _decide(marketer, token)["offers"] == []

    marketer.goto("/inbox/")
    expect(marketer.get_by_text("was paused automatically").first).to_be_visible()
    expect(
        marketer.get_by_text("A customer complained about offer overdraft_protection").first
    ).to_be_visible()
    marketer.get_by_role("button", name=re.compile(r"^Mark all \d+ as read")).click()

    reviewer = browser.new_context(base_url=base_url).new_page()
    sign_in(reviewer, "rita@demo.studio")
    reviewer.goto("/inbox/")
    reviewer.get_by_role(
        "button", name=re.compile(f"Offer {OFFER} was paused automatically")
    ).first.click()
    expect(reviewer.get_by_role("heading", name=f"Offer {OFFER}: paused")).to_be_visible()
    expect(reviewer.get_by_role("heading", name="The complaints before the pause")).to_be_visible()
    reviewer.get_by_role("link", name="Undo the pause…").click()
    expect(reviewer.get_by_text("will not pause it again")).to_be_visible()
    reviewer.get_by_role("button", name="Undo the pause").click()
    expect(reviewer.get_by_text(f"Pause undone: {OFFER} is back in bundle")).to_be_visible()
    expect(reviewer.get_by_text(re.compile(r"^Undone by Rita"))).to_be_visible()

    assert OFFER in _bundle_offers(reviewer, token)
    assert [o["offer"] for o in _decide(reviewer, token)["offers"]] == [OFFER]
