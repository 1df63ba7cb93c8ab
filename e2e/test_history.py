"""History in the browser: upload a file and watch it import, search, open a customer's
timeline, and see a change request's backtest on its review page.

This test serves its own studio with a real huey consumer (not immediate jobs), so the
import and the backtest run in the background while the pages poll them.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from studio import migrate
from studio.db import get_database
from studio.demo import DEMO_PASSWORD, seed_demo
from studio.jobs import get_jobs
from studio.services import artifacts
from tests.factories.apps import make_app

DEMO = Path(__file__).parents[1] / "studio" / "demo" / "interactions.json"


@pytest.fixture
def history_studio(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    url = f"sqlite:///{tmp_path / 'studio.sqlite3'}"
    migrate.upgrade(url)
    app = make_app(url, tmp_path / "instance", JOBS_IMMEDIATE=False)
    with app.app_context():
        session = get_database(app).session()
        seed_demo(session)
        pharmacy = artifacts.find(session, "ruleset", "pharmacy")
        source = artifacts.head(session, pharmacy).body["source"]
        start = source.index('rule "Refill savings')
        end = source.index("rule ", start + 5)
        artifacts.save(
            session,
            pharmacy,
            body={"source": source[:start] + source[end:]},
            base_number=pharmacy.head_number,
            actor_id=None,
            summary="No refill savings",
        )
        session.commit()
        session.close()
    jobs = get_jobs(app)
    jobs.start_consumer(workers=2)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        jobs.stop_consumer()
        get_database(app).engine.dispose()


def _history_file(path: Path, copies: int) -> Path:
    samples = [entry["interaction"] for entry in json.loads(DEMO.read_text())]
    now = datetime.now(UTC)
    with path.open("w") as out:
        for n in range(copies):
            for sample in samples:
                customer = sample.get("customer", {})
                # History carries the tone the contact centre measured (the demo
                # rulesets never offer when the tone is unknown).
                row = {
                    **sample,
                    "id": f"{sample['id']}-{n}",
                    "tone": sample.get("tone") or {"label": "neutral", "score": 0.0},
                    "at": (now - timedelta(days=n % 20, minutes=n)).isoformat(),
                    "customer": {**customer, "id": f"{customer.get('id', 'c')}-{n % 50}"},
                }
                out.write(json.dumps(row) + "\n")
        out.write('{"id": "broken", "at": "yesterday"}\n')
    return path


def test_upload_watch_progress_search_timeline_and_review_backtest(
    page: Page, history_studio: tuple[Flask, str], tmp_path: Path
) -> None:
    _app, address = history_studio
    rows = _history_file(tmp_path / "history.jsonl", 1500)
    page.goto(f"{address}/sign-in")
    page.get_by_label("Email").fill("sam@demo.studio")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto(f"{address}/history/imports")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a history file")
    page.get_by_label("File").set_input_files(str(notes))
    page.get_by_role("button", name="Upload and import").click()
    refused = page.locator("#upload-error")
    expect(refused).to_contain_text("Nothing was imported: notes.txt: name the file .jsonl")
    expect(page).to_have_url(f"{address}/history/imports")
    page.get_by_label("File").set_input_files(str(rows))
    page.get_by_role("button", name="Upload and import").click()
    expect(page).to_have_url(re.compile(r"/history/imports/\d+$"))
    status = page.locator("#import-status")
    expect(status.get_by_role("progressbar", name="Import progress")).to_be_visible()
    expect(status).to_have_attribute("data-status", "done", timeout=120_000)
    expect(status).to_contain_text("1 row refused")
    expect(page.get_by_role("cell", name="at", exact=True)).to_be_visible()

    page.goto(f"{address}/history/")
    page.get_by_label("Text").fill("stolen")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text(re.compile(r"^1,500 interactions$"))).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^c-1001-")).first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Customer c-1001-"))).to_be_visible()
    expect(page.locator(".timeline li").first).to_contain_text("report_stolen_card by phone")

    page.goto(f"{address}/reviews/new")
    page.get_by_role("checkbox", name=re.compile("Pharmacy", re.I)).check()
    page.get_by_label("Title").fill("No more refill savings")
    page.get_by_role("button", name="Submit for review").click()
    backtest = page.locator("#backtest")
    expect(backtest.get_by_role("heading", name="Backtest")).to_be_visible()
    expect(backtest.locator("#backtest-status")).to_have_attribute(
        "data-status", "done", timeout=120_000
    )
    expect(backtest).to_contain_text("decisions change")
    expect(backtest.locator(".backtest-changed strong")).not_to_have_text("0")

    example = backtest.locator("h2:has-text('Decisions that change') + ul a").first
    example.click()
    expect(page).to_have_url(re.compile(r"/history/i/[^/]+/preview\?backtest=\d+$"))
    expect(
        page.get_by_role("heading", name=re.compile(r"^Preview of interaction "))
    ).to_be_visible()
    expect(page.locator("#preview-sample")).to_contain_text("From history:")
    expect(page.locator("#preview-result")).to_be_visible()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(tmp_path / "history-preview.png"), full_page=True)
