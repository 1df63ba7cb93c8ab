"""Event ingest speed as the table grows, on SQLite and PostgreSQL.

`studio.services.events.ingest` stores batches of 500 events (the API's largest) with
one `INSERT ... ON CONFLICT (event_id) DO NOTHING`, each batch committed, into a
freshly migrated database, and prints events per second for each slice of the run:
if ingest is linear, the rate of the last slice matches the first. Every tenth batch
resends one already-stored event, which must come back as a duplicate.

The target is >= 5,000 events/s sustained to 1,000,000 stored events. Runs on a shared
machine are kept short: the default stops at 200,000 events, and the report states the
1,000,000 figure as an extrapolation (the last slice's rate, which a linear ingest
keeps). Pass `--events 1000000` to measure it outright.

    .venv/bin/python benchmarks/events_speed.py [--events 200000] [--postgres URL]

PostgreSQL defaults to postgresql+psycopg://postgres@127.0.0.1:5432/test as the admin
URL; a uniquely named database is created and dropped. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from studio import migrate
from studio.db import make_engine
from studio.models import FeedbackEvent
from studio.services import events

BATCH = 500
SLICES = 4


def batch(start: int) -> dict[str, object]:
    return {
        "events": [
            {
                "event_id": f"e-{n}",
                "type": ("shown", "accepted", "declined")[n % 3],
                "offer_key": f"offer_{n % 40}",
                "rule": f"rule {n % 200}",
                "channel": "email",
                "category": "transactional",
                "bundle_version": 1,
                "customer_id": f"c-{n % 50_000}",
                "at": "2026-11-20T10:15:00Z",
            }
            for n in range(start, start + BATCH)
        ]
    }


def run(url: str, total: int) -> list[tuple[int, float]]:
    migrate.upgrade(url)
    engine = make_engine(url)
    sessions = sessionmaker(engine)
    now = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
    rates = []
    slice_size = total // SLICES
    stored = 0
    started = time.perf_counter()
    for n, first in enumerate(range(0, total, BATCH)):
        body = batch(first)
        if n % 10 == 9:
            body["events"][0] = batch(0)["events"][0]  # type: ignore[index]
        with sessions() as session:
            report = events.ingest(session, body, now=now)
            session.commit()
        assert isinstance(report, events.IngestReport), report
        assert report.count("rejected") == 0
        assert report.count("duplicate") == (1 if n % 10 == 9 else 0)
        stored += report.count("stored")
        if (first + BATCH) % slice_size == 0:
            elapsed = time.perf_counter() - started
            rates.append((stored, slice_size / elapsed))
            started = time.perf_counter()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(FeedbackEvent)) == stored
    engine.dispose()
    return rates


def report(name: str, rates: list[tuple[int, float]], total: int) -> None:
    cells = "   ".join(f"to {count:,}: {rate:,.0f}/s" for count, rate in rates)
    print(f"{name:<11} {cells}")
    first, last = rates[0][1], rates[-1][1]
    verdict = "ok" if last >= 5_000 else "UNDER 5,000/s"
    note = (
        "measured"
        if total >= 1_000_000
        else "extrapolated: the last slice's rate, kept by a linear ingest"
    )
    print(
        f"{'':<11} last / first slice {last / first:.2f}; at 1,000,000 stored events "
        f"~{last:,.0f}/s ({note}): {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "STUDIO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--no-postgres", action="store_true")
    options = parser.parse_args()
    total = options.events - options.events % (BATCH * SLICES)
    print(
        f"Ingest of {total:,} events in batches of {BATCH} (events per second, per slice; "
        "other work was loading this shared machine)"
    )
    with tempfile.TemporaryDirectory() as folder:
        report("SQLite", run(f"sqlite:///{Path(folder) / 'events.sqlite3'}", total), total)
    if options.no_postgres:
        return
    admin = create_engine(options.postgres, isolation_level="AUTOCOMMIT")
    name = f"bench_events_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(options.postgres).set(database=name).render_as_string(hide_password=False)
        report("PostgreSQL", run(url, total), total)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
