"""The `studio` command: migrations, the demo workspace, creating people."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from studio.cli import main, serve_overrides
from studio.demo import DEMO_PEOPLE
from studio.models import Artifact, Bundle, User


@pytest.fixture
def env(tmp_path: Path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("STUDIO_DATABASE_URL", url)
    monkeypatch.setenv("STUDIO_INSTANCE_PATH", str(tmp_path / "instance"))
    import studio.app

    monkeypatch.setattr(studio.app, "DEFAULT_INSTANCE", tmp_path / "instance")
    return url


def _emails(url: str) -> list[str]:
    engine = create_engine(url)
    with Session(engine) as session:
        emails = list(session.scalars(select(User.email).order_by(User.email)))
    engine.dispose()
    return emails


def test_db_upgrade_then_demo_seeds_every_role_and_is_idempotent(env: str) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    first = runner.invoke(main, ["demo"])
    assert first.exit_code == 0, first.output
    assert not re.search(r"\b0 created", first.output)
    second = runner.invoke(main, ["demo"])
    assert ": 0 created" in second.output
    assert _emails(env) == sorted(p.email for p in DEMO_PEOPLE)
    engine = create_engine(env)
    with Session(engine) as session:
        kinds = dict(
            session.execute(select(Artifact.kind, func.count()).group_by(Artifact.kind)).all()
        )
        bundles = session.scalar(select(func.count()).select_from(Bundle))
    engine.dispose()
    assert kinds["offer"] == 12 and kinds["ruleset"] == 5 and kinds["layout"] == 5
    assert bundles == 1


def test_users_create_makes_a_person_and_refuses_a_duplicate(env: str) -> None:
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade"])
    args = [
        "users",
        "create",
        "--email",
        "lee@example.com",
        "--name",
        "Lee",
        "--role",
        "admin",
        "--password",
        "a long password",
    ]
    assert runner.invoke(main, args).exit_code == 0
    again = runner.invoke(main, args)
    assert again.exit_code == 1
    assert "Someone already has the email lee@example.com." in again.output
    assert _emails(env) == ["lee@example.com"]


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT"])
def test_studio_serve_with_its_worker_stops_on_ctrl_c_and_kill(tmp_path: Path, stop: str) -> None:
    """huey's consumer claims SIGTERM and SIGINT for a loop `studio serve` never runs;
    the server must still stop on Ctrl+C (SIGINT) and `kill` (SIGTERM)."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environ = {
        **os.environ,
        "STUDIO_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "STUDIO_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    studio = [sys.executable, "-m", "studio.cli"]
    subprocess.run([*studio, "db", "upgrade"], env=environ, check=True, capture_output=True)
    server = subprocess.Popen(
        [*studio, "serve", "--port", str(port)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # As from a terminal: SIGINT not ignored (a test runner's worker may ignore it).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/sign-in", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        server.send_signal(getattr(signal, stop))
        assert server.wait(timeout=20) is not None
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
            pytest.fail(f"studio serve did not stop on {stop}")


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 5001, "http://127.0.0.1:5001"),
        ("0.0.0.0", 8080, "http://127.0.0.1:8080"),
        ("studio.lan", 5000, "http://studio.lan:5000"),
    ],
)
def test_customer_links_lead_to_the_port_the_studio_serves_on(
    host: str, port: int, expected: str
) -> None:
    assert serve_overrides(host, port, dev=True, environ={}) == {
        "DEV_MODE": True,
        "PUBLIC_BASE_URL": expected,
    }


def test_a_public_base_url_that_is_set_is_kept() -> None:
    environ = {"STUDIO_PUBLIC_BASE_URL": "https://messages.example.com"}
    assert serve_overrides("127.0.0.1", 5001, dev=False, environ=environ) == {}


def test_in_production_the_address_is_never_guessed() -> None:
    environ = {"STUDIO_ENV": "production"}
    assert serve_overrides("127.0.0.1", 5001, dev=False, environ=environ) == {}
