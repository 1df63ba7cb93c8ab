"""A small in-process rate limit for the customer pages, per token and per address.

Each worker process counts requests in a fixed one-minute window per key (a token's
hash, or a client address). That bounds what one link or one client can cost, and turns
guessing tokens from many addresses into a slow crawl on top of 128 bits of entropy.
The counts live in memory: with several workers the effective limit is the limit times
the number of workers, and a restart forgets them. Both are acceptable for a brake on
abuse; the tokens themselves are the protection.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Final

MAX_KEYS: Final = 50_000


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


class RateLimiter:
    """At most `limit` hits per key per `window` seconds."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._counts: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> Verdict:
        now = time.monotonic() if now is None else now
        with self._lock:
            start, count = self._counts.get(key, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            if count >= self.limit:
                return Verdict(False, max(1, int(start + self.window - now + 0.999)))
            if len(self._counts) >= MAX_KEYS:
                self._forget_stale(now)
            self._counts[key] = (start, count + 1)
            return Verdict(True)

    def _forget_stale(self, now: float) -> None:
        stale = [k for k, (start, _) in self._counts.items() if now - start >= self.window]
        for key in stale:
            del self._counts[key]
        if len(self._counts) >= MAX_KEYS:
            self._counts.clear()
