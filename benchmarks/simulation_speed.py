"""Interaction history speed: import rows/s, search p95, backtest decisions/s.

- import: JSON lines of generated interactions into SQLite (a file) and, when
  STUDIO_BENCH_POSTGRES_URL (an admin URL) is set, into a fresh PostgreSQL database;
  rows/s over the whole `interaction_import.run` (read, check, store, commit per batch).
- search: p95 of `history_search.search` (count, page, five facet counts) over the SQLite
  database holding --search-rows interactions, for a mix of text, filter and combined
  searches; PostgreSQL too when its URL is set.
- import is run --import-repeats times (the best is printed) against the ceiling of
  only reading and parsing the same file; search runs its query mix twice.
- backtest: a --backtest-rules-rule ruleset against a change of every rule (priorities,
  a third of the offers) over --backtest-rows interactions that each match a rule, with
  the backtest job's own pool (bundles compiled once per process, chunks of 2,000, at
  most two in flight per process), in 1 and 2 processes, then on a Dask LocalCluster of
  2 worker processes (when the cluster extra is installed); the ratio 1 -> 2 processes
  and Dask to the 2-process run. Each interaction is decided by both bundles.

Every figure carries the load average: the machine is shared, figures vary with it.

Run: .venv/bin/python benchmarks/simulation_speed.py [--only import|search|backtest]
     [--import-rows 50000] [--search-rows 200000] [--backtest-rows 1000000]
     [--search-url sqlite:///kept.sqlite3 --search-url postgresql+psycopg://.../kept]
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
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from history_speed import interaction as interaction_for  # noqa: E402

from bundle.replay import load_for_process, merge  # noqa: E402
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


def _rule_bundles(rules: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A published bundle of `rules` rules and a change of every one of them: the change
    moves each rule's priority and sends every third rule to another offer."""
    from history_speed import OFFERS, rules_source

    import dsl
    from bundle.format import FORMAT

    def body(source: str, version: int) -> dict[str, Any]:
        compiled = dsl.compile_ruleset(source, offers=[o["key"] for o in OFFERS], name="bench")
        assert compiled.ok, compiled.errors[:3]
        return {
            "format": FORMAT,
            "version": version,
            "offers": OFFERS,
            "rulesets": [{"key": "bench", "ir": compiled.ir}],
        }

    source = rules_source(rules)
    changed = "\n".join(
        line.replace(f"offer o{k % 3}", f"offer o{(k + 1) % 3}") if k % 3 == 0 else line
        for k, line in enumerate(source.split("\n"))
    ).replace("  priority ", "  priority 1")
    return body(source, 1), body(changed, 2)


def _rule_rows(start: int, count: int, rules: int) -> list[dict[str, Any]]:
    """History rows of which each matches one of the rules (intents i0 .. i{rules-1})."""
    out = []
    for n in range(start, start + count):
        row = interaction_for(2 * (n % rules), f"c-{n % 5000}")
        row["id"] = f"b-{n}"
        out.append(row)
    return out


def _chunks(rows: int, size: int, rules: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, rows, size):
        yield _rule_rows(start, min(size, rows - start), rules)


def _backtest(rows: int, rules: int, folder: Path) -> None:
    """The backtest job's own machinery: chunks of 2,000 sent to a pool whose processes
    compile both bundles once (`load_for_process`), tallies merged as they come."""
    from studio.services.backtests import CHUNK, _in_pool

    before, after = _rule_bundles(rules)
    print(f"backtest  {rules:,}-rule change over {rows:,} interactions  (load {_load()})")
    timings: dict[int, float] = {}
    results: dict[int, dict[str, Any]] = {}
    for processes in (1, 2):
        start = time.perf_counter()
        with ProcessPoolExecutor(
            processes, initializer=load_for_process, initargs=(before, after)
        ) as pool:
            results[processes] = merge(
                _in_pool(pool, _chunks(rows, CHUNK, rules), ahead=2 * processes)
            )
        timings[processes] = time.perf_counter() - start
        took = timings[processes]
        print(
            f"backtest  {processes} process{'es' if processes > 1 else '  '}: "
            f"{rows / took:>9,.0f} interactions/s  ({took:6.1f} s; "
            f"{rows / took / processes:,.0f}/s per process; each runs both bundles)  "
            f"(load {_load()})"
        )
    assert results[1]["changed"] == results[2]["changed"]
    t1, t2 = timings[1], timings[2]
    print(
        f"backtest  scaling 1 -> 2 processes: x{t1 / t2:.2f}; "
        f"{results[2]['changed']:,} decisions change; target <= 60 s for 1,000,000 with 2: "
        f"{t2:.1f} s here, {t2 * 1_000_000 / rows:.0f} s scaled to 1,000,000"
    )
    try:
        from distributed import Client, LocalCluster

        from bundle.replay_cluster import replay_on_cluster, write_partitions
    except ImportError:
        print("backtest  Dask: not measured (pip install -e '.[cluster]')")
        return
    start = time.perf_counter()
    paths = write_partitions(
        (row for chunk in _chunks(rows, CHUNK, rules) for row in chunk), folder / "parts"
    )
    written = time.perf_counter() - start
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        start = time.perf_counter()
        on_dask = replay_on_cluster(client, before, after, paths)
        td = time.perf_counter() - start
    assert on_dask["changed"] == results[1]["changed"]
    print(
        f"backtest  Dask 2 workers: {rows / td:>7,.0f} interactions/s  ({td:.1f} s, plus "
        f"{written:.1f} s writing {len(paths)} Parquet partitions; x{td / t2:.2f} the time "
        f"of 2 processes; target <= 1.3)  (load {_load()})"
    )


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _parse_ceiling(path: Path) -> float:
    """Rows/s of only reading the file and parsing each line: what no import can beat."""
    start = time.perf_counter()
    with path.open("rb") as lines:
        n = sum(1 for line in lines if json.loads(line))
    return n / (time.perf_counter() - start)


def _bench_import(label: str, url_of: Any, path: Path, folder: Path, repeats: int) -> None:
    """The better of `repeats` imports of `path`, each into a fresh database."""
    best = 0.0
    for _ in range(repeats):
        url, drop = url_of()
        try:
            migrate.upgrade(url)
            n, took = _import(url, path, folder)
        finally:
            drop()
        best = max(best, n / took)
    ceiling = _parse_ceiling(path)
    print(
        f"import    {label:<11}: {best:>10,.0f} interactions/s  ({n:,} rows, best of "
        f"{repeats}; target >= 20,000; {best / ceiling:.2f}x of only reading and parsing "
        f"the file, {ceiling:,.0f}/s)  (load {_load()})"
    )


def _stored(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM interactions")).scalar_one())
    finally:
        engine.dispose()


def _bench_search(label: str, url: str, rows: int, folder: Path, runs: int) -> None:
    migrate.upgrade(url)
    if not _stored(url):
        big = folder / "search.jsonl"
        if not big.exists():
            _write(big, rows)
        _import(url, big, folder)
    rows = _stored(url)
    for attempt in (1, 2):
        p95, median = _search_p95(url, folder, runs)
        print(
            f"search    {label:<11}: p95 {p95:7.1f} ms, median {median:6.1f} ms over "
            f"{rows:,} interactions (run {attempt}; target <= 200 ms)  (load {_load()})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=("import", "search", "backtest"), action="append")
    parser.add_argument("--import-rows", type=int, default=50_000)
    parser.add_argument("--import-repeats", type=int, default=2)
    parser.add_argument("--search-rows", type=int, default=200_000)
    parser.add_argument("--search-runs", type=int, default=5)
    parser.add_argument(
        "--search-url",
        action="append",
        help="search this database instead of fresh ones (imports --search-rows if empty); "
        "repeatable, to keep a 1,000,000-row SQLite file and PostgreSQL database between runs",
    )
    parser.add_argument("--backtest-rows", type=int, default=1_000_000)
    parser.add_argument("--backtest-rules", type=int, default=1_000)
    args = parser.parse_args()
    only = set(args.only or ("import", "search", "backtest"))
    postgres_admin = os.environ.get("STUDIO_BENCH_POSTGRES_URL")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "import" in only:
            path = _write(folder / "history.jsonl", args.import_rows)

            def sqlite_url() -> tuple[str, Any]:
                file = folder / f"import-{uuid.uuid4().hex[:8]}.sqlite3"
                return f"sqlite:///{file}", lambda: file.unlink(missing_ok=True)

            _bench_import("SQLite", sqlite_url, path, folder, args.import_repeats)
            if postgres_admin:
                _bench_import(
                    "PostgreSQL",
                    lambda: _postgres(postgres_admin),
                    path,
                    folder,
                    args.import_repeats,
                )
            else:
                print("import    PostgreSQL : not measured (set STUDIO_BENCH_POSTGRES_URL)")
        if "search" in only and args.search_url:
            for url in args.search_url:
                label = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
                _bench_search(label, url, args.search_rows, folder, args.search_runs)
        elif "search" in only:
            _bench_search(
                "SQLite",
                f"sqlite:///{folder / 'search.sqlite3'}",
                args.search_rows,
                folder,
                args.search_runs,
            )
            if postgres_admin:
                pg_url, drop = _postgres(postgres_admin)
                try:
                    _bench_search("PostgreSQL", pg_url, args.search_rows, folder, args.search_runs)
                finally:
                    drop()
            else:
                print("search    PostgreSQL : not measured (set STUDIO_BENCH_POSTGRES_URL)")
        if "backtest" in only:
            _backtest(args.backtest_rows, args.backtest_rules, folder)


if __name__ == "__main__":
    main()
