"""How fast the downstream API answers under the documented production configuration.

The studio runs exactly as `studio serve --production` runs it (gunicorn with
studio/gunicorn.conf.py and its defaults: see docs/operations.md, "Serving in
production") on 127.0.0.1, with the demo workspace published. Prints, at concurrency 8
(`--connections`) with wrk keeping its connections alive:

- `GET /api/v1/bundles/current` answered 304 (the revalidation every client makes) and
  answered 200 with the full bundle;
- `POST /api/v1/decide` for the demo bundle's checkbook interaction (each one logged in
  the decision log and the contact history, as in production), for customers taken in
  turn from a pool of `--customers` (default 200: a point of service sees many
  customers, and one customer asked about thousands of times a second would only
  measure that customer's growing contact history);
- each with requests per second and p50 / p99 latency, and the same figures for nginx on
  the same machine serving the same answer bytes (a static 304, the bundle bytes, one
  captured /decide answer), with the ratio studio / nginx;
- the server time of `/decide`: the WSGI call of the app (`app(environ, start_response)`
  through to the last byte of the answer) timed with `time.perf_counter` in this
  process, sequentially, against the same database: everything the studio does for a
  decision, without the HTTP parsing and the network; with the SQL statements it sends
  per decision;
- the Python client's local decision time for the same interaction.

Run: .venv/bin/python benchmarks/api_speed.py [--seconds 5] [--connections 8]
         [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
The studio's database is a SQLite file (the default configuration) unless `--postgres`
names an admin URL: a database is then created for the run and dropped after it.
Needs wrk and nginx (Debian: apt-get install -y wrk nginx-light); without them it says
so and prints the figures it can.
"""

from __future__ import annotations

import argparse
import io
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
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, make_url, select, text, update

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
DECIDE_TARGET = 2000.0
REVALIDATE_TARGET = 5000.0
SERVER_P50_TARGET_MS = 0.5


class _Toolchain(toolchain.DslToolchain):
    """Eligibility through `dsl.check_expression`, the source-level compiler."""

    def compile_eligibility(self, source: str, *, schema: Mapping[str, Any]) -> toolchain.Compiled:
        try:
            result = dsl.check_expression(source, schema=self._schema(schema))
        except dsl.DSLError as failed:
            return toolchain.Compiled(False, [d.to_dict() for d in failed.diagnostics])
        return self._plain(result)


def studio_env(folder: Path, url: str) -> dict[str, str]:
    return {
        "STUDIO_DATABASE_URL": url,
        "STUDIO_INSTANCE_PATH": str(folder / "instance"),
        "STUDIO_SECRET_KEY": "bench",
    }


@contextmanager
def database(folder: Path, postgres: str | None) -> Iterator[str]:
    """The URL of an empty database for the run: a SQLite file, or a new PostgreSQL one."""
    if postgres is None:
        yield f"sqlite:///{folder / 'studio.sqlite3'}"
        return
    name = f"api_speed_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def prepare(folder: Path, url: str) -> tuple[str, list[dict[str, str]]]:
    """A migrated, seeded studio with the demo published; returns (token, keys)."""
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
    get_database(app).engine.dispose()
    return token, ring.public_keys()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310
                return
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.2)
    process.terminate()
    stderr = (process.stderr.read() if process.stderr else b"").decode()
    raise SystemExit(f"{name} did not start: {stderr}")


def start_studio(folder: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    """`studio serve --production`, as docs/operations.md says to run it."""
    studio = Path(sys.executable).with_name("studio")
    process = subprocess.Popen(
        [str(studio), "serve", "--production", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **studio_env(folder, url), "STUDIO_LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wait_until_up(f"http://127.0.0.1:{port}/healthz", process, "the studio (gunicorn)")
    return process


def start_nginx(
    folder: Path, port: int, bundle: bytes, headers: Mapping[str, str], decision: bytes
) -> subprocess.Popen[bytes]:
    """nginx with as many workers as the studio, serving the same answer bytes."""
    root = folder / "nginx"
    (root / "html" / "api" / "v1" / "bundles").mkdir(parents=True)
    (root / "html" / "api" / "v1" / "bundles" / "current").write_bytes(bundle)
    (root / "html" / "api" / "v1" / "decide").write_bytes(decision)
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    folder.chmod(0o755)
    added = "".join(f"add_header {name} '{value}' always;\n" for name, value in headers.items())
    user = "user root;\n" if os.geteuid() == 0 else ""
    (root / "nginx.conf").write_text(
        f"""{user}worker_processes 2;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {root}/html;
    location = /healthz {{ return 200 'ok'; }}
    location = /api/v1/bundles/current {{
      default_type application/json;
      {added}
    }}
    # The static module answers a POST 405; error_page turns that into a GET of the
    # same file (the captured answer), so nginx reads the request and sends the bytes.
    location = /api/v1/decide {{ default_type application/json; error_page 405 =200 $uri; }}
  }}
}}
"""
    )
    process = subprocess.Popen(
        ["nginx", "-p", str(root), "-c", str(root / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wait_until_up(f"http://127.0.0.1:{port}/healthz", process, "nginx")
    return process


@dataclass(frozen=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int

    def line(self) -> str:
        errors = f", {self.errors} error answers" if self.errors else ""
        return (
            f"{self.rps:>9,.0f} req/s  p50 {self.p50_ms:6.2f} ms  p99 {self.p99_ms:6.2f} ms{errors}"
        )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency(output: str, percent: str) -> float:
    match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def wrk(
    url: str,
    headers: Mapping[str, str],
    seconds: int,
    connections: int,
    *,
    body: Path | None = None,
    script_folder: Path | None = None,
    customers: int = 1,
) -> Load:
    """wrk with 2 threads and `connections` kept-alive connections; its figures.

    With `body`, each request POSTs that file with `CUSTOMER` replaced by the next
    customer id of a pool of `customers`."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if body is not None and script_folder is not None:
        script = script_folder / "post.lua"
        script.write_text(
            f'wrk.method = "POST"\nlocal f = io.open("{body}", "rb")\n'
            'local template = f:read("*a")\nf:close()\nlocal n = 0\n'
            "request = function()\n  n = n + 1\n"
            f"  local id = '\"c-' .. tostring(n % {customers}) .. '\"'\n"
            "  return wrk.format(nil, nil, nil, (template:gsub('\"CUSTOMER\"', id)))\nend\n"
        )
        command += ["-s", str(script)]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non_ok = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*", output)
    if socket_errors:
        print(f"  wrk: {socket_errors.group(0)}")
    return Load(
        float(rps.group(1)) if rps else 0.0,
        _latency(output, "50"),
        _latency(output, "99"),
        int(non_ok.group(1)) if non_ok else 0,
    )


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def decide_body(customer: int) -> bytes:
    """The checkbook interaction for customer `c-<customer>`."""
    interaction = {**CHECKBOOK, "customer": {**CHECKBOOK["customer"], "id": f"c-{customer}"}}
    return json.dumps({"interaction": interaction}).encode()


def server_times(app: Any, token: str, count: int, customers: int) -> list[float]:
    """Milliseconds per WSGI call of POST /decide, answer read to its last byte, for
    customers taken in turn from a pool of `customers`."""
    from werkzeug.test import EnvironBuilder

    base = EnvironBuilder(
        path="/api/v1/decide",
        method="POST",
        data=decide_body(0),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    ).get_environ()
    statuses: list[str] = []

    def start_response(status: str, _headers: Any, _exc: Any = None) -> None:
        statuses.append(status)

    samples = []
    for call in range(count):
        body = decide_body(call % customers)
        environ = {**base, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        start = time.perf_counter()
        answer = app(environ, start_response)
        for _chunk in answer:
            pass
        if hasattr(answer, "close"):
            answer.close()
        samples.append((time.perf_counter() - start) * 1000)
    bad = [s for s in statuses if not s.startswith("200")]
    if bad:
        raise SystemExit(f"/decide answered {bad[0]} in process")
    return samples


def local_latency(client: StudioClient, count: int) -> list[float]:
    runtime = client.runtime
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        runtime.decide(CHECKBOOK)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def fetch(url: str, headers: Mapping[str, str], data: bytes | None = None) -> tuple[Any, bytes]:
    request = urllib.request.Request(url, data=data, headers=dict(headers))
    with urllib.request.urlopen(request) as answer:  # noqa: S310
        return answer.headers, answer.read()


def verdict(value: float, target: float, *, at_most: bool = False) -> str:
    met = value <= target if at_most else value >= target
    return "meets" if met else "MISSES"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--decisions", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--postgres", metavar="ADMIN_URL", default=None)
    options = parser.parse_args()
    missing = [tool for tool in ("wrk", "nginx") if shutil.which(tool) is None]
    with (
        tempfile.TemporaryDirectory(prefix="api-speed-") as name,
        database(Path(name), options.postgres) as url,
    ):
        folder = Path(name)
        token, keys = prepare(folder, url)
        body_file = folder / "decide.json"
        body = decide_body(0)
        body_file.write_bytes(body.replace(b'"c-0"', b'"CUSTOMER"'))
        auth = {"Authorization": f"Bearer {token}"}
        post = {**auth, "Content-Type": "application/json"}

        app = create_app(
            {"DATABASE_URL": url, "INSTANCE_PATH": folder / "instance", "SECRET_KEY": "bench"}
        )
        server_times(app, token, 200, options.customers)  # warm: bundle loaded, token checked
        engine = get_database(app).engine
        executed: list[str] = []
        if engine.dialect.name == "sqlite":
            # Counted by SQLite itself: the hot path sends plain statements to the
            # driver's cursor, which SQLAlchemy's events do not see.
            def trace(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.set_trace_callback(executed.append)

            engine.dispose()  # every connection from now on is a traced one
            event.listen(engine, "connect", trace)
        inside = server_times(app, token, options.decisions, options.customers)
        if engine.dialect.name == "sqlite":
            event.remove(engine, "connect", trace)
            engine.dispose()

        port = free_port()
        server = start_studio(folder, url, port)
        nginx: subprocess.Popen[bytes] | None = None
        base = f"http://127.0.0.1:{port}"
        current = f"{base}/api/v1/bundles/current"
        try:
            headers, bundle = fetch(current, auth)
            etag = headers["ETag"]
            _, decision = fetch(f"{base}/api/v1/decide", post, body)
            print(
                f"demo bundle {len(bundle) / 1024:.0f} KB, /decide answer "
                f"{len(decision) / 1024:.1f} KB; studio: `studio serve --production` "
                f"(studio/gunicorn.conf.py defaults); 127.0.0.1, {options.connections} "
                f"kept-alive connections, {options.seconds} s per run, /decide for "
                f"{options.customers} customers in turn; database: "
                f"{'PostgreSQL' if options.postgres else 'SQLite file'}"
            )
            print(f"load average before the runs: {os.getloadavg()}")
            figures: dict[str, tuple[Load, Load | None]] = {}
            if "wrk" in missing:
                print(
                    "wrk is NOT installed (Debian: apt-get install -y wrk): "
                    "no requests-per-second figures"
                )
            else:
                if "nginx" in missing:
                    print(
                        "nginx is NOT installed (Debian: apt-get install -y nginx-light): "
                        "no ratio to nginx"
                    )
                else:
                    nginx_port = free_port()
                    same = {
                        "Cache-Control": headers["Cache-Control"],
                        "X-Bundle-Signature": headers["X-Bundle-Signature"],
                        "X-Bundle-Version": headers["X-Bundle-Version"],
                        "Vary": "Authorization",
                    }
                    nginx = start_nginx(folder, nginx_port, bundle, same, decision)
                    peer = f"http://127.0.0.1:{nginx_port}"
                    peer_etag = fetch(f"{peer}/api/v1/bundles/current", {})[0]["ETag"]
                seconds, connections = options.seconds, options.connections
                wrk(current, {**auth, "If-None-Match": etag}, 1, connections)  # warm up
                runs = {
                    "GET /bundles/current 304": (
                        lambda b, h: wrk(f"{b}/api/v1/bundles/current", h, seconds, connections),
                        {**auth, "If-None-Match": etag},
                    ),
                    "GET /bundles/current 200": (
                        lambda b, h: wrk(f"{b}/api/v1/bundles/current", h, seconds, connections),
                        auth,
                    ),
                    "POST /decide": (
                        lambda b, h: wrk(
                            f"{b}/api/v1/decide",
                            h,
                            seconds,
                            connections,
                            body=body_file,
                            script_folder=folder,
                            customers=options.customers,
                        ),
                        post,
                    ),
                }
                for label, (run, studio_headers) in runs.items():
                    mine = run(base, studio_headers)
                    theirs = None
                    if nginx is not None:
                        peer_headers = dict(studio_headers)
                        if "If-None-Match" in peer_headers:
                            peer_headers["If-None-Match"] = peer_etag
                        theirs = run(peer, peer_headers)
                    figures[label] = (mine, theirs)
                print(f"{'':26}{'studio':>48}   {'nginx, same bytes':>44}")
                for label, (mine, theirs) in figures.items():
                    ratio = (
                        f"   {theirs.line()}   nginx {theirs.rps / mine.rps:.1f}x faster"
                        if theirs and mine.rps
                        else ""
                    )
                    print(f"{label:26}{mine.line()}{ratio}")
                print(
                    f"target: /decide >= {DECIDE_TARGET:,.0f} req/s: "
                    f"{verdict(figures['POST /decide'][0].rps, DECIDE_TARGET)}; 304 >= "
                    f"{REVALIDATE_TARGET:,.0f} req/s: "
                    f"{verdict(figures['GET /bundles/current 304'][0].rps, REVALIDATE_TARGET)}"
                )
            p50 = statistics.median(inside)
            print(
                f"/decide server time (WSGI call in process, sequential): p50 {p50:.3f} ms, "
                f"p99 {percentile(inside, 99):.3f} ms over {len(inside)} calls; target p50 <= "
                f"{SERVER_P50_TARGET_MS} ms: {verdict(p50, SERVER_P50_TARGET_MS, at_most=True)}; "
                + (
                    f"{len(executed) / len(inside):.1f} SQL statements per decision (BEGIN "
                    "and COMMIT included, as SQLite traced them)"
                    if executed
                    else "statements counted on SQLite only (the same ones, placeholders aside)"
                )
            )
            client = StudioClient(base, token, keys, folder / "client-cache")
            client.refresh()
            local = local_latency(client, 2000)
            print(
                f"client local decide (same interaction): p50 {statistics.median(local):.3f} ms,"
                f" p95 {percentile(local, 95):.3f} ms over {len(local)} calls"
            )
            print(f"load average after the runs: {os.getloadavg()}")
        finally:
            for process in (server, nginx):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=30)


if __name__ == "__main__":
    main()
