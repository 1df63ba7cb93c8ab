"""Fixtures shared by the database-backed tests.

Every test that uses `app` runs on SQLite, and on PostgreSQL too when
STUDIO_TEST_POSTGRES_URL points at a server where we may create databases.

Each database is migrated once per test session (per pytest-xdist worker): SQLite in a
temporary file, PostgreSQL in a uniquely named database dropped at the end. A test then
runs inside one outer transaction on one connection, rolled back when the test ends.
Every session the app hands out (the test's `session`, each request's) joins that
transaction through a SAVEPOINT (SQLAlchemy's "joining a session into an external
transaction" recipe), so a view that commits or rolls back ends only its savepoint, and
the next test finds the database exactly as the migrations left it.

Building a Flask app costs more than most tests (werkzeug compiles every route), so
`app` is one app per database per session: each test gets it with its configuration,
extensions (caches) and instance folder (signing keys) as they were after start-up and
put back afterwards. A test that changes the app's set-up (adds a route or a handler) is
marked `@pytest.mark.own_app` and gets a freshly built app.

Tests that need real, separate connections (threads that race each other, a server in
another thread, migrations) are marked `@pytest.mark.committed`: their `app` is built
for them on a database of their own where commits are real (a fresh copy of the migrated
SQLite file; the session's PostgreSQL database, emptied before and after the test).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from studio import migrate
from studio.db import get_database, make_engine
from studio.models import Base
from tests.factories.apps import make_app

POSTGRES_ENV = "STUDIO_TEST_POSTGRES_URL"
POSTGRES_SKIP = (
    f"PostgreSQL tests need {POSTGRES_ENV}, an admin URL such as "
    "postgresql+psycopg://postgres@127.0.0.1:5432/test (.ci/run sets it)"
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" in metafunc.fixturenames:
        metafunc.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file: shared by the transactional tests, copied for committed ones."""
    path = tmp_path_factory.mktemp("template") / "studio.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        pytest.skip(POSTGRES_SKIP)
    name = f"studio_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_engine(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The engine for transactional SQLite tests, on a copy of the template made once.

    pysqlite opens and ends transactions on its own, which breaks SAVEPOINTs; SQLAlchemy's
    documented fix is to switch that off and emit BEGIN ourselves.
    """
    path = tmp_path_factory.mktemp("shared") / "studio.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN")

    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgresql_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(db_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A database of the test's own where commits are real (see `committed`)."""
    if db_backend == "sqlite":
        path = tmp_path / "studio.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    _truncate_all(url)
    yield url
    _truncate_all(url)


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_app(sqlite_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return _app_on(sqlite_engine, tmp_path_factory.mktemp("sqlite-app") / "instance")


@pytest.fixture(scope="session")
def postgresql_app(postgresql_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return _app_on(postgresql_engine, tmp_path_factory.mktemp("postgresql-app") / "instance")


def _app_on(engine: Engine, instance_path: Path) -> Flask:
    """A test app whose database handle uses the session's engine."""
    app = make_app(engine.url.render_as_string(hide_password=False), instance_path)
    database = get_database(app)
    database.engine.dispose()
    database.engine = engine
    return app


@pytest.fixture
def app(db_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    if request.node.get_closest_marker("committed"):
        app = make_app(request.getfixturevalue("database_url"), tmp_path / "instance")
        yield app
        get_database(app).engine.dispose()
        return
    engine: Engine = request.getfixturevalue(f"{db_backend}_engine")
    if request.node.get_closest_marker("own_app"):
        app = _app_on(engine, tmp_path / "instance")
    else:
        app = request.getfixturevalue(f"{db_backend}_app")
    with engine.connect() as connection:
        outer = connection.begin()
        try:
            with _one_test(app, connection, tmp_path / "instance"):
                yield app
        finally:
            if outer.is_active:
                outer.rollback()


_PER_TEST_EXTENSIONS = ("studio.api.bundle_cache",)


@contextmanager
def _one_test(app: Flask, connection: Connection, instance_path: Path) -> Iterator[None]:
    """Lend the app to one test: sessions inside the test's transaction, each in its own
    SAVEPOINT, a fresh instance folder, and configuration and extensions put back after."""
    database = get_database(app)
    # Per-test caches (the API's bundle cache remembers versions, which every test
    # numbers from 1 again) must not outlive the test that filled them.
    for name in _PER_TEST_EXTENSIONS:
        app.extensions.pop(name, None)
    config, extensions = dict(app.config), dict(app.extensions)
    before = app.instance_path
    app.instance_path = str(instance_path)
    # The app's own sessionmaker (with the listeners the studio attached to it) is bound
    # to the test's connection for the test, then given its engine back.
    database.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        database.sessionmaker.configure(
            bind=database.engine, join_transaction_mode="conservative_savepoint"
        )
        app.instance_path = before
        app.config.clear()
        app.config.update(config)
        app.extensions.clear()
        app.extensions.update(extensions)


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    db = get_database(app).session()
    yield db
    db.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
