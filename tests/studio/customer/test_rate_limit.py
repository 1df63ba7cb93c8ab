"""The in-process limiter: a fixed window per key."""

from __future__ import annotations

from studio.customer.rate_limit import RateLimiter


def test_allows_the_limit_then_refuses_until_the_window_passes() -> None:
    limiter = RateLimiter(limit=2, window=60)
    assert [limiter.hit("a", now=0).allowed for _ in range(3)] == [True, True, False]
    assert limiter.hit("a", now=30).retry_after == 30
    assert limiter.hit("b", now=30).allowed
    assert limiter.hit("a", now=60).allowed
