"""Browser tests: a real studio served over HTTP in a thread, driven by Debian's Chromium.

The server uses a file SQLite database (an in-memory one would be invisible to the
server thread), migrated and seeded with the demo workspace exactly as a new user's is.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect
from werkzeug.serving import make_server

from studio import migrate
from studio.db import get_database
from studio.demo import seed_demo
from tests.factories.apps import make_app

# The suite runs the browser tests beside the others on a 2-core machine; an htmx answer
# can take longer than Playwright's 5 s default there. Assertions still fail on a wrong
# page, only later.
expect.set_options(timeout=15_000)


def _chromium() -> str:
    path = os.environ.get("STUDIO_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.exit("Browser tests need Debian's chromium: run scripts/install --dev", returncode=4)
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": _chromium(),
        "args": [
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {
        **browser_context_args,
        "locale": "en-US",
        "timezone_id": "UTC",
        "viewport": {"width": 1280, "height": 860},
    }


@contextmanager
def own_studio(folder: Path) -> Iterator[tuple[Flask, str]]:
    """A studio served in a thread on a file SQLite database in `folder`, migrated and
    seeded with the demo workspace; yields the app and its address."""
    url = f"sqlite:///{folder / 'studio.sqlite3'}"
    migrate.upgrade(url)
    app = make_app(url, folder / "instance")
    with app.app_context():
        session = get_database(app).session()
        seed_demo(session)
        session.close()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    address = f"http://127.0.0.1:{server.server_port}"
    app.config["STUDIO_SETTINGS"] = dataclasses.replace(
        app.config["STUDIO_SETTINGS"], public_base_url=address
    )
    thread.start()
    try:
        yield app, address
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    """The served app and its address; customer links start with that address."""
    with own_studio(tmp_path_factory.mktemp("e2e")) as served:
        yield served


@pytest.fixture(scope="session")
def live_studio(live_app: tuple[Flask, str]) -> str:
    return live_app[1]


@pytest.fixture(scope="session")
def base_url(live_studio: str) -> str:
    return live_studio
