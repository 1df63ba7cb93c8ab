"""The database handle: one engine per app, one session and one unit of work per request.

Views never open sessions themselves; they call `db_session()` which hands out the
request's session and closes it at teardown.

The studio's rules that run on every save (an edit voids the verdicts on it, mail goes
out only after a commit, a published bundle is announced to the API's caches) are ORM
listeners attached to the studio's own sessionmaker when a `Database` is made, never to
SQLAlchemy's global `Session` at import time: they hold in every process that opens the
database through this module, whatever it imported, and in no other session.

The app ends the unit of work once the view has answered
(`end_unit_of_work`, called from `studio.app.StudioApp.dispatch_request`): an answer
below 400 commits everything the request did; a refusal the view chose (4xx, 5xx) and
any exception roll it all back, so a form shown again with its errors never leaves
half-made rows behind. Views and services do not commit or roll back by hand; the few
documented exceptions are listed in docs/architecture.md ("Database").
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, g
from flask import session as cookie_session
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from studio import sqlite_gate
from studio.services import bundle_cache, notifications, verdict_voiding

_SESSION = "db_session"
#: Seconds a writer waits for another to finish on SQLite before its statement fails.
LOCK_TIMEOUT = 15
_KEEP = "db_keep_refused"
_AFTER = "db_after_commit"


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
        # Writers queue at the gate instead of sleeping in SQLite's busy retries
        # (studio.sqlite_gate); readers never wait (WAL).
        factory = sqlite_gate.connection_factory(make_url(url).database, LOCK_TIMEOUT)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": LOCK_TIMEOUT, "factory": factory},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(
            dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry
        ) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # Durable against a crash of the studio; a power loss may undo the last
            # commits (docs/operations.md, "Database").
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT * 1000}")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def init_app(app: Flask, url: str) -> Database:
    database = Database(url)
    app.extensions["studio.db"] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        # Whatever the unit of work did not commit (an exception, a refusal) is rolled
        # back here at the latest: closing a session rolls back its open transaction.
        session = g.pop(_SESSION, None)
        if session is not None:
            session.close()

    return database


def get_database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["studio.db"]


def db_session() -> Session:
    """The current request's session (created on first use)."""
    if _SESSION not in g:
        g.db_session = get_database().session()
    return g.db_session


def keep_refused_changes() -> None:
    """Commit this request's changes even though the view answers with a refusal (4xx).

    For the rare refusal that must leave a trace: a failed sign-in counts towards the
    lockout although the person is answered 401. An exception still rolls back.
    """
    g.setdefault(_KEEP, True)


def after_commit(action: Callable[[], None]) -> None:
    """Run `action` once this request's changes are committed, never if they roll back.

    For what must follow the commit, not precede it: dropping a cache entry the change
    made stale (a revoked API token) before the commit would let a concurrent request
    cache the old row again.
    """
    g.setdefault(_AFTER, []).append(action)


def end_unit_of_work(status: int) -> None:
    """Commit the request's session after an answer below 400, else roll it back.

    A commit that fails is rolled back and re-raised, so the person sees the error page
    (which says the change may not have been saved), and messages the view flashed for a
    success that did not happen are dropped.
    """
    session: Session | None = g.get(_SESSION)
    actions: list[Callable[[], None]] = g.pop(_AFTER, [])
    if status >= 400 and not g.pop(_KEEP, False):
        if session is not None:
            session.rollback()
        return
    if session is not None:
        try:
            session.commit()
        except Exception:
            session.rollback()
            cookie_session.pop("_flashes", None)
            raise
    for action in actions:
        action()


def roll_back_request() -> None:
    """Undo everything the request did so far (error pages call this before drawing).

    The page that explains a refusal or an error is then drawn from what is stored, and
    a session left unusable by a failed flush can be read again.
    """
    session: Session | None = g.get(_SESSION)
    if session is not None:
        session.rollback()
