"""Auto-pause with a real huey consumer on the SQLite storage, across a studio restart.

The complaint that crosses the threshold is ingested while no consumer runs; the studio
"stops" (its app is dropped) and starts again with a consumer, which finds the queued
check and pauses the offer: a pending pause is not lost. A second case loses the queued
job altogether and relies on the periodic sweep.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from studio import migrate
from studio.db import get_database
from studio.jobs import get_jobs
from studio.models import OfferPause
from studio.roles import MARKETER
from studio.services import api_tokens, auto_pause, bundles, signing
from tests.factories import make_user
from tests.factories.apps import make_app
from tests.factories.offers import make_offer

pytestmark = pytest.mark.committed
OFFER = "overdraft_protection"


def _pauses(url: str) -> list[str]:
    engine = create_engine(url)
    with Session(engine) as session:
        found = list(session.scalars(select(OfferPause.status)))
    engine.dispose()
    return found


def _prepare(tmp_path: Path, body: dict[str, Any]) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path / 'studio.sqlite3'}"
    migrate.upgrade(url)
    app = make_app(url, tmp_path / "instance", JOBS_IMMEDIATE=False)
    with app.app_context():
        session = get_database(app).session()
        marketer = make_user(session, MARKETER)
        make_offer(session, marketer, OFFER)
        ring = signing.load_or_create_keys(app.instance_path)
        bundles.store(session, {**body, "version": 1}, ring=ring, actor_id=None, summary={})
        auto_pause.set_threshold(session, OFFER, "10", "5", actor=marketer)
        secret = api_tokens.create(
            session, name="t", scopes=("events:write",), actor_id=None
        ).secret
        session.commit()
        session.close()
    events = [{"event_id": f"s{n}", "type": "shown", "offer_key": OFFER} for n in range(5)]
    events.append({"event_id": "c1", "type": "complaint", "offer_key": OFFER})
    answer = app.test_client().post(
        "/api/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code == 200
    get_database(app).engine.dispose()
    return url, secret


def _run_until_paused(url: str, tmp_path: Path, timeout: float = 60.0) -> float:
    app = make_app(url, tmp_path / "instance", JOBS_IMMEDIATE=False)
    jobs = get_jobs(app)
    started = time.monotonic()
    jobs.start_consumer(workers=1)
    try:
        while not _pauses(url):
            if time.monotonic() - started > timeout:
                raise AssertionError("the offer was not paused within 60 s")
            time.sleep(0.1)
    finally:
        jobs.stop_consumer()
        get_database(app).engine.dispose()
    return time.monotonic() - started


def test_a_pause_queued_before_a_restart_happens_after_it(
    tmp_path: Path, demo_bundle_body: dict[str, Any]
) -> None:
    url, _ = _prepare(tmp_path, demo_bundle_body)
    assert _pauses(url) == []  # no consumer ran: the check waits in the queue
    _run_until_paused(url, tmp_path)
    assert _pauses(url) == ["paused"]


def test_the_periodic_sweep_pauses_even_when_the_queued_check_was_lost(
    tmp_path: Path, demo_bundle_body: dict[str, Any]
) -> None:
    url, _ = _prepare(tmp_path, demo_bundle_body)
    app = make_app(url, tmp_path / "instance", JOBS_IMMEDIATE=False)
    get_jobs(app).huey.flush()  # the queue is lost (a wiped Redis, a deleted file)
    get_database(app).engine.dispose()
    _run_until_paused(url, tmp_path, timeout=125.0)
    assert _pauses(url) == ["paused"]
