"""A database outage does not take the downstream API down.

The studio serves the demo bundle, then its database goes away: on PostgreSQL a
test-only database stops taking connections (`ALLOW_CONNECTIONS false` and every
connection terminated); on SQLite the engine is pointed at a file that cannot be opened.
Bundles, 304s and `/decide` keep answering from memory for a token seen before,
`/healthz` stays up while `/readyz` reports the database down, pages show the studio's
own error page, repeated identical errors are logged once, and everything is back when
the database is.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, make_url, text

from studio import migrate
from studio.db import get_database, make_engine
from studio.models import User
from studio.services import api_tokens, bundles, signing
from tests.api.conftest import CHECKBOOK
from tests.conftest import POSTGRES_ENV, POSTGRES_SKIP
from tests.factories.apps import make_app
from tests.factories.people import make_user
from tests.factories.web import sign_in_as

Outage = Callable[[], Any]


@contextmanager
def _sqlite_studio(tmp_path: Path, template: Path) -> Iterator[tuple[Flask, Outage, Outage]]:
    path = tmp_path / "studio.sqlite3"
    shutil.copy(template, path)
    app = make_app(f"sqlite:///{path}", tmp_path / "instance")
    database = get_database(app)
    good = database.engine
    gone = make_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'studio.sqlite3'}")

    def down() -> None:
        database.sessionmaker.configure(bind=gone)

    def up() -> None:
        database.sessionmaker.configure(bind=good)

    try:
        yield app, down, up
    finally:
        up()
        gone.dispose()
        good.dispose()


@contextmanager
def _postgres_studio(tmp_path: Path) -> Iterator[tuple[Flask, Outage, Outage]]:
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        pytest.skip(POSTGRES_SKIP)
    name = f"studio_outage_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    app = make_app(url, tmp_path / "instance")

    def down() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )

    def up() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))

    try:
        yield app, down, up
    finally:
        up()
        get_database(app).engine.dispose()
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def studio_with_outage(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    demo_bundle_body: dict[str, Any],
) -> Iterator[tuple[Flask, str, User, Outage, Outage]]:
    """A studio with the demo bundle and a token, and switches for its database."""
    maker = (
        _sqlite_studio(tmp_path, sqlite_template)
        if request.param == "sqlite"
        else _postgres_studio(tmp_path)
    )
    with maker as (app, down, up):
        with get_database(app).session() as session:
            ring = signing.load_or_create_keys(app.instance_path)
            bundles.store(
                session, {**demo_bundle_body, "version": 1}, ring=ring, actor_id=None, summary={}
            )
            token = api_tokens.create(
                session, name="outage", scopes=api_tokens.SCOPES, actor_id=None
            ).secret
            session.commit()
            person = make_user(session, "marketer")
        yield app, token, person, down, up


def _decide(client: Any, token: str) -> Any:
    return client.post(
        "/api/v1/decide",
        headers={"Authorization": f"Bearer {token}"},
        data=json.dumps({"interaction": CHECKBOOK}),
        content_type="application/json",
    )


def test_bundles_304s_and_decide_answer_from_memory_while_the_database_is_down(
    studio_with_outage, caplog: pytest.LogCaptureFixture
) -> None:
    app, token, person, down, up = studio_with_outage
    app.config["API_TOKEN_CACHE_SECONDS"] = 0  # every call asks the database first
    client = app.test_client()
    pages = sign_in_as(app.test_client(), person)
    assert pages.get("/").status_code == 200
    auth = {"Authorization": f"Bearer {token}"}
    first = client.get("/api/v1/bundles/current", headers=auth)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert _decide(client, token).status_code == 200
    assert client.get("/readyz").get_json() == {"status": "ready", "database": "up"}

    down()
    with caplog.at_level(logging.WARNING):
        for _ in range(20):
            assert (
                client.get(
                    "/api/v1/bundles/current", headers={**auth, "If-None-Match": etag}
                ).status_code
                == 304
            )
            full = client.get("/api/v1/bundles/current", headers=auth)
            assert full.status_code == 200 and full.data == first.data
            decided = _decide(client, token)
            assert decided.status_code == 200, decided.get_data(as_text=True)
            # The contact history lives in the database: with it down, the contact
            # policy's documented choice is to deny the offers it caps, and say so.
            answer = decided.get_json()
            history = answer["policy"]["history"]
            assert history["ok"] is False and history["fallback"] == "deny"

        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json()["database"] == "down"

        stranger = client.get(
            "/api/v1/bundles/current", headers={"Authorization": "Bearer pst_never_seen"}
        )
        assert stranger.status_code == 503
        assert stranger.get_json()["error"]["code"] == "database_unavailable"

        for _ in range(5):
            page = pages.get("/")
            assert page.status_code == 503
            assert "database is unreachable" in page.get_data(as_text=True)
            assert page.mimetype == "text/html"
    # 40 stale token checks and 5 failed pages: each kind logged at most once in the
    # window (the filter is per logger, so an earlier test in the window may have used it).
    token_notes = [r for r in caplog.records if "token check from" in r.getMessage()]
    assert len(token_notes) <= 1, [r.getMessage() for r in token_notes]
    page_errors = [r for r in caplog.records if r.getMessage().startswith("Database unavailable")]
    assert len(page_errors) <= 1

    up()
    assert client.get("/readyz").status_code == 200
    assert pages.get("/").status_code == 200
    assert _decide(client, token).status_code == 200
