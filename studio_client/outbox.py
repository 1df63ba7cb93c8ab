"""The client's outbox: reports kept on disk until the studio acknowledges them.

Events (and any other report a downstream system sends in batches, such as decision
reports) are worth nothing if a studio outage or a crash of the sending process loses
them, and worse than nothing if a resend counts them twice. So a report gets its id
once, when it is handed to the client, and is written to a SQLite file (WAL, fsynced
commit) before the call returns. A delivery thread then posts what is due, oldest
first, and deletes an item only when the studio answers for it: `stored` or `duplicate`
(already there: a resend after a lost answer) are acknowledgements, `rejected` moves the
item, with the studio's reason, to a dead-letter table the caller can read
(`Outbox.rejected`). Anything else (no answer, a 5xx, a 429, a revoked token) leaves
the items where they are and backs off, doubling up to `max_backoff` seconds.

The outbox is bounded (`capacity` items waiting). When it is full, a new batch is refused
whole with `OutboxFull`, and nothing already queued is dropped: the caller keeps the new
reports and decides (wait for `flush`, drop, alert). Counting on the studio to dedupe by
id means two processes sharing one file, or a crash between the post and the delete, can
send an item twice but never store it twice.

Standard library only (sqlite3, threading), like the rest of the client.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

log = logging.getLogger("studio_client.outbox")

DEFAULT_CAPACITY: Final = 100_000
BATCH: Final = 500
#: A batch stays well under the studio's 1 MB body limit.
BATCH_BYTES: Final = 512 * 1024

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS waiting (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,
    field TEXT NOT NULL,
    item_id TEXT NOT NULL,
    body TEXT NOT NULL,
    queued_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    UNIQUE (path, item_id)
);
CREATE TABLE IF NOT EXISTS rejected (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,
    item_id TEXT NOT NULL,
    body TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    field TEXT,
    rejected_at REAL NOT NULL
);
"""


class OutboxFull(Exception):
    """The outbox holds `capacity` undelivered items; the new batch was not stored."""

    def __init__(self, waiting: int, capacity: int, offered: int) -> None:
        super().__init__(
            f"the outbox holds {waiting} undelivered items (capacity "
            f"{capacity}); {offered} new items were not queued"
        )
        self.waiting = waiting
        self.capacity = capacity
        self.offered = offered


@dataclass(frozen=True)
class Rejection:
    """An item the studio refused for good, with its reason (never retried)."""

    path: str
    item_id: str
    item: dict[str, Any]
    code: str
    message: str
    field: str | None


@dataclass(frozen=True)
class Answer:
    """What one delivery attempt got back.

    `results` maps an item's index in the batch to ``(status, error)`` when the studio
    answered for items; `retry` says the whole batch must wait and go again.
    """

    retry: bool
    error: str | None = None
    results: Mapping[int, tuple[str, Mapping[str, Any] | None]] | None = None


Post = Callable[[str, Mapping[str, Any]], Answer]


class Outbox:
    """A SQLite file of reports waiting for the studio, and the thread that delivers them."""

    def __init__(
        self,
        path: str | Path,
        post: Post,
        *,
        capacity: int = DEFAULT_CAPACITY,
        backoff: float = 0.5,
        max_backoff: float = 60.0,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.capacity = capacity
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.last_error: str | None = None
        self._post = post
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    # --- queueing ----------------------------------------------------------------------

    def add(self, path: str, field: str, items: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Queue ``(item_id, item)`` pairs for ``POST path {field: [...]}``; durable on return.

        An id already waiting for the same path is not queued twice. Returns how many
        items were new. Raises `OutboxFull` (queuing none of them) when they do not fit.
        """
        return self.add_many([(path, field, items)])

    def add_many(
        self,
        groups: Iterable[tuple[str, str, Iterable[tuple[str, Mapping[str, Any]]]]],
        *,
        fsync: bool = True,
    ) -> int:
        """Queue several batches (``(path, field, pairs)``) in one transaction: all or none.

        With ``fsync=False`` the commit is not fsynced: the items survive the process
        (a crash, a kill, a restart) but an operating-system crash or a power cut in the
        next moments may lose them. `StudioClient.decide` queues its reports this way,
        so a decision costs no disk flush; events are always fsynced.
        """
        now = time.time()
        rows = [
            (path, field, item_id, json.dumps(dict(item), separators=(",", ":")), now)
            for path, field, items in groups
            for item_id, item in items
        ]
        if not rows:
            return 0
        with self._lock:
            if not self._fits(len(rows)):
                raise OutboxFull(self._count(), self.capacity, len(rows))
            if not fsync:
                self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    before = self._db.total_changes
                    self._db.executemany(
                        "INSERT OR IGNORE INTO waiting (path, field, item_id, body, queued_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        rows,
                    )
                    added = self._db.total_changes - before
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            finally:
                if not fsync:
                    self._db.execute("PRAGMA synchronous=FULL")
        self.start()
        self._wake.set()
        return added

    @property
    def waiting(self) -> int:
        """How many items wait for an acknowledgement."""
        with self._lock:
            return self._count()

    def rejected(self) -> list[Rejection]:
        """Items the studio refused for good, oldest first, with its reasons."""
        with self._lock:
            rows = self._db.execute(
                "SELECT path, item_id, body, code, message, field FROM rejected ORDER BY seq"
            ).fetchall()
        return [Rejection(p, i, json.loads(b), c, m, f) for p, i, b, c, m, f in rows]

    def _fits(self, more: int) -> bool:
        """Whether `more` items fit. The span of sequence numbers waiting (two index
        look-ups) bounds the count from above, so a full count, which reads the whole
        table, is made only near the capacity."""
        low, high = self._db.execute("SELECT min(seq), max(seq) FROM waiting").fetchone()
        if low is None or high - low + 1 + more <= self.capacity:
            return more <= self.capacity
        return self._count() + more <= self.capacity

    def _count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM waiting").fetchone()[0])

    # --- delivery ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the delivery thread (once); items left by an earlier process go first."""
        with self._lock:
            if self._thread is not None or self._stopping:
                return
            self._thread = threading.Thread(target=self._run, name="studio-outbox", daemon=True)
            self._thread.start()

    def flush(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the outbox to empty; True when it did."""
        self.start()
        self._wake.set()
        deadline = time.monotonic() + timeout
        with self._idle:
            while self.waiting:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(min(left, 0.05))
        return True

    def close(self) -> None:
        """Stop delivering (what is queued stays on disk for the next start) and close."""
        with self._lock:
            self._stopping = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=30)
        with self._lock:
            self._db.close()

    def deliver_once(self) -> bool | None:
        """Post the oldest due batch: True if answered, False to retry, None if empty."""
        with self._lock:
            head = self._db.execute(
                "SELECT path, field FROM waiting ORDER BY seq LIMIT 1"
            ).fetchone()
            if head is None:
                return None
            path, field = head
            rows = self._db.execute(
                "SELECT seq, item_id, body FROM waiting WHERE path = ? AND field = ? "
                "ORDER BY seq LIMIT ?",
                (path, field, BATCH),
            ).fetchall()
        size = 0
        for count, (_seq, _id, body) in enumerate(rows):
            size += len(body) + 1
            if size > BATCH_BYTES and count:
                rows = rows[:count]
                break
        items = [json.loads(body) for _seq, _id, body in rows]
        try:
            answer = self._post(path, {field: items})
        except Exception as exc:  # noqa: BLE001 - any failure to deliver means "try again"
            answer = Answer(retry=True, error=f"{type(exc).__name__}: {exc}")
        with self._lock:
            if answer.retry:
                self.last_error = answer.error
                self._db.executemany(
                    "UPDATE waiting SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                    [(answer.error, seq) for seq, _id, _body in rows],
                )
                return False
            self._settle(path, rows, answer.results or {})
            self.last_error = None
        return True

    def _settle(
        self,
        path: str,
        rows: list[tuple[int, str, str]],
        results: Mapping[int, tuple[str, Mapping[str, Any] | None]],
    ) -> None:
        now = time.time()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for index, (seq, item_id, body) in enumerate(rows):
                status, error = results.get(index, ("missing", None))
                if status in ("stored", "duplicate"):
                    self._db.execute("DELETE FROM waiting WHERE seq = ?", (seq,))
                elif status == "rejected":
                    error = error or {}
                    self._db.execute(
                        "INSERT INTO rejected (path, item_id, body, code, message, field, "
                        "rejected_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            path,
                            item_id,
                            body,
                            str(error.get("code") or "rejected"),
                            str(error.get("message") or ""),
                            error.get("field"),
                            now,
                        ),
                    )
                    self._db.execute("DELETE FROM waiting WHERE seq = ?", (seq,))
                    log.warning("the studio refused %s %s: %s", path, item_id, error.get("message"))
                # Any other status (the studio did not answer for the item): it stays.
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _run(self) -> None:
        failures = 0
        while True:
            with self._lock:
                if self._stopping:
                    return
            try:
                delivered = self.deliver_once()
            except sqlite3.Error as exc:
                self.last_error = f"outbox file: {exc}"
                log.warning("%s", self.last_error)
                delivered = False
            with self._idle:
                self._idle.notify_all()
            if delivered is None:
                failures = 0
                self._wake.wait()
                self._wake.clear()
            elif delivered:
                failures = 0
            else:
                failures += 1
                delay = min(self.max_backoff, self.backoff * 2 ** min(failures - 1, 20))
                # Jitter, so many clients coming back after an outage do not arrive at once.
                self._wake.wait(delay * random.uniform(0.5, 1.0))  # noqa: S311
                self._wake.clear()
