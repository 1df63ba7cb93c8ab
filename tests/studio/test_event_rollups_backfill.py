"""Migration 0013 fills `event_rollups` from the events stored before it, with the
same counts ingest keeps: a database upgraded with events in it reads as if every
event had arrived after the upgrade."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, insert
from sqlalchemy.orm import Session

from studio import migrate
from studio.models import FeedbackEvent
from studio.services import event_rollups

pytestmark = pytest.mark.committed


def _event(n: int, kind: str, **extra: object) -> dict:
    at = datetime(2026, 11, 1 + n % 3, (n * 5) % 24, 10, tzinfo=UTC)
    return {
        "event_id": f"old-{n}",
        "type": kind,
        "offer_key": "",
        "rule": "",
        "channel": "chat" if n % 2 else "email",
        "category": "billing",
        "bundle_version": None,
        "customer_id": "",
        "score": None,
        "at": at,
        "received_at": at,
        "payload": {},
        "decision_id": None,
        "value_cents": None,
        **extra,
    }


def test_migration_counts_the_events_already_stored(database_url: str) -> None:
    migrate.downgrade(database_url, "0012_decide_path_day_counts")
    rows = [
        *(_event(n, "shown", offer_key="autopay", bundle_version=1 + n % 2) for n in range(9)),
        *(_event(10 + n, "complaint", offer_key="savings") for n in range(4)),
        *(_event(20 + n, "nps", score=float(n % 11)) for n in range(22)),
        *(_event(50 + n, "nps", offer_key="autopay", score=float(n % 11)) for n in range(11)),
        _event(70, "nps"),
    ]
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(insert(FeedbackEvent), rows)
    migrate.upgrade(database_url)
    with Session(engine) as session:
        found = event_rollups.stored(session)
        assert found == event_rollups.recount(session)
        assert sum(c["events"] for c in found.values()) == len(rows)
        assert sum(c["answers"] for c in found.values()) == 33
    engine.dispose()
