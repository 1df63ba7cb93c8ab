"""The database handle: one engine per app, one session per request.

Views never open sessions themselves; they call `db_session()` which hands out the
request's session and closes it at teardown.

The studio's rules that run on every save (an edit voids the verdicts on it, mail goes
out only after a commit, a published bundle is announced to the API's caches) are ORM
listeners attached to the studio's own sessionmaker when a `Database` is made, never to
SQLAlchemy's global `Session` at import time: they hold in every process that opens the
database through this module, whatever it imported, and in no other session.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from studio.services import bundle_cache, notifications, verdict_voiding


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        register_listeners(self.sessionmaker)

    def session(self) -> Session:
        return self.sessionmaker()


def register_listeners(sessions: sessionmaker[Session]) -> None:
    """Attach the studio's save-time rules to every session `sessions` makes."""
    verdict_voiding.register_listeners(sessions)
    notifications.register_listeners(sessions)
    bundle_cache.register_listeners(sessions)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def init_app(app: Flask, url: str) -> Database:
    database = Database(url)
    app.extensions["studio.db"] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    return database


def get_database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["studio.db"]


def db_session() -> Session:
    """The current request's session (created on first use)."""
    if "db_session" not in g:
        g.db_session = get_database().session()
    return g.db_session
