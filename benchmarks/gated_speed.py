"""What resolution-gated offers cost a decision, per history store.

A bundle of 1,000 rules plus the bank example's check-in rule is decided for 1,000
customers, twice each: the first contact (the check-in is scheduled) and the reply on the
same thread confirming the fix (the gated offer is released). The peer is the same bundle
with the check-in rule written without its gate and a rule offering `mobile_alerts` on the
confirming reply, decided on the same interactions with the same kind of store: it makes
and records the same offers but has no pending offers to read or write. Printed per store: the best mean per
decision of each, and the ratio gated / peer, with the load average.

    .venv/bin/python benchmarks/gated_speed.py

Not part of the test suite.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dsl
from bundle.format import FORMAT
from bundle.history import HistoryStore, MemoryHistory
from bundle.runtime import BundleRuntime
from studio_client.history import RedisHistory, SQLiteHistory

RULES = 1000
CUSTOMERS = 1000
GATE = "\n    then offer mobile_alerts when resolution is confirmed"


def _source(gated: bool) -> str:
    lines = ["never offer when tone is distressed", "at most 1 offer per response", ""]
    for n in range(RULES):
        lines += [f'rule "Rule {n}"', f'  when inquiry.intent is "intent_{n}"', "  offer promo", ""]
    lines += [
        'rule "Check in"',
        "  when inquiry.category is diagnostic and inquiry.resolution is proposed",
        "  follow up after 2 days with check_in" + (GATE if gated else ""),
    ]
    if not gated:  # the peer makes the same offer on the reply, with no gate to settle
        lines += [
            "",
            'rule "Offer on the reply"',
            "  when inquiry.category is diagnostic and inquiry.resolution is confirmed",
            "  offer mobile_alerts",
        ]
    return "\n".join(lines) + "\n"


def _runtime(gated: bool) -> BundleRuntime:
    keys = ["promo", "check_in", "mobile_alerts"]
    result = dsl.compile_ruleset(_source(gated), offers=keys, name="bank")
    assert result.ok, result.diagnostics
    offers = [
        {
            "key": k,
            "name": k,
            "owner": "m@example.com",
            "valid_from": "2026-01-01",
            "value": 10,
            "blocks": {"headline": k},
        }
        for k in keys
    ]
    return BundleRuntime.from_bundle(
        {
            "format": FORMAT,
            "version": 1,
            "rulesets": [{"key": "bank", "ir": result.ir}],
            "offers": offers,
        }
    )


def _contact(customer: int, resolution: str, day: int) -> dict[str, Any]:
    return {
        "at": f"2026-06-{day:02d}T09:00:00Z",
        "inquiry": {
            "category": "diagnostic",
            "intent": "login",
            "channel": "email",
            "resolution": resolution,
            "thread_id": f"T-{customer}",
        },
        "tone": "positive",
        "customer": {"id": f"c-{customer}"},
    }


SEQUENCE = [_contact(c, "proposed", 1) for c in range(CUSTOMERS)] + [
    _contact(c, "confirmed", 3) for c in range(CUSTOMERS)
]


def _mean(runtime: BundleRuntime, make_store: Callable[[], HistoryStore]) -> tuple[float, int]:
    """Best mean seconds per decision over two rounds (a fresh store each), and offers made."""
    best = float("inf")
    made = 0
    for _ in range(2):
        store = make_store()
        gc.collect()
        start = time.perf_counter()
        made = sum(len(runtime.decide(i, channels=(), history=store)["offers"]) for i in SEQUENCE)
        best = min(best, (time.perf_counter() - start) / len(SEQUENCE))
        if isinstance(store, RedisHistory):  # leave the shared Redis as it was found
            for key in store.redis.scan_iter(f"{store.prefix}:*", count=1000):
                store.redis.delete(key)
    return best, made


def _stores(folder: Path) -> dict[str, Callable[[], HistoryStore]]:
    stores: dict[str, Callable[[], HistoryStore]] = {
        "memory": MemoryHistory,
        "sqlite": lambda: SQLiteHistory(folder / f"{uuid.uuid4().hex}.sqlite"),
    }
    try:
        probe = RedisHistory(timeout=0.5)
        probe.redis.ping()
        stores["redis"] = lambda: RedisHistory(prefix=f"bench-{uuid.uuid4().hex}", timeout=0.5)
    except Exception as exc:  # the benchmark reports a missing Redis instead of failing
        print(f"redis: skipped ({exc})")
    return stores


def main() -> None:
    gated, peer = _runtime(True), _runtime(False)
    print(f"load average {os.getloadavg()}; {RULES} rules, {len(SEQUENCE)} decisions per round")
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in _stores(Path(tmp)).items():
            peer_s, peer_made = _mean(peer, make)
            gated_s, gated_made = _mean(gated, make)
            print(
                f"{name:7} peer (no gate) {peer_s * 1e6:8.1f} us/decision ({peer_made} offers)   "
                f"gated {gated_s * 1e6:8.1f} us/decision ({gated_made} offers)   "
                f"ratio {gated_s / peer_s:.2f}x"
            )
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
