"""How fast the downstream API answers, under gunicorn with two workers on 127.0.0.1.

Prints:
- requests per second for `GET /api/v1/bundles/current` answered 304 (the revalidation
  every client makes) and answered 200 with the full bundle, measured with wrk;
- `POST /api/v1/decide` latency (p50 / p95) for the demo bundle's checkbook interaction;
- the Python client's local decision time for the same interaction.

Run: .venv/bin/python benchmarks/api_speed.py [--seconds 5] [--connections 32]
Needs wrk (Debian: apt-get install -y wrk); without it the wrk figures are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

import dsl
from studio import create_app, migrate
from studio.db import get_database
from studio.demo import seed_demo
from studio.models import Artifact, User
from studio.services import api_tokens, bundles, publish, signing, toolchain
from studio_client import StudioClient

CHECKBOOK = {
    "id": "i-checkbook",
    "at": "2026-03-02T10:15:00Z",
    "inquiry": {
        "category": "transactional",
        "intent": "order_checkbook",
        "channel": "email",
        "resolution": "confirmed",
    },
    "tone": {"label": "neutral", "score": 0.2},
    "customer": {
        "id": "c-1001",
        "authenticated": True,
        "tier": "gold",
        "state": "CA",
        "products": ["checking"],
    },
}


class _Toolchain(toolchain.DslToolchain):
    """Eligibility through `dsl.check_expression`, the source-level compiler."""

    def compile_eligibility(self, source: str, *, schema: Mapping[str, Any]) -> toolchain.Compiled:
        try:
            result = dsl.check_expression(source, schema=self._schema(schema))
        except dsl.DSLError as failed:
            return toolchain.Compiled(False, [d.to_dict() for d in failed.diagnostics])
        return self._plain(result)


def prepare(folder: Path) -> tuple[str, str, list[dict[str, str]]]:
    """A migrated, seeded studio with the demo published; returns (db url, token, keys)."""
    url = f"sqlite:///{folder / 'studio.sqlite3'}"
    migrate.upgrade(url)
    app = create_app(
        {"DATABASE_URL": url, "INSTANCE_PATH": folder / "instance", "SECRET_KEY": "bench"}
    )
    session = get_database(app).session()
    ring = signing.load_or_create_keys(app.instance_path)
    seed_demo(session)
    if bundles.current(session) is None:  # the demo seeding publishes v1 in an app context
        session.execute(update(Artifact).values(approved_number=Artifact.head_number))
        session.commit()
        admin = session.scalar(select(User).where(User.email == "alex@demo.studio"))
        publish.publish(session, actor=admin, ring=ring, toolchain=_Toolchain())
    token = api_tokens.create(
        session, name="benchmark", scopes=api_tokens.SCOPES, actor_id=None
    ).secret
    session.commit()
    session.close()
    return url, token, ring.public_keys()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(folder: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "STUDIO_DATABASE_URL": url,
        "STUDIO_INSTANCE_PATH": str(folder / "instance"),
        "STUDIO_SECRET_KEY": "bench",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "studio:create_app()",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
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


def wrk(url: str, headers: dict[str, str], seconds: int, connections: int) -> float | None:
    if shutil.which("wrk") is None:
        return None
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non_2xx:
        print(f"  warning: {non_2xx.group(1)} error answers during the run")
    return float(match.group(1)) if match else None


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def decide_latency(base: str, token: str, count: int) -> list[float]:
    body = json.dumps({"interaction": CHECKBOOK}).encode()
    samples = []
    for _ in range(count):
        request = urllib.request.Request(
            f"{base}/api/v1/decide",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        start = time.perf_counter()
        with urllib.request.urlopen(request) as answer:  # noqa: S310
            answer.read()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def local_latency(client: StudioClient, count: int) -> list[float]:
    runtime = client.runtime
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        runtime.decide(CHECKBOOK)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--decisions", type=int, default=300)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="api-speed-") as name:
        folder = Path(name)
        url, token, keys = prepare(folder)
        port = free_port()
        server = start_gunicorn(folder, url, port)
        base = f"http://127.0.0.1:{port}"
        try:
            client = StudioClient(base, token, keys, folder / "client-cache")
            client.refresh()
            auth = {"Authorization": f"Bearer {token}"}
            current = f"{base}/api/v1/bundles/current"
            with urllib.request.urlopen(urllib.request.Request(current, headers=auth)) as answer:  # noqa: S310
                etag = answer.headers["ETag"]
                size = len(answer.read())
            print(f"demo bundle: {size / 1024:.0f} KB, gunicorn 2 workers, 127.0.0.1")
            if shutil.which("wrk") is None:
                print(
                    "wrk is not installed (Debian: apt-get install -y wrk): "
                    "skipping the requests-per-second figures"
                )
            else:
                wrk(current, {**auth, "If-None-Match": etag}, 1, options.connections)  # warm up
                rps_304 = wrk(
                    current, {**auth, "If-None-Match": etag}, options.seconds, options.connections
                )
                rps_full = wrk(current, auth, options.seconds, options.connections)
                print(f"GET /bundles/current, 304 revalidation: {rps_304:,.0f} req/s")
                print(f"GET /bundles/current, full bundle:      {rps_full:,.0f} req/s")
            decide_latency(base, token, 20)
            remote = decide_latency(base, token, options.decisions)
            print(
                f"POST /decide (checkbook, email variants): p50 {statistics.median(remote):.2f} ms,"
                f" p95 {percentile(remote, 95):.2f} ms over {len(remote)} sequential calls"
            )
            local = local_latency(client, 2000)
            print(
                f"client local decide (same interaction):   p50 {statistics.median(local):.3f} ms,"
                f" p95 {percentile(local, 95):.3f} ms over {len(local)} calls"
            )
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
