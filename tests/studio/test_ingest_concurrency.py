"""Concurrent ingests of events about the same decisions lose no count and store no event
twice: the rollups are one upsert per batch and the contact history one insert per batch,
and a unique index (not a prior read) decides what is new."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from studio.db import get_database
from studio.models import ContactHistory, FeedbackEvent
from studio.services import decision_log, events, rollups

pytestmark = pytest.mark.committed

DECISIONS = [
    {
        "decision_id": f"decision-{n:03d}",
        "bundle_version": 1,
        "decided_at": f"2026-11-0{1 + n % 3}T10:00:00Z",
        "channel": ("email", "chat")[n % 2],
        "category": "billing",
        "offers": [{"ruleset": "r", "offer": "card_plan", "rule": "Rule A"}],
        "holdouts": [{"ruleset": "r", "offer": "autopay", "rule": "Rule B"}] if n % 4 else [],
    }
    for n in range(12)
]


def _batch(worker: int, size: int = 60) -> dict:
    return {
        "events": [
            {
                # Every worker sends the first ten events too: each must be stored once.
                "event_id": f"e-{n}" if n < 10 else f"e-{worker}-{n}",
                "type": ("shown", "accepted", "declined", "complaint")[n % 4],
                "offer_key": ("card_plan", "autopay")[n % 2],
                "decision_id": f"decision-{n % 12:03d}",
                "customer_id": f"c-{n % 7}",
            }
            for n in range(size)
        ]
    }


def test_concurrent_batches_about_new_rollup_keys_all_count_and_store_each_event_once(
    app, session
) -> None:
    database = get_database(app)
    decision_log.ingest(session, {"decisions": DECISIONS})
    session.commit()
    workers = 4
    start = threading.Barrier(workers)
    reports: list = [None] * workers
    errors: list[BaseException] = []

    def run(worker: int) -> None:
        own = database.session()
        try:
            start.wait()
            reports[worker] = events.ingest(own, _batch(worker))
            own.commit()
        except BaseException as exc:  # noqa: BLE001 - the outcome under test
            errors.append(exc)
            own.rollback()
        finally:
            own.close()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    stored = sum(r.count("stored") for r in reports)
    duplicates = sum(r.count("duplicate") for r in reports)
    assert (stored, duplicates) == (10 + workers * 50, (workers - 1) * 10)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(FeedbackEvent)) == stored
    assert rollups.stored(session) == rollups.recount(session)
    outcomes = session.scalar(
        select(func.count()).select_from(ContactHistory).where(ContactHistory.source == "event")
    )
    assert outcomes == stored  # every event had a customer id and an outcome type
