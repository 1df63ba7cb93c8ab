"""Living through a database outage: what counts as one, and logs that stay readable.

Downstream reads must keep working while the database is away (the bundle, its pointer
and recent token checks are in memory), so the places that can answer from memory catch
exactly the errors that mean "the database cannot be reached or cannot write", and
nothing else: a bug stays a bug. And a 30-second outage under load must not write
thousands of identical tracebacks, so `RepeatFilter` lets the first of a kind through and
then one summary per window.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Final

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

#: Seconds during which identical log records after the first are only counted.
REPEAT_WINDOW_SECONDS: Final = 10.0
MAX_KINDS: Final = 1_000


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database is unreachable, refusing connections, or full."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


class RepeatFilter(logging.Filter):
    """Pass the first record of a kind, then drop repeats for `window` seconds.

    A kind is the logger, level, message template and exception type. When a window with
    dropped repeats ends, the next record of that kind says how many were dropped.
    """

    def __init__(
        self, window: float = REPEAT_WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.window = window
        self._clock = clock
        self._seen: dict[tuple[str, int, str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        kind = (
            record.name,
            record.levelno,
            str(record.msg),
            type(record.exc_info[1]).__name__ if record.exc_info and record.exc_info[1] else "",
        )
        now = self._clock()
        with self._lock:
            first, dropped = self._seen.get(kind, (None, 0))
            if first is not None and now - first < self.window:
                self._seen[kind] = (first, dropped + 1)
                return False
            if len(self._seen) >= MAX_KINDS:
                self._seen.clear()
            self._seen[kind] = (now, 0)
        if dropped:
            record.msg = (
                f"{record.msg} (and {dropped} more like it in the last "
                f"{self.window:g} s, not logged)"
            )
        return True


def install_repeat_filter(logger: logging.Logger) -> RepeatFilter:
    """Attach one `RepeatFilter` to `logger` (again is a no-op); returns it."""
    for existing in logger.filters:
        if isinstance(existing, RepeatFilter):
            return existing
    repeat = RepeatFilter()
    logger.addFilter(repeat)
    return repeat
