"""How fast the code editor's server round trips are, over real HTTP, for a large ruleset.

Prints p50 / p95 (milliseconds) for a 1,000-rule ruleset:
- `POST /editor/rules/diagnostics` (JSON diagnostics with ranges and fixes), clean source;
- the same with six typos spread through it (the parser's statement recovery runs);
- `GET /editor/rules/vocabulary` (completion and hover data);
- peer in the same run: the htmx problems list `POST /rules/check` for the same source;
and the editor bundles' sizes (rules, templates), raw and gzipped, when they have been built.

Run: .venv/bin/python benchmarks/editor_speed.py [--rules 1000] [--runs 40]
The target is p95 <= 100 ms for diagnostics and vocabulary at 1,000 rules.
"""

from __future__ import annotations

import argparse
import atexit
import gzip
import http.cookiejar
import json
import logging
import os
import re
import shutil
import statistics
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from werkzeug.serving import make_server

from studio import create_app, migrate
from studio.db import get_database
from studio.demo import DEMO_PASSWORD, seed_demo
from studio.models import Artifact

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = ("informational", "diagnostic", "transactional", "advisory", "feedback")
CHANNELS = ("email", "chat", "phone", "web", "sms")


def ruleset(rules: int, offers: list[str]) -> str:
    lines = [
        "never offer when tone is distressed",
        "limit offers to 1 per customer per 7 days",
        "at most 1 offer per response",
        "",
    ]
    for i in range(rules):
        lines += [
            f'rule "Rule {i}"',
            f'  when inquiry.category is {CATEGORIES[i % 5]} and inquiry.intent is "intent_{i}"',
            f"   and inquiry.channel is {CHANNELS[i % 5]} and tone is not negative",
            f"  offer {offers[i % len(offers)]}",
            f"  priority {i % 100}",
            "",
        ]
    return "\n".join(lines)


def with_typos(source: str) -> str:
    """Three unquoted rule names and three misspelt categories, in different rules."""
    lines = source.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("rule ")]
    for n in (1, 2, 3):
        broken, misspelt = starts[n * len(starts) // 4], starts[n * len(starts) // 4 + 2]
        lines[broken] = lines[broken].replace('rule "', "rule ", 1).rstrip('"')
        lines[misspelt + 1] = re.sub(
            r"category is \w+", "category is transactonal", lines[misspelt + 1]
        )
    return "\n".join(lines)


def _p95(values: list[float]) -> float:
    values = sorted(values)
    return values[max(0, int(round(0.95 * len(values))) - 1)]


def timed(call: Callable[[], bytes], runs: int) -> tuple[float, float, int, float, float]:
    """Wall p50 / p95 (ms), response size, and CPU p50 / p95 (ms) of this process, which
    is both the server and the client: on a shared machine the wall time mostly
    measures the other work, the CPU time what a round trip costs."""
    call()  # warm up
    times = []
    cpu = []
    size = 0
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        size = len(call())
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(times), _p95(times), size, statistics.median(cpu), _p95(cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="editor-bench-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # the scratch studio goes
    url = f"sqlite:///{folder / 'studio.sqlite3'}"
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder / "instance"})
    with app.app_context():
        session = get_database(app).session()
        seed_demo(session)
        offers = sorted(a.key for a in session.query(Artifact).filter_by(kind="offer"))
        session.close()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    page = opener.open(base + "/sign-in").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    opener.open(
        base + "/sign-in",
        urllib.parse.urlencode(
            {"email": "sam@demo.studio", "password": DEMO_PASSWORD, "csrf_token": token}
        ).encode(),
    )
    page = opener.open(base + "/rules/new").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    def post_json(path: str, body: dict) -> bytes:
        request = urllib.request.Request(
            base + path,
            json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "X-CSRF-Token": token},
        )
        return opener.open(request).read()

    def post_form(path: str, body: dict) -> bytes:
        request = urllib.request.Request(
            base + path,
            urllib.parse.urlencode(body).encode(),
            method="POST",
            headers={"X-CSRF-Token": token, "HX-Request": "true"},
        )
        return opener.open(request).read()

    clean = ruleset(args.rules, offers)
    typos = with_typos(clean)
    found = json.loads(post_json("/editor/rules/diagnostics", {"source": typos}))
    print(
        f"{args.rules} rules, {len(clean):,} characters; with typos: {found['errors']} errors "
        f"reported at once ({args.runs} runs each, werkzeug threaded server on 127.0.0.1)"
    )
    print(f"load average before: {os.getloadavg()}")
    counter = iter(range(10**9))
    # Each request sends a different text (a comment changes), as typing does, so no
    # answer comes from the editor's memo of recent answers.
    rows = [
        (
            "diagnostics JSON, clean",
            lambda: post_json(
                "/editor/rules/diagnostics", {"source": clean + f"# {next(counter)}"}
            ),
        ),
        (
            "diagnostics JSON, 6 typos",
            lambda: post_json(
                "/editor/rules/diagnostics", {"source": typos + f"# {next(counter)}"}
            ),
        ),
        (
            "diagnostics JSON, unchanged",
            lambda: post_json("/editor/rules/diagnostics", {"source": clean}),
        ),
        ("vocabulary JSON", lambda: opener.open(base + "/editor/rules/vocabulary").read()),
        (
            "peer: htmx problems list",
            lambda: post_form("/rules/check", {"source": clean + f"# {next(counter)}"}),
        ),
    ]
    figures = {}
    for label, call in rows:
        p50, p95, size, cpu50, cpu95 = timed(call, args.runs)
        figures[label] = p95
        verdict = (
            ""
            if label.startswith("peer")
            else ("  ok (<= 100 ms)" if p95 <= 100 else "  OVER 100 ms")
        )
        print(
            f"  {label:<28} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   "
            f"(CPU p50 {cpu50:6.1f} ms, p95 {cpu95:6.1f} ms)   {size:>8,} bytes{verdict}"
        )
    peer = figures["peer: htmx problems list"]
    print(
        f"ratio: diagnostics p95 (clean) / problems-list p95 = "
        f"{figures['diagnostics JSON, clean'] / peer:.2f}; load average after: {os.getloadavg()}"
    )
    for name in ("rules", "templates"):
        bundle = ROOT / "studio" / "static" / "vendor" / f"code-editor-{name}.js"
        if bundle.exists():
            raw = bundle.read_bytes()
            print(
                f"editor bundle code-editor-{name}.js: {len(raw) / 1024:.0f} KB, "
                f"{len(gzip.compress(raw, 9)) / 1024:.0f} KB gzipped"
            )
    server.shutdown()


if __name__ == "__main__":
    main()
