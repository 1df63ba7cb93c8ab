"""What each worker remembers about published bundles, and how it learns of a publish.

Three layers, cheapest first:

- the *pointer*: (version, digest, signature, key id) of the current bundle. It is what
  a revalidation (`If-None-Match` -> 304) needs, so it is answered from memory. It is
  refreshed by a one-row query of those columns only, at most every
  `API_BUNDLE_POINTER_TTL_SECONDS` (default 1 s), and at once after this process
  commits any change to a bundle row. **Staleness bound:** another worker, or another
  host, sees a publish or a rollback within that TTL. While the database is unavailable
  the last pointer read stays in use (asked again once per TTL), so 304s and downloads
  of versions in memory keep working through an outage.
- the *served bundle*: the exact signed bytes of a version, checked against its digest
  and signature once, then kept (bundles are immutable, so a version never changes).
- the *runtime*: the bundle compiled for deciding (`bundle.runtime`), built once
  per version.

Each app keeps its own caches (tests create many apps; `studio.api.bundle_cache` hands
out the running app's); the publish signal is process-wide and only says "look again".
The database layer attaches the listeners that raise it (`register_listeners`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import event, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from bundle.runtime import BundleRuntime
from studio.models import Bundle
from studio.outages import database_unavailable
from studio.services import bundles, signing

log = logging.getLogger("studio.services.bundle_cache")

DEFAULT_TTL_SECONDS: Final = 1.0
KEEP_VERSIONS: Final = 8

_generation = 0
_generation_lock = threading.Lock()


def _bump() -> None:
    global _generation
    with _generation_lock:
        _generation += 1


def _note_bundle_writes(session: Session, _context: Any) -> None:
    if any(isinstance(obj, Bundle) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info["studio.bundles_changed"] = True


def _note_bulk_bundle_writes(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and any(
        mapper.class_ is Bundle for mapper in state.all_mappers
    ):
        state.session.info["studio.bundles_changed"] = True


def _announce_bundle_writes(session: Session) -> None:
    if session.info.pop("studio.bundles_changed", False):
        _bump()


def _forget_rolled_back_writes(session: Session) -> None:
    session.info.pop("studio.bundles_changed", None)


def register_listeners(sessions: sessionmaker[Session]) -> None:
    """Tell every worker's caches to look again after a session of `sessions` commits a
    change to a bundle row (and forget the change if it rolls back)."""
    for name, listener in (
        ("after_flush", _note_bundle_writes),
        ("do_orm_execute", _note_bulk_bundle_writes),
        ("after_commit", _announce_bundle_writes),
        ("after_rollback", _forget_rolled_back_writes),
    ):
        if not event.contains(sessions, name, listener):
            event.listen(sessions, name, listener)


@dataclass(frozen=True)
class Pointer:
    version: int
    digest: str
    signature: str
    key_id: str

    @property
    def signature_header(self) -> str:
        return f"keyid={self.key_id},sig={self.signature}"


@dataclass(frozen=True)
class ServedBundle:
    """A version's signed bytes, verified once against its digest and signature."""

    pointer: Pointer
    data: bytes
    published_at: datetime


class BundleCache:
    """One app's caches; bundles are verified with the keys kept under `instance_path`."""

    def __init__(
        self, ttl: float, *, instance_path: str | os.PathLike[str], keep: int = KEEP_VERSIONS
    ) -> None:
        self.ttl = ttl
        self.instance_path = instance_path
        self.keep = keep
        self._pointer: tuple[float, int, Pointer | None] | None = None
        self._served: OrderedDict[int, ServedBundle] = OrderedDict()
        self._runtimes: OrderedDict[tuple[int, str], BundleRuntime] = OrderedDict()
        self._lock = threading.Lock()

    def fresh_current(self) -> tuple[bool, Pointer | None]:
        """(True, pointer) while `current` would answer without a query, else (False, None)."""
        cached = self._pointer
        if (
            cached is not None
            and cached[1] == _generation
            and time.monotonic() - cached[0] < self.ttl
        ):
            return True, cached[2]
        return False, None

    def current(self, session: Callable[[], Session]) -> Pointer | None:
        """The current bundle's pointer; no query while fresh and nothing was published."""
        fresh, pointer = self.fresh_current()
        if fresh:
            return pointer
        cached = self._pointer
        now = time.monotonic()
        generation = _generation
        try:
            row = (
                session()
                .execute(
                    select(Bundle.version, Bundle.digest, Bundle.signature, Bundle.key_id)
                    .where(Bundle.is_current.is_(True))
                    .order_by(Bundle.version.desc())
                    .limit(1)
                )
                .first()
            )
        except SQLAlchemyError as exc:
            if cached is None or not database_unavailable(exc):
                raise
            session().rollback()
            log.warning(
                "database unavailable; serving the last known current bundle v%s",
                cached[2].version if cached[2] else None,
            )
            self._pointer = (now, generation, cached[2])
            return cached[2]
        pointer = Pointer(*row) if row else None
        self._pointer = (now, generation, pointer)
        return pointer

    def served(self, session: Callable[[], Session], version: int) -> ServedBundle | None:
        """A version's verified bytes; raises `BundleTampered` if storage changed."""
        found = self._served.get(version)
        if found is not None:
            return found
        row = bundles.get(session(), version)
        if row is None:
            return None
        bundles.load_verified(row, signing.public_keys(instance_path=self.instance_path))
        served = ServedBundle(
            Pointer(row.version, row.digest, row.signature, row.key_id),
            row.body.encode("utf-8"),
            row.published_at,
        )
        with self._lock:
            self._served[version] = served
            while len(self._served) > self.keep:
                self._served.popitem(last=False)
        return served

    def runtime(self, served: ServedBundle) -> BundleRuntime:
        """The decision runtime for a served bundle; raises `BundleLoadError` if it won't load."""
        key = (served.pointer.version, served.pointer.digest)
        found = self._runtimes.get(key)
        if found is not None:
            return found
        runtime = BundleRuntime.from_bundle(json.loads(served.data), digest=served.pointer.digest)
        with self._lock:
            self._runtimes[key] = runtime
            while len(self._runtimes) > self.keep:
                self._runtimes.popitem(last=False)
        return runtime
