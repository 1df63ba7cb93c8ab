"""Golden decisions for resolution-gated offers (docs/rules.md, "Resolution-gated offers").

The sequence of the white paper's bank example: a diagnostic email gets a check-in and
no offer; the customer's reply on the same thread that confirms the fix gets the offer;
a reply on another thread releases nothing; a reopened inquiry is never inferred
resolved. Every store runs the same sequence.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import dsl
from bundle.format import FORMAT
from bundle.history import HistoryStore, HistoryUnavailable, MemoryHistory
from bundle.pending import PendingOffer
from bundle.runtime import BundleRuntime
from studio_client.history import RedisHistory, SQLiteHistory
from tests.studio_client.test_history import _redis_store, needs_redis

from .policy_helpers import offers

BANKING = """
never offer when tone is distressed
never offer when tone is unknown
at most 1 offer per response

rule "Check in on a proposed fix"
  when inquiry.category is diagnostic and inquiry.resolution is proposed
  follow up after 2 days with check_in
    then offer mobile_alerts when resolution is confirmed
"""
INFERRED = BANKING.replace(
    "when resolution is confirmed", "when resolution is confirmed or not reopened within 7 days"
)


def _runtime(source: str = BANKING, policy: str | None = None) -> BundleRuntime:
    keys = ["check_in", "mobile_alerts", "refill_generic"]
    result = dsl.compile_ruleset(source, offers=keys, name="banking")
    assert result.ok, result.diagnostics
    body: dict[str, Any] = {
        "format": FORMAT,
        "version": 1,
        "rulesets": [{"key": "banking", "ir": result.ir}],
        "offers": offers(),
    }
    if policy is not None:
        checked = dsl.policy.compile_policy(policy, offers=keys)
        assert checked.ok, checked.diagnostics
        body["policy"] = checked.ir
    return BundleRuntime.from_bundle(body)


def _contact(
    at: str,
    *,
    resolution: str,
    thread: str = "T-1",
    tone: str = "positive",
    customer: str = "c-1",
) -> dict[str, Any]:
    return {
        "at": at,
        "inquiry": {
            "category": "diagnostic",
            "channel": "email",
            "resolution": resolution,
            "thread_id": thread,
        },
        "tone": tone,
        "customer": {"id": customer},
    }


FIRST = _contact("2026-06-01T09:00:00Z", resolution="proposed")


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=needs_redis)])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[HistoryStore]:
    if request.param == "memory":
        yield MemoryHistory()
    elif request.param == "sqlite":
        yield SQLiteHistory(tmp_path / "h.db")
    else:
        redis_store: RedisHistory = _redis_store()
        yield redis_store
        # Its own keys only, with a patient connection: a loaded machine may be slow.
        patient = redis_store.redis.__class__(host="127.0.0.1", port=6379, socket_timeout=10)
        for key in patient.scan_iter(f"{redis_store.prefix}:*", count=1000):
            patient.delete(key)


def _offers(decision: dict[str, Any]) -> list[str]:
    return [o["offer"] for o in decision["offers"]]


def test_the_first_contact_schedules_the_check_in_and_makes_no_offer(store: HistoryStore) -> None:
    decision = _runtime().decide(FIRST, history=store, channels=())
    assert _offers(decision) == []
    assert [f["offer"] for f in decision["follow_ups"]] == ["check_in"]
    (scheduled,) = decision["gating"]["scheduled"]
    assert scheduled["offer"] == "mobile_alerts" and scheduled["thread"] == "T-1"
    assert scheduled["recorded"] is True
    assert scheduled["until"] == "2026-07-01T09:00:00Z"  # 30 days by default
    (waiting,) = store.pending_offers("c-1")
    assert (waiting.offer, waiting.thread, waiting.status) == ("mobile_alerts", "T-1", "pending")


def test_a_reply_on_the_same_thread_confirming_the_fix_releases_the_offer(
    store: HistoryStore,
) -> None:
    runtime = _runtime()
    runtime.decide(FIRST, history=store, channels=())
    reply = runtime.decide(
        _contact("2026-06-03T10:00:00Z", resolution="confirmed"), history=store, channels=()
    )
    assert _offers(reply) == ["mobile_alerts"]
    assert reply["offers"][0]["gated"]["thread"] == "T-1"
    assert reply["offers"][0]["gated"]["reason"] == "resolution of thread T-1 confirmed"
    (settled,) = reply["gating"]["settled"]
    assert settled["outcome"] == "released" and settled["offered"] is True
    assert store.pending_offers("c-1") == []
    again = runtime.decide(
        _contact("2026-06-04T10:00:00Z", resolution="confirmed"), history=store, channels=()
    )
    assert _offers(again) == [], "a gated offer is released once"


def test_a_reply_on_another_thread_releases_nothing(store: HistoryStore) -> None:
    runtime = _runtime()
    runtime.decide(FIRST, history=store, channels=())
    other = runtime.decide(
        _contact("2026-06-03T10:00:00Z", resolution="confirmed", thread="T-2"),
        history=store,
        channels=(),
    )
    assert _offers(other) == []
    assert "gating" not in other
    assert [p.status for p in store.pending_offers("c-1")] == ["pending"]


def test_another_customer_on_the_same_thread_id_releases_nothing(store: HistoryStore) -> None:
    runtime = _runtime()
    runtime.decide(FIRST, history=store, channels=())
    stranger = _contact("2026-06-03T10:00:00Z", resolution="confirmed", customer="c-2")
    assert _offers(runtime.decide(stranger, history=store, channels=())) == []
    assert len(store.pending_offers("c-1")) == 1


def test_without_a_reopen_resolution_is_inferred_when_the_window_ends(store: HistoryStore) -> None:
    runtime = _runtime(INFERRED)
    runtime.decide(FIRST, history=store, channels=())
    early = runtime.decide(
        _contact("2026-06-05T10:00:00Z", resolution="open", thread="T-9"),
        history=store,
        channels=(),
    )
    assert _offers(early) == [], "before the window ends nothing is inferred"
    later = runtime.decide(
        _contact("2026-06-09T10:00:00Z", resolution="open", thread="T-9"),
        history=store,
        channels=(),
    )
    assert _offers(later) == ["mobile_alerts"]
    assert later["offers"][0]["gated"]["reason"] == (
        "resolution inferred: thread T-1 not reopened within 7 days"
    )


def test_a_reopened_inquiry_is_never_inferred_resolved(store: HistoryStore) -> None:
    runtime = _runtime(INFERRED)
    runtime.decide(FIRST, history=store, channels=())
    reopened = runtime.decide(
        _contact("2026-06-04T10:00:00Z", resolution="failed"), history=store, channels=()
    )
    assert _offers(reopened) == []
    assert reopened["gating"]["settled"][0]["outcome"] == "reopened"
    after = runtime.decide(
        _contact("2026-06-10T10:00:00Z", resolution="open", thread="T-9"),
        history=store,
        channels=(),
    )
    assert _offers(after) == []
    assert after["gating"]["settled"][0]["outcome"] == "expired"
    assert store.pending_offers("c-1") == []


def test_a_confirmation_after_a_reopen_still_releases_within_the_window(
    store: HistoryStore,
) -> None:
    runtime = _runtime(INFERRED)
    runtime.decide(FIRST, history=store, channels=())
    runtime.decide(_contact("2026-06-04T10:00:00Z", resolution="failed"), history=store)
    fixed = runtime.decide(
        _contact("2026-06-05T10:00:00Z", resolution="confirmed"), history=store, channels=()
    )
    assert _offers(fixed) == ["mobile_alerts"]


def test_a_confirmation_after_the_window_has_expired_releases_nothing(store: HistoryStore) -> None:
    runtime = _runtime(BANKING.replace("is confirmed", "is confirmed within 5 days"))
    runtime.decide(FIRST, history=store, channels=())
    late = runtime.decide(
        _contact("2026-06-07T10:00:00Z", resolution="confirmed"), history=store, channels=()
    )
    assert _offers(late) == []
    assert late["gating"]["settled"][0]["outcome"] == "expired"


def test_a_guard_that_fires_at_release_time_stops_the_released_offer(
    store: HistoryStore,
) -> None:
    runtime = _runtime()
    runtime.decide(FIRST, history=store, channels=())
    upset = runtime.decide(
        _contact("2026-06-03T10:00:00Z", resolution="confirmed", tone="distressed"),
        history=store,
        channels=(),
    )
    assert _offers(upset) == []
    (settled,) = upset["gating"]["settled"]
    assert settled["outcome"] == "released"
    assert settled["stopped"].startswith("stopped by a guard (line 2:")
    assert store.pending_offers("c-1") == [], "a released offer is not retried"


def test_the_contact_policy_applies_at_release_time(store: HistoryStore) -> None:
    runtime = _runtime(policy="never offer mobile_alerts again after declined within 30 days")
    runtime.decide(FIRST, history=store, channels=())
    store.record_outcome(
        "c-1",
        "e-1",
        dsl.policy.Outcome("mobile_alerts", "declined", FIRST_AT + 3600),
    )
    reply = runtime.decide(
        _contact("2026-06-03T10:00:00Z", resolution="confirmed"), history=store, channels=()
    )
    assert _offers(reply) == []
    assert [r["offer"] for r in reply["policy"]["removed"]] == ["mobile_alerts"]
    assert reply["gating"]["settled"][0]["stopped"].startswith("removed by the contact policy")


FIRST_AT = 1780304400.0  # 2026-06-01T09:00:00Z


def test_a_repeated_first_contact_on_the_same_thread_schedules_one_gated_offer(
    store: HistoryStore,
) -> None:
    runtime = _runtime()
    runtime.decide(FIRST, history=store, channels=())
    again = runtime.decide(
        _contact("2026-06-02T09:00:00Z", resolution="proposed"), history=store, channels=()
    )
    assert again["gating"]["scheduled"][0]["recorded"] is False
    assert len(store.pending_offers("c-1")) == 1


def test_without_a_thread_id_nothing_waits_and_the_decision_says_why(
    store: HistoryStore,
) -> None:
    first = _contact("2026-06-01T09:00:00Z", resolution="proposed")
    del first["inquiry"]["thread_id"]
    decision = _runtime().decide(first, history=store, channels=())
    (scheduled,) = decision["gating"]["scheduled"]
    assert scheduled["recorded"] is False and "thread id" in scheduled["why"]
    assert store.pending_offers("c-1") == []


def test_without_a_store_the_gate_is_shown_but_not_recorded() -> None:
    decision = _runtime().decide(FIRST, channels=())
    (scheduled,) = decision["gating"]["scheduled"]
    assert scheduled["recorded"] is False and scheduled["releases"] == (
        "when resolution is confirmed"
    )


def test_two_deciders_sharing_a_store_release_a_gated_offer_once(store: HistoryStore) -> None:
    first = second = store
    runtime = _runtime()
    runtime.decide(FIRST, history=first, channels=())
    (entry,) = second.pending_offers("c-1")
    done = entry.settled("released", "test", "d-2")
    assert first.put_pending(done, was="pending") is True
    assert second.put_pending(done, was="pending") is False


def test_a_store_that_is_down_releases_nothing_and_says_so() -> None:
    class Down(MemoryHistory):
        def pending_offers(self, customer_id: str) -> list[PendingOffer]:
            raise HistoryUnavailable("the store is down")

    decision = _runtime().decide(
        _contact("2026-06-03T10:00:00Z", resolution="confirmed"), history=Down(), channels=()
    )
    assert _offers(decision) == []
    assert decision["gating"]["ok"] is False and decision["gating"]["error"] == "the store is down"
