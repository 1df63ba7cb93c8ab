"""A narrow-cast survey from authoring to results: a marketer writes it in the browser,
it is approved and published with a rule that asks it, the customer answers it on their
phone, and the results page counts the answer.

This module serves its own studio: it publishes a bundle, and the shared studio's
tests count on the demo's bundle numbers.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from e2e.test_customer_messages import CHECKBOOK, _axe, _no_horizontal_scroll
from studio import migrate
from studio.db import get_database
from studio.demo import DEMO_PASSWORD, seed_demo
from studio.models import User
from studio.services import api_tokens, artifacts, publish
from studio.services.toolchain import DslToolchain
from tests.factories.apps import make_app
from tests.factories.reviews import approve, make_ruleset, ring, submit

RULES = """rule "Ask checkbook customers about a branch"
  when inquiry.intent is "order_checkbook"
  ask survey new_branch
"""


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    folder = tmp_path_factory.mktemp("e2e-surveys")
    url = f"sqlite:///{folder / 'studio.sqlite3'}"
    migrate.upgrade(url)
    app = make_app(url, folder / "instance")
    with app.app_context():
        session = get_database(app).session()
        seed_demo(session)
        session.close()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    address = f"http://127.0.0.1:{server.server_port}"
    app.config["STUDIO_SETTINGS"] = dataclasses.replace(
        app.config["STUDIO_SETTINGS"], public_base_url=address
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, address
    finally:
        server.shutdown()
        thread.join(timeout=5)
        get_database(app).engine.dispose()


def _context(browser: Browser, address: str, width: int = 1280) -> BrowserContext:
    return browser.new_context(
        base_url=address,
        viewport={"width": width, "height": 900},
        locale="en-US",
        timezone_id="UTC",
        bypass_csp=True,
    )


def _sign_in(context: BrowserContext, email: str):
    page = context.new_page()
    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


def _approve_and_publish(app: Flask) -> str:
    """The reviewer approves the survey and a ruleset asking it, and publishes; returns an
    API token for the downstream responder."""
    session = get_database(app).session()
    try:
        people = {u.email: u for u in session.scalars(select(User))}
        mara, sam, rita = (people[f"{n}@demo.studio"] for n in ("mara", "sam", "rita"))
        survey = artifacts.find(session, "survey", "new_branch")
        assert survey is not None
        approve(session, submit(session, mara, survey, title="Branch survey"), rita)
        ruleset = make_ruleset(session, sam, "branch_survey", RULES)
        approve(session, submit(session, sam, ruleset, title="Ask about branches"), rita)
        publish.publish(session, actor=rita, ring=ring(app), toolchain=DslToolchain())
        session.commit()
        secret = api_tokens.create(
            session, name="E2E responder", scopes=["decide", "messages:write"], actor_id=None
        ).secret
        session.commit()
        return secret
    finally:
        session.close()


def test_a_published_survey_is_answered_by_the_customer_and_counted(
    browser: Browser, studio: tuple[Flask, str], tmp_path: Path
) -> None:
    app, address = studio
    staff = _context(browser, address)
    marketer = _sign_in(staff, "mara@demo.studio")
    marketer.get_by_role("link", name="Surveys").first.click()
    marketer.get_by_role("link", name="New survey").click()
    marketer.get_by_label("Key").fill("new_branch")
    marketer.get_by_label("Title (customers see it)").fill("A branch near you?")
    marketer.get_by_label("Introduction (optional)").fill("Two quick questions.")
    first = marketer.get_by_role("group", name="Question 1")
    first.get_by_label("Kind").select_option("scale_5")
    first.get_by_label("Question").fill("How useful would a branch be?")
    second = marketer.get_by_role("group", name="Question 2")
    second.get_by_label("Kind").select_option("choice")
    second.get_by_label("Question").fill("When would you visit?")
    second.get_by_label("Options, one per line").fill("Mornings\nEvenings\nWeekends")
    third = marketer.get_by_role("group", name="Question 3")
    third.get_by_label("Kind").select_option("text")
    third.get_by_label("Question").fill("Anything else?")
    marketer.get_by_role("button", name="Create survey").click()
    expect(marketer.get_by_text("Survey A branch near you? created")).to_be_visible()
    expect(marketer.get_by_role("link", name="Submit for review…")).to_be_visible()

    token = _approve_and_publish(app)
    opened = marketer.request.post(
        "/api/v1/decide",
        headers={"Authorization": f"Bearer {token}"},
        data={
            "interaction": CHECKBOOK,
            "channels": ["sms"],
            "open_message": {"response": {"text": "Your new checks are on their way."}},
        },
    )
    assert opened.status == 201, opened.text()
    answer = opened.json()
    assert [s["survey"] for s in answer["surveys"]] == ["new_branch"]
    [link] = answer["message"]["surveys"]
    assert re.fullmatch(re.escape(address) + r"/m/[A-Za-z0-9_-]{22}/survey/new_branch", link["url"])

    phone = _context(browser, address, width=375)
    customer = phone.new_page()
    customer.goto(answer["message"]["url"])
    survey = customer.locator("section.c-survey")
    expect(survey.get_by_role("heading", name="A branch near you?")).to_be_visible()
    _no_horizontal_scroll(customer)
    _axe(customer)
    customer.goto(link["url"])
    expect(customer.get_by_role("heading", name="A branch near you?", level=1)).to_be_visible()
    _no_horizontal_scroll(customer)
    _axe(customer)
    customer.locator("label.c-score", has_text=re.compile(r"^4$")).click()
    customer.get_by_label("Evenings").check()
    customer.get_by_label("Anything else?").fill("Open on <b>Saturdays</b>, please")
    customer.screenshot(path=str(tmp_path / "survey-375.png"), full_page=True)
    customer.get_by_role("button", name="Send answers").click()
    expect(customer.get_by_text("Thank you for your answers.")).to_be_visible()
    _axe(customer)
    again = customer.request.post(link["url"].removeprefix(address), form={"answer_q1": "1"})
    assert "already answered" in again.text()
    phone.close()

    reviewer_context = _context(browser, address)
    reviewer = _sign_in(reviewer_context, "rita@demo.studio")
    reviewer.goto("/surveys/new_branch/results")
    expect(reviewer.locator("#response-count")).to_have_text("1 customer answered.")
    choice = reviewer.locator("#result-q2")
    expect(choice.locator("tr", has_text="Evenings").locator("td").nth(1)).to_have_text("1")
    expect(choice.locator("tr", has_text="Mornings").locator("td").nth(1)).to_have_text("0")
    expect(choice.get_by_role("img")).to_be_visible()
    expect(reviewer.locator("#result-q3 blockquote")).to_have_text(
        "Open on <b>Saturdays</b>, please"
    )
    _axe(reviewer)
    reviewer.screenshot(path=str(tmp_path / "results.png"), full_page=True)
    reviewer_context.close()
    staff.close()
