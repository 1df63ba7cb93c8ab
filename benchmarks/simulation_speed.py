"""Interaction history speed: import rows/s, search p95, backtest decisions/s.

- import: JSON lines of generated interactions into SQLite (a file) and, when
  STUDIO_BENCH_POSTGRES_URL (an admin URL) is set, into a fresh PostgreSQL database;
  rows/s over the whole `interaction_import.run` (read, check, store, commit per batch).
- search: p95 of `history_search.search` (count, page, five facet counts) over the SQLite
  database holding --search-rows interactions, for a mix of text, filter and combined
  searches; PostgreSQL too when its URL is set.
- backtest: decisions/s of `bundle.replay` (both bundles decide each row) with the demo
  bundle against itself minus a ruleset, in 1 process, in 2 processes, and on a Dask
  LocalCluster of 2 worker processes (when the cluster extra is installed); ratios to the
  2-process run.

Run: .venv/bin/python benchmarks/simulation_speed.py [--import-rows 50000]
     [--search-rows 200000] [--backtest-rows 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bundle.replay import merge, replay_bundles  # noqa: E402
from studio import create_app, migrate  # noqa: E402
from studio.db import get_database  # noqa: E402
from studio.services import history_search, interaction_import  # noqa: E402
from tests.factories.interactions import interaction  # noqa: E402

WORDS = (
    "card",
    "stolen",
    "refill",
    "checkbook",
    "login",
    "password",
    "late",
    "fee",
    "thanks",
    "broken",
    "room",
    "noise",
    "order",
    "balance",
    "transfer",
    "loan",
)


def _row(n: int) -> dict[str, Any]:
    body = interaction(
        n, text=" ".join(WORDS[(n * k) % len(WORDS)] for k in (1, 3, 7, 11)) + f" reference {n}"
    )
    return body


def _write(path: Path, rows: int) -> Path:
    with path.open("w") as out:
        for n in range(rows):
            out.write(json.dumps(_row(n)) + "\n")
    return path


def _app(url: str, folder: Path) -> Any:
    return create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": folder / "instance",
            "SECRET_KEY": "bench",
            "JOBS_IMMEDIATE": True,
        }
    )


def _import(url: str, path: Path, folder: Path) -> tuple[int, float]:
    app = _app(url, folder)
    with app.app_context():
        session = get_database(app).session()
        record = interaction_import.create(
            session, path=path, filename=path.name, redact=False, actor_id=None
        )
        session.commit()
        start = time.perf_counter()
        done = interaction_import.run(session, record.id)
        elapsed = time.perf_counter() - start
        session.close()
    get_database(app).engine.dispose()
    return done.imported, elapsed


QUERIES = (
    {"q": "stolen card"},
    {"q": "refill"},
    {"channel": "phone"},
    {"intent": "refill"},
    {"q": "password", "channel": "email"},
    {},
    {"attribute": "tier=gold"},
    {"q": "noise room", "date_from": "2026-11-01"},
    {"customer": "c-42"},
    {"q": "reference 12345"},
)


def _search_p95(url: str, folder: Path, runs: int) -> tuple[float, float]:
    """p95 and median in ms over every query; prints each query's median too."""
    app = _app(url, folder)
    times: list[float] = []
    per_query: dict[str, list[float]] = {}
    with app.app_context():
        session = get_database(app).session()
        for _ in range(runs):
            for query in QUERIES:
                params = history_search.SearchParams.from_args(query)
                start = time.perf_counter()
                history_search.search(session, params, raw_text=True)
                took = time.perf_counter() - start
                times.append(took)
                per_query.setdefault(json.dumps(query), []).append(took)
        session.close()
    get_database(app).engine.dispose()
    for query, took in per_query.items():
        print(f"          {statistics.median(took) * 1000:8.1f} ms  {query}")
    times.sort()
    return times[max(0, int(len(times) * 0.95) - 1)] * 1000, statistics.median(times) * 1000


def _postgres(admin_url: str) -> tuple[str, Any]:
    name = f"studio_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def _demo_bundles(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    from tests.api.conftest import publish_demo

    url = f"sqlite:///{folder / 'demo.sqlite3'}"
    migrate.upgrade(url)
    app = _app(url, folder)
    with app.app_context():
        session = get_database(app).session()
        bundle = publish_demo(app, session)
        body = json.loads(bundle.body)
        session.close()
    get_database(app).engine.dispose()
    return body, {**body, "rulesets": body["rulesets"][1:]}


def _backtest(rows: int, folder: Path) -> None:
    before, after = _demo_bundles(folder)
    samples = [
        e["interaction"]
        for e in json.loads(
            (Path(__file__).resolve().parents[1] / "studio/demo/interactions.json").read_text()
        )
    ]
    history = [{**samples[n % len(samples)], "id": f"b-{n}"} for n in range(rows)]
    chunks = [history[i : i + 5_000] for i in range(0, rows, 5_000)]
    start = time.perf_counter()
    one = merge(replay_bundles(before, after, c) for c in chunks)
    t1 = time.perf_counter() - start
    start = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        two = merge(pool.map(replay_bundles, [before] * len(chunks), [after] * len(chunks), chunks))
    t2 = time.perf_counter() - start
    assert one["changed"] == two["changed"]
    print(
        f"backtest  1 process : {rows / t1:>10,.0f} decisions/s  ({t1:.2f} s, "
        f"{one['changed']:,} change; each decision runs both bundles)"
    )
    print(
        f"backtest  2 processes: {rows / t2:>10,.0f} decisions/s  ({t2:.2f} s; "
        f"{rows / t2 / 2:,.0f}/s per core; scaling x{t1 / t2:.2f} over 1 process)"
    )
    try:
        from distributed import Client, LocalCluster

        from bundle.replay_cluster import replay_on_cluster, write_partitions
    except ImportError:
        print("backtest  Dask: not measured (pip install -e '.[cluster]')")
        return
    paths = write_partitions(history, folder / "parts", rows_per_partition=5_000)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        start = time.perf_counter()
        on_dask = replay_on_cluster(client, before, after, paths)
        td = time.perf_counter() - start
    assert on_dask["changed"] == one["changed"]
    print(
        f"backtest  Dask 2 workers: {rows / td:>7,.0f} decisions/s  ({td:.2f} s; "
        f"x{td / t2:.2f} the time of 2 processes; target <= 1.3)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--import-rows", type=int, default=50_000)
    parser.add_argument("--search-rows", type=int, default=200_000)
    parser.add_argument("--search-runs", type=int, default=5)
    parser.add_argument("--backtest-rows", type=int, default=20_000)
    args = parser.parse_args()
    postgres_admin = os.environ.get("STUDIO_BENCH_POSTGRES_URL")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = _write(folder / "history.jsonl", args.import_rows)
        url = f"sqlite:///{folder / 'import.sqlite3'}"
        migrate.upgrade(url)
        n, took = _import(url, path, folder)
        print(
            f"import    SQLite     : {n / took:>10,.0f} interactions/s  ({n:,} rows, "
            f"{took:.2f} s; target >= 20,000)"
        )
        pg_url = None
        if postgres_admin:
            pg_url, drop = _postgres(postgres_admin)
            try:
                migrate.upgrade(pg_url)
                n, took = _import(pg_url, path, folder)
                print(
                    f"import    PostgreSQL : {n / took:>10,.0f} interactions/s  ({n:,} rows, "
                    f"{took:.2f} s; target >= 20,000)"
                )
                big = _write(folder / "search.jsonl", args.search_rows)
                _import(pg_url, big, folder)
                p95, median = _search_p95(pg_url, folder, args.search_runs)
                print(
                    f"search    PostgreSQL : p95 {p95:7.1f} ms, median {median:6.1f} ms "
                    f"over {args.search_rows:,} interactions (target <= 200 ms)"
                )
            finally:
                drop()
        else:
            print("import    PostgreSQL : not measured (set STUDIO_BENCH_POSTGRES_URL)")
        big = _write(folder / "search.jsonl", args.search_rows)
        search_url = f"sqlite:///{folder / 'search.sqlite3'}"
        migrate.upgrade(search_url)
        _import(search_url, big, folder)
        p95, median = _search_p95(search_url, folder, args.search_runs)
        print(
            f"search    SQLite     : p95 {p95:7.1f} ms, median {median:6.1f} ms over "
            f"{args.search_rows:,} interactions (target <= 200 ms)"
        )
        _backtest(args.backtest_rows, folder)


if __name__ == "__main__":
    main()
