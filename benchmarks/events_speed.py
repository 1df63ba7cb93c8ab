"""Event ingest through `POST /api/v1/events` with gunicorn, to 1,000,000 stored events.

Method (printed with the figures):

1. A migrated database with the demo workspace (SQLite file; PostgreSQL: a uniquely
   named scratch database, created and dropped) and `--decisions` logged decisions
   (bulk-inserted with SQLAlchemy Core; not the path measured).
2. gunicorn with the production configuration (`studio/gunicorn.conf.py`, as
   `studio serve --production` runs it) on 127.0.0.1.
3. `--clients` threads post batches of 500 events (the API's largest) until `--events`
   events are stored. Every event names a logged decision and an offer it made or held
   out, so the rollups move with each batch; half carry a customer id, so the contact
   history gets their outcomes. Every tenth batch resends one event its thread already
   had answered, which must come back as a duplicate (idempotency is part of what is measured).
4. Events per second for each tenth of the run, with the load average then: the first
   tenth is the rate "at the start", the last the rate "at 1,000,000 stored". A linear
   ingest keeps the last near the first.

The target (issues 13 and 18): >= 5,000 events/s sustained to 1,000,000 stored events on
this 2-core machine, on both databases. Not part of the test suite.

    .venv/bin/python benchmarks/events_speed.py [--events 1000000] [--postgres URL]
        [--no-postgres] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_speed import free_port, prepare  # noqa: E402

from studio import create_app, migrate  # noqa: E402
from studio.db import get_database  # noqa: E402
from studio.models import ContactHistory, DecisionRollup, FeedbackEvent  # noqa: E402

BATCH = 500
SLICES = 10
OFFERS = ("overdraft_protection", "refill_savings", "retention_discount", "click_to_chat")
ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def scratch_postgres(admin_url: str) -> Iterator[str]:
    """A uniquely named, migrated PostgreSQL database for one run; dropped after."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed_postgres(url: str, folder: Path) -> str:
    """Migrate and seed `url` with the demo workspace; an API token's secret."""
    from studio.demo import seed_demo
    from studio.services import api_tokens

    migrate.upgrade(url)
    app = create_app(
        {"DATABASE_URL": url, "INSTANCE_PATH": folder / "instance", "SECRET_KEY": "bench"}
    )
    session = get_database(app).session()
    with app.app_context():
        seed_demo(session)
    token = api_tokens.create(
        session, name="benchmark", scopes=api_tokens.SCOPES, actor_id=None
    ).secret
    session.commit()
    session.close()
    return token


def log_decisions(url: str, count: int) -> None:
    """`count` decisions, each making (or, one in five, holding out) one offer."""
    now = datetime.now(UTC)
    from studio.models import Decision

    engine = create_engine(url)
    with engine.begin() as connection:
        rows = []
        for n in range(count):
            entry = {"ruleset": "retail_banking", "offer": OFFERS[n % 4], "rule": f"Rule {n % 3}"}
            held = n % 5 == 0
            rows.append(
                {
                    "id": f"bench-{n:09d}",
                    "source": "client",
                    "bundle_version": 1,
                    "bundle_digest": "",
                    "channel": ("email", "chat")[n % 2],
                    "category": "transactional",
                    "tone": "calm",
                    "customer_hash": "",
                    "customer_id": None,
                    "rules": [],
                    "offers": [] if held else [entry],
                    "guards": [],
                    "holdouts": [entry] if held else [],
                    "trace": None,
                    "decided_at": now - timedelta(minutes=n % 10_000),
                    "received_at": now,
                }
            )
            if len(rows) == 5000:
                connection.execute(insert(Decision.__table__), rows)
                rows = []
        if rows:
            connection.execute(insert(Decision.__table__), rows)
    engine.dispose()


def start_production_server(folder: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "STUDIO_DATABASE_URL": url,
        "STUDIO_INSTANCE_PATH": str(folder / "instance"),
        "STUDIO_SECRET_KEY": "bench",
        "STUDIO_BIND": f"127.0.0.1:{port}",
        "STUDIO_LOG_LEVEL": "warning",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "studio" / "gunicorn.conf.py"),
            "studio:create_app()",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):  # noqa: S310
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(
        "gunicorn did not start: " + (process.stderr.read() if process.stderr else b"").decode()
    )


class Run:
    """Shared counters of the client threads, and the per-slice rates."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.lock = threading.Lock()
        self.sent = 0
        self.stored = 0
        self.duplicates = 0
        self.slices: list[tuple[int, float, float]] = []  # (stored, events/s, load 1 min)
        self.slice_started = time.perf_counter()
        self.slice_stored = 0

    def claim(self) -> int | None:
        with self.lock:
            if self.sent >= self.total:
                return None
            first = self.sent
            self.sent += BATCH
            return first

    def answered(self, stored: int, duplicates: int) -> None:
        with self.lock:
            self.stored += stored
            self.duplicates += duplicates
            self.slice_stored += stored + duplicates
            size = self.total // SLICES
            if self.slice_stored >= size:
                elapsed = time.perf_counter() - self.slice_started
                self.slices.append((self.stored, self.slice_stored / elapsed, os.getloadavg()[0]))
                self.slice_started = time.perf_counter()
                self.slice_stored = 0


def batch(first: int, decisions: int, rng: random.Random) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for n in range(first, first + BATCH):
        d = rng.randrange(decisions)
        event: dict[str, object] = {
            "event_id": f"ev-{n}",
            "type": ("shown", "accepted", "declined", "shown")[n % 4],
            "offer_key": OFFERS[d % 4],
            "decision_id": f"bench-{d:09d}",
            "channel": ("email", "chat")[d % 2],
        }
        if n % 2:
            event["customer_id"] = f"c-{n % 50_000}"
        out.append(event)
    return out


def client(base: str, token: str, run: Run, decisions: int, seed: int) -> None:
    rng = random.Random(seed)
    answered: dict[str, object] | None = None  # an event this thread saw stored
    while (first := run.claim()) is not None:
        events = batch(first, decisions, rng)
        resend = (first // BATCH) % 10 == 9 and answered is not None
        if resend:
            events[0] = answered
        else:
            answered = events[0]
        request = urllib.request.Request(
            f"{base}/api/v1/events",
            data=json.dumps({"events": events}).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
            body = json.loads(answer.read())
        assert body["rejected"] == 0, body["results"][:3]
        if resend:
            assert body["duplicates"] >= 1, "a resent event was stored twice"
        run.answered(body["stored"], body["duplicates"])


def measure(name: str, url: str, token: str, folder: Path, args: argparse.Namespace) -> None:
    began = time.perf_counter()
    log_decisions(url, args.decisions)
    engine = create_engine(url)
    with engine.connect() as connection:
        before = connection.scalar(select(func.count()).select_from(FeedbackEvent))
    engine.dispose()
    print(f"{name}: {args.decisions:,} decisions logged in {time.perf_counter() - began:.1f} s")
    port = free_port()
    process = start_production_server(folder, url, port)
    run = Run(args.events)
    try:
        threads = [
            threading.Thread(
                target=client,
                args=(f"http://127.0.0.1:{port}", token, run, args.decisions, k),
            )
            for k in range(args.clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)
    engine = create_engine(url)
    with engine.connect() as connection:
        counted = connection.scalar(select(func.count()).select_from(FeedbackEvent))
        outcomes = connection.scalar(
            select(func.coalesce(func.sum(DecisionRollup.shown + DecisionRollup.accepted), 0))
            .select_from(DecisionRollup)
            .where(DecisionRollup.day >= (datetime.now(UTC) - timedelta(days=30)).date())
        )
        history = connection.scalar(
            select(func.count()).select_from(ContactHistory).where(ContactHistory.source == "event")
        )
    engine.dispose()
    assert counted - before == run.stored, (counted, before, run.stored)
    cells = "  ".join(f"{rate:,.0f}/s" for _stored, rate, _load in run.slices)
    print(f"  per tenth of the run: {cells}")
    first, last = run.slices[0], run.slices[-1]
    print(
        f"  at the start (first {args.events // SLICES:,}): {first[1]:,.0f} events/s "
        f"(load {first[2]:.1f}); at {last[0]:,} stored: {last[1]:,.0f} events/s "
        f"(load {last[2]:.1f}); last / first {last[1] / first[1]:.2f}"
    )
    print(
        f"  overall {run.stored:,} events in {elapsed:.0f} s = {run.stored / elapsed:,.0f}/s; "
        f"{run.duplicates} resent events answered as duplicates; {counted - before:,} new rows stored; "
        f"{outcomes:,} shown+accepted counted in rollups; {history:,} outcomes in contact "
        f"history; target 5,000/s: {'met' if last[1] >= 5000 else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "STUDIO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    args.events -= args.events % (BATCH * SLICES)
    print(
        f"POST /api/v1/events, gunicorn with studio/gunicorn.conf.py, {args.clients} client "
        f"threads on the same machine, batches of {BATCH}, to {args.events:,} stored events; "
        f"{os.cpu_count()} cores, load average at the start {os.getloadavg()[0]:.1f} "
        "(other sessions share this machine)"
    )
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'studio.sqlite3'}"
            token, _keys = prepare(Path(tmp), url)
            measure("SQLite", url, token, Path(tmp), args)
    if not args.no_postgres:
        with tempfile.TemporaryDirectory() as tmp, scratch_postgres(args.postgres) as url:
            token = seed_postgres(url, Path(tmp))
            measure("PostgreSQL", url, token, Path(tmp), args)


if __name__ == "__main__":
    main()
