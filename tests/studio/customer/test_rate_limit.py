"""The in-process limiter: a fixed window per key."""

from __future__ import annotations

from studio.customer.rate_limit import RateLimiter


def test_allows_the_limit_then_refuses_until_the_window_passes() -> None:
    limiter = RateLimiter(limit=2, window=60)
    assert [limiter.hit("a", now=0).allowed for _ in range(3)] == [True, True, False]
    assert limiter.hit("a", now=30).retry_after == 30
    assert limiter.hit("b", now=30).allowed
    assert limiter.hit("a", now=60).allowed


def test_the_address_limit_comes_from_the_environment_and_a_typo_keeps_the_default(
    monkeypatch,
) -> None:
    from flask import Flask

    from studio.customer.views import DEFAULT_ADDRESS_LIMIT, _limit

    app = Flask(__name__)
    with app.app_context():
        monkeypatch.setenv("STUDIO_CUSTOMER_ADDRESS_LIMIT", "5")
        assert _limit("CUSTOMER_ADDRESS_LIMIT", DEFAULT_ADDRESS_LIMIT) == 5
        for typo in ("five", "0", "-3"):
            monkeypatch.setenv("STUDIO_CUSTOMER_ADDRESS_LIMIT", typo)
            assert _limit("CUSTOMER_ADDRESS_LIMIT", DEFAULT_ADDRESS_LIMIT) == DEFAULT_ADDRESS_LIMIT
