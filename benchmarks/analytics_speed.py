"""The closed loop at volume: Analytics pages, event ingestion, complaint to pause.

Method (printed with the figures):

1. A migrated SQLite file (or PostgreSQL with `--postgres URL`, a scratch database made
   and dropped) is seeded with the demo workspace, published.
2. `--decisions` decisions (default 200,000) over 90 days and 4 events per decision are
   generated and bulk-inserted with SQLAlchemy Core, and the rollup tables are filled
   with the same counts the ingest path keeps (one pass over the generated rows). The
   generation and insert times are printed. This is not the ingest path: that is
   measured separately in step 4.
3. Pages, signed in, in process (WSGI, no network): `/analytics/lift`,
   `/analytics/trend.svg` by day and by week, the harm page, the CSV export of the
   rolled-up table, and `/analytics/` with its chart and with one offer picked (all read
   rollup tables). p50/p95 of 15 requests each, as a ratio to the issue's ceiling
   (1 s SQLite, 300 ms PostgreSQL); the named peer is one run of the raw event scan
   `/analytics/` made before `event_rollups`. `--pages-only` stops here.
4. Ingestion through `POST /api/v1/events` over real HTTP: gunicorn with 2 workers when
   it is installed (`pip install -e '.[bench]'`), else werkzeug's threaded server (said
   so); 2 client threads post batches of 500 events naming logged decisions of the
   last day (decisions are generated in the order they are logged, so these sit
   together, as they do live), for `--ingest-seconds` seconds; then the same naming
   decisions of any day at random (the worst case for the decision lookups and the
   cache). Events per second stored; the peer is the same endpoint with events that
   name no decision (so no rollup work).
5. Complaint to pause: a threshold is set, a real huey consumer (SQLite storage) runs,
   and the crossing complaints are posted; the time until the emergency bundle is
   current.

Extrapolation: pages read the rollup table, whose size grows with days x offers x rules
x channels x categories x bundle versions x 2 arms, not with decisions; the printed
row counts let you judge how far a 5M / 20M store would move them.

Run: .venv/bin/python benchmarks/analytics_speed.py [--decisions 200000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_speed import database, free_port, prepare, start_studio  # noqa: E402

from studio import create_app  # noqa: E402
from studio.db import get_database  # noqa: E402
from studio.jobs import get_jobs  # noqa: E402
from studio.models import (  # noqa: E402
    Decision,
    DecisionRollup,
    EventRollup,
    FeedbackEvent,
    HarmRollup,
    OfferPause,
    OfferRollup,
    User,
)
from studio.services import auto_pause, bundles, event_rollups, rollups  # noqa: E402

OFFERS = (
    "overdraft_protection",
    "refill_savings",
    "retention_discount",
    "click_to_chat",
    "realtime_contact",
    "extended_warranty",
)
CHANNELS = ("email", "chat", "sms", "phone")
CATEGORIES = ("transactional", "informational", "feedback")


GUARD = {"ruleset": "retail_banking", "line": 4, "text": "tone.label == angry"}
CAPPED = {
    "ruleset": "retail_banking",
    "rule": "Rule 0-0",
    "line": 6,
    "text": "limit every offer to 2 per customer per 7 days",
    "reason": "over the limit",
}


def harm_rows(harm: dict[tuple, Counter], decisions: list[dict]) -> None:
    """Add the decisions' guards and policy refusals to `harm`, counted by the function
    the ingest path uses."""
    for key, counts in rollups.harm_counts(SimpleNamespace(**d) for d in decisions).items():
        harm.setdefault(key, Counter()).update(counts)


def event_rows(by_event: dict[tuple, Counter], events: list[dict]) -> None:
    """Add the events to `by_event`, counted by the function the ingest path uses."""
    for key, counts in event_rollups.counts(SimpleNamespace(**e) for e in events).items():
        by_event.setdefault(key, Counter()).update(counts)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


#: Decisions generated between commits (a multiple of the 5,000 inserted at a time).
COMMIT_EVERY = 250_000


def generate(engine, count: int, days: int = 90) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    rng = random.Random(13)
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=days
    )
    rollup: dict[tuple, Counter] = {}
    harm: dict[tuple, Counter] = {}
    by_event: dict[tuple, Counter] = {}
    began = time.perf_counter()
    decisions, events = [], []
    inserted = 0
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # Millions of rows: a page cache the indexes' hot pages fit in, and a commit
            # every COMMIT_EVERY decisions so the write-ahead log is checkpointed instead
            # of growing to many times the database (the 2 MB default spilled the same
            # index pages into it again and again).
            connection.exec_driver_sql("PRAGMA cache_size=-262144")
        for n in range(count):
            offer = rng.choice(OFFERS)
            held = rng.random() < 0.2
            rule = f"Rule {OFFERS.index(offer)}-{rng.randrange(3)}"
            # In the order they are logged, as the decision log fills (a minute's jitter):
            # the newest decisions sit together at the end of the table, as they do live.
            at = start + timedelta(seconds=n * days * 86400 // count + rng.randrange(60))
            entry = {"ruleset": "retail_banking", "offer": offer, "rule": rule}
            channel, category = rng.choice(CHANNELS), rng.choice(CATEGORIES)
            version = 1 + n * 4 // count
            decision_id = f"bench-{n:09d}"
            decisions.append(
                {
                    "id": decision_id,
                    "source": "client",
                    "bundle_version": version,
                    "bundle_digest": "",
                    "channel": channel,
                    "category": category,
                    "customer_hash": f"{n:064x}",
                    "customer_id": None,
                    "rules": [{"ruleset": "retail_banking", "rule": rule}],
                    "offers": [] if held else [entry],
                    "tone": "angry" if n % 7 == 0 else "calm",
                    "guards": [GUARD] if n % 20 == 0 else [],
                    "holdouts": [entry] if held else [],
                    "withheld": [{**CAPPED, "offer": offer}] if n % 10 == 3 else [],
                    "trace": None,
                    "decided_at": at,
                    "received_at": at,
                }
            )
            key = (
                at.date(),
                offer,
                "retail_banking",
                rule,
                channel,
                category,
                version,
                "holdout" if held else "treatment",
            )
            counts = rollup.setdefault(key, Counter())
            counts["decisions"] += 1
            kinds = [
                "shown",
                rng.choice(("accepted", "declined", "clicked", "shown")),
                "complaint" if rng.random() < 0.01 else "clicked",
                "nps",
            ]
            for k, kind in enumerate(kinds):
                events.append(
                    {
                        "event_id": f"{decision_id}-{k}",
                        "type": kind,
                        "offer_key": "" if kind == "nps" else offer,
                        "rule": rule,
                        "channel": channel,
                        "category": category,
                        "bundle_version": version,
                        "customer_id": "",
                        "score": float(rng.randrange(11)) if kind == "nps" else None,
                        "at": at,
                        "received_at": at,
                        "payload": {},
                        "decision_id": decision_id,
                        "value_cents": None,
                    }
                )
                column = {
                    "shown": "shown",
                    "accepted": "accepted",
                    "declined": "declined",
                    "complaint": "complaints",
                }.get(kind)
                if column:
                    counts[column] += 1
            if len(decisions) >= 5000:
                harm_rows(harm, decisions)
                event_rows(by_event, events)
                connection.execute(insert(Decision.__table__), decisions)
                connection.execute(insert(FeedbackEvent.__table__), events)
                inserted += len(events)
                decisions, events = [], []
                if (n + 1) % COMMIT_EVERY == 0:
                    connection.commit()
        if decisions:
            harm_rows(harm, decisions)
            event_rows(by_event, events)
            connection.execute(insert(Decision.__table__), decisions)
            connection.execute(insert(FeedbackEvent.__table__), events)
            inserted += len(events)
        generated = time.perf_counter() - began
        rows = [
            {
                "day": k[0],
                "offer_key": k[1],
                "ruleset": k[2],
                "rule": k[3],
                "channel": k[4],
                "category": k[5],
                "bundle_version": k[6],
                "arm": k[7],
                **{
                    m: c.get(m, 0)
                    for m in (
                        "decisions",
                        "shown",
                        "accepted",
                        "declined",
                        "complaints",
                        "value_cents",
                    )
                },
            }
            for k, c in rollup.items()
        ]
        for chunk in range(0, len(rows), 5000):
            connection.execute(insert(DecisionRollup.__table__), rows[chunk : chunk + 5000])
        # The offer rollups are the same counts summed over channel, category and bundle,
        # summed with the function the ingest path uses.
        coarse = rollups.offer_recount(
            {k: {m: c.get(m, 0) for m in rollups.COUNTS} for k, c in rollup.items()}
        )
        offer_rows = [
            {**dict(zip(rollups.OFFER_KEY_COLUMNS, k, strict=True)), **c} for k, c in coarse.items()
        ]
        for chunk in range(0, len(offer_rows), 5000):
            connection.execute(insert(OfferRollup.__table__), offer_rows[chunk : chunk + 5000])
        harm_table = [
            {**dict(zip(rollups.HARM_KEY_COLUMNS, k, strict=True)), **c} for k, c in harm.items()
        ]
        for chunk in range(0, len(harm_table), 5000):
            connection.execute(insert(HarmRollup.__table__), harm_table[chunk : chunk + 5000])
        # Added (upserted) like ingest adds them: the demo's events are counted already.
        with Session(bind=connection) as session:
            event_rollups.add(session, by_event)
        connection.commit()
    return generated, time.perf_counter() - began, inserted


def timed_pages(app, samples: int = 15) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post(
        "/sign-in",
        data={"email": "mara@demo.studio", "password": "studio-demo", "csrf_token": csrf},
    )
    assert answer.status_code in (302, 303), answer.status_code
    end = datetime.now(UTC).date()
    window = f"start={end - timedelta(days=89)}&end={end}"
    paths = {
        "lift page (rollups)": f"/analytics/lift?{window}",
        "trend.svg by day": f"/analytics/trend.svg?{window}&by=offer&grain=day",
        "trend.svg by week, by rule": f"/analytics/trend.svg?{window}&by=rule&grain=week",
        "harm page (rollups)": f"/analytics/harm?{window}",
        "rollup CSV export": f"/analytics/export.csv?{window}",
        "/analytics/ (event rollups)": f"/analytics/?{window}",
        "/analytics/chart.svg": f"/analytics/chart.svg?{window}",
        "/analytics/?offer=... (one offer)": f"/analytics/?{window}&offer=refill_savings",
    }
    out: dict[str, list[float]] = {}
    for name, path in paths.items():
        times = []
        for _ in range(samples):
            began = time.perf_counter()
            response = client.get(path)
            response.get_data()
            assert response.status_code == 200, (path, response.status_code)
            times.append((time.perf_counter() - began) * 1000)
        out[name] = times
    return out


#: The peer's scan is stopped past this (over 20 million events on SQLite it ran on for
#: more than 14 minutes); the figure is then "more than" this.
PEER_BUDGET_SECONDS = 300


def raw_index_query(engine) -> float | None:  # type: ignore[no-untyped-def]
    """Milliseconds for the queries `/analytics/` ran before `event_rollups`: the
    window's events grouped by offer, category, channel, bundle, type and score, and
    the distinct offer keys of all events. None when they ran past the budget."""
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = end - timedelta(days=89), end + timedelta(days=1)
    e = FeedbackEvent
    keys = (e.offer_key, e.category, e.channel, e.bundle_version, e.type, e.score)
    began = time.perf_counter()
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SET statement_timeout = {PEER_BUDGET_SECONDS * 1000}")
            stop = None
        else:
            stop = threading.Timer(PEER_BUDGET_SECONDS, driver.interrupt)
            stop.start()
        try:
            connection.execute(
                select(*keys, func.count()).where(e.at >= start, e.at < end).group_by(*keys)
            ).all()
            connection.execute(
                select(e.offer_key).where(e.offer_key != "").distinct().order_by(e.offer_key)
            ).all()
        except Exception:  # interrupted, or the statement timeout: past the budget
            return None
        finally:
            if stop is not None:
                stop.cancel()
    return (time.perf_counter() - began) * 1000


def ingest_rate(
    base: str,
    token: str,
    decisions: int,
    seconds: float,
    *,
    with_decisions: bool = True,
    recent: bool = True,
) -> tuple[int, float]:
    """Events stored and seconds taken. Each event names a logged decision of the last
    day (`recent`: outcomes follow their decision within hours), or of any of the 90
    days at random (the worst case: nearly every lookup reads a page no other did)."""
    oldest = decisions - decisions // 90 if recent else 0
    stored = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(seed: int) -> None:
        nonlocal stored
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            batch = [
                {
                    "event_id": uuid.uuid4().hex,
                    "type": rng.choice(("shown", "accepted")),
                    "offer_key": rng.choice(OFFERS),
                    **(
                        {"decision_id": f"bench-{rng.randrange(oldest, decisions):09d}"}
                        if with_decisions
                        else {}
                    ),
                }
                for _ in range(500)
            ]
            request = urllib.request.Request(
                f"{base}/api/v1/events",
                data=json.dumps({"events": batch}).encode(),
                method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
                body = json.loads(answer.read())
            with lock:
                stored += body["stored"]

    began = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return stored, time.perf_counter() - began


def complaint_to_pause(url: str, folder: Path) -> float:
    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": folder / "instance",
            "SECRET_KEY": "bench",
            "JOBS_IMMEDIATE": False,
        }
    )
    session = get_database(app).session()
    marketer = session.scalar(select(User).where(User.email == "mara@demo.studio"))
    shown = session.scalar(
        select(func.count()).where(
            FeedbackEvent.offer_key == "overdraft_protection", FeedbackEvent.type == "shown"
        )
    )
    complaints = session.scalar(
        select(func.count()).where(
            FeedbackEvent.offer_key == "overdraft_protection", FeedbackEvent.type == "complaint"
        )
    )
    rate = (complaints + 1) * 100 / shown  # the next complaint crosses it
    auto_pause.set_threshold(
        session, "overdraft_protection", f"{rate * 0.999:.6f}", "1", actor=marketer
    )
    session.commit()
    before = bundles.current(session).version
    from studio.services import api_tokens

    token = api_tokens.create(session, name="pause", scopes=("events:write",), actor_id=None).secret
    session.commit()
    jobs = get_jobs(app)
    jobs.start_consumer(workers=2)
    try:
        time.sleep(1.0)
        began = time.perf_counter()
        answer = app.test_client().post(
            "/api/v1/events",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "events": [
                    {
                        "event_id": "bench-crossing",
                        "type": "complaint",
                        "offer_key": "overdraft_protection",
                    }
                ]
            },
        )
        assert answer.status_code == 200
        while True:
            session.expire_all()
            current = bundles.current(session)
            if (
                current is not None
                and current.version > before
                and session.scalar(select(func.count(OfferPause.id)))
            ):
                return time.perf_counter() - began
            if time.perf_counter() - began > 120:
                raise SystemExit("no pause within 120 s")
            time.sleep(0.05)
    finally:
        jobs.stop_consumer()
        session.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--ingest-seconds", type=float, default=10.0)
    parser.add_argument("--postgres", default="")
    parser.add_argument(
        "--pages-only", action="store_true", help="stop after the pages (no ingest, no pause)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        url = stack.enter_context(database(folder, args.postgres or None))
        token, _keys = prepare(folder, url)
        store = "PostgreSQL" if args.postgres else "SQLite"
        engine = create_engine(url)
        print(f"load average (1, 5, 15 min): {os.getloadavg()}")
        print(
            f"store: {store}; {args.decisions:,} decisions, {args.decisions * 4:,} events "
            "(generated; 20% in holdout arms; 90 days)"
        )
        generated, total, inserted = generate(engine, args.decisions)
        rollup_rows = 0
        with engine.connect() as connection:
            rollup_rows = connection.scalar(select(func.count(DecisionRollup.id)))
            event_rollup_rows = connection.scalar(select(func.count(EventRollup.id)))
        print(
            f"generation + bulk insert: {generated:.1f} s for {args.decisions:,} decisions "
            f"and {inserted:,} events; with rollups {total:.1f} s ({rollup_rows:,} decision "
            f"rollup rows, {event_rollup_rows:,} event rollup rows)"
        )
        app = create_app(
            {"DATABASE_URL": url, "INSTANCE_PATH": folder / "instance", "SECRET_KEY": "bench"}
        )
        ceiling = 300 if args.postgres else 1000
        print(f"pages (in process, 15 requests each; load {os.getloadavg()}):")
        for name, times in timed_pages(app).items():
            p95 = percentile(times, 95)
            print(
                f"  {name:34s} p50 {statistics.median(times):7.1f} ms   "
                f"p95 {p95:7.1f} ms   {p95 / ceiling:.2f} x the {ceiling} ms ceiling"
            )
        raw = raw_index_query(engine)
        took = (
            f"{raw:.1f} ms" if raw is not None else f"more than {PEER_BUDGET_SECONDS} s (stopped)"
        )
        print(f"  peer: the raw event scan /analytics/ ran before event_rollups (1 run): {took}")
        if args.pages_only:
            engine.dispose()
            return
        port = free_port()
        try:
            server_kind = "studio serve --production: gunicorn, 2 workers"
            process = start_studio(folder, url, port)
            server = None
        except Exception:  # gunicorn not installed: say so and use werkzeug
            server_kind = "werkzeug threaded server (gunicorn not installed)"
            process = None
            server = make_server(
                "127.0.0.1",
                port,
                create_app(
                    {
                        "DATABASE_URL": url,
                        "INSTANCE_PATH": folder / "instance",
                        "SECRET_KEY": "bench",
                    }
                ),
                threaded=True,
            )
            threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            stored, seconds = ingest_rate(
                f"http://127.0.0.1:{port}", token, args.decisions, args.ingest_seconds
            )
            anywhere, anywhere_seconds = ingest_rate(
                f"http://127.0.0.1:{port}",
                token,
                args.decisions,
                args.ingest_seconds,
                recent=False,
            )
            plain, plain_seconds = ingest_rate(
                f"http://127.0.0.1:{port}",
                token,
                args.decisions,
                args.ingest_seconds,
                with_decisions=False,
            )
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=10)
            if server is not None:
                server.shutdown()
        print(
            f"ingestion via POST /api/v1/events ({server_kind}, 2 client threads, "
            f"batches of 500): {stored:,} events in {seconds:.1f} s = "
            f"{stored / seconds:,.0f} events/s (rollups updated in the same transaction), "
            "each event naming a decision of the last day"
        )
        print(
            f"  naming decisions of any of the 90 days at random (the worst case): "
            f"{anywhere:,} events in {anywhere_seconds:.1f} s = "
            f"{anywhere / anywhere_seconds:,.0f} events/s"
        )
        print(
            f"  peer, same endpoint, events naming no decision (no rollup work): "
            f"{plain / plain_seconds:,.0f} events/s; ratio "
            f"{(stored / seconds) / (plain / plain_seconds):.2f}"
        )
        latency = complaint_to_pause(url, folder)
        print(
            f"complaint to pause (real huey consumer, SQLite job storage): {latency:.2f} s "
            "from the crossing complaint's POST to the emergency bundle being current"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
