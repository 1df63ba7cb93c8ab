"""The production recipe keeps answering while slow clients hold connections open.

gunicorn is started with studio/gunicorn.conf.py (the same file `studio serve
--production` uses) on a free 127.0.0.1 port; four connections send the headers of a
`POST /sign-in` and only part of its body, and another request is still answered at
once. The slow requests themselves get a 408 once the body timeout passes. Connections
are kept alive between requests, and idle kept-alive connections hold no thread.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio import migrate

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "studio" / "gunicorn.conf.py"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def gunicorn_studio(tmp_path: Path) -> Iterator[str]:
    database = tmp_path / "studio.sqlite3"
    migrate.upgrade(f"sqlite:///{database}")
    port = _free_port()
    env = {
        **os.environ,
        "STUDIO_DATABASE_URL": f"sqlite:///{database}",
        "STUDIO_INSTANCE_PATH": str(tmp_path / "instance"),
        "STUDIO_SECRET_KEY": "serving",
        "STUDIO_BODY_TIMEOUT": "2",
        "STUDIO_WEB_WORKERS": "2",
        "STUDIO_WEB_THREADS": "4",
        "STUDIO_LOG_LEVEL": "warning",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(CONFIG),
            "--bind",
            f"127.0.0.1:{port}",
            "studio:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1):  # noqa: S310
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    stderr = process.stderr.read().decode() if process.stderr else ""
                    pytest.fail(f"gunicorn did not start: {stderr}")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _slow_sign_in(port: int) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port))
    connection.sendall(
        b"POST /sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 4000\r\n\r\nemail=slow%40example.com&pass"
    )
    return connection


def test_slow_sign_in_bodies_do_not_keep_other_requests_waiting(gunicorn_studio: str) -> None:
    port = int(gunicorn_studio.rsplit(":", 1)[1])
    slow = [_slow_sign_in(port) for _ in range(4)]
    try:
        time.sleep(0.3)  # let the workers pick the slow requests up
        with urllib.request.urlopen(f"{gunicorn_studio}/healthz", timeout=1.5) as answer:  # noqa: S310
            assert answer.status == 200
        with urllib.request.urlopen(f"{gunicorn_studio}/sign-in", timeout=1.5) as answer:  # noqa: S310
            assert answer.status == 200
    finally:
        for connection in slow:
            connection.close()


def test_a_body_that_stops_arriving_is_answered_408_and_its_thread_freed(
    gunicorn_studio: str,
) -> None:
    port = int(gunicorn_studio.rsplit(":", 1)[1])
    connection = _slow_sign_in(port)
    connection.settimeout(15)
    try:
        answer = connection.recv(200)
    finally:
        connection.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer


def _connection(url: str) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=5)


def test_one_connection_serves_several_requests(gunicorn_studio: str) -> None:
    connection = _connection(gunicorn_studio)
    try:
        ports = []
        for _ in range(3):
            connection.request("GET", "/healthz")
            answer = connection.getresponse()
            assert answer.status == 200
            assert answer.getheader("Connection", "").lower() != "close"
            answer.read()
            assert connection.sock is not None
            ports.append(connection.sock.getsockname()[1])
        assert len(set(ports)) == 1  # the same TCP connection answered all three
    finally:
        connection.close()


def test_idle_kept_alive_connections_do_not_keep_new_clients_waiting(
    gunicorn_studio: str,
) -> None:
    """Twelve idle kept-alive connections, more than the 8 threads of the 2 workers."""
    idle = [_connection(gunicorn_studio) for _ in range(12)]
    try:
        for connection in idle:
            connection.request("GET", "/healthz")
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200
        with urllib.request.urlopen(f"{gunicorn_studio}/sign-in", timeout=1.5) as answer:  # noqa: S310
            assert answer.status == 200
        for connection in idle:  # and every idle one is still served when it speaks again
            connection.request("GET", "/healthz")
            assert connection.getresponse().status == 200
    finally:
        for connection in idle:
            connection.close()
