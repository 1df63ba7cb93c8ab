"""Golden decisions: the rulesets propose, the workspace contact policy disposes.

Each test pins one part of the order written down in docs/rules.md ("The contact
policy"): ruleset guards and limits, then the policy's guards, arbitration across
rulesets, suppression, caps, `at most` per response, and the fallback.
"""

from __future__ import annotations

from typing import Any

from bundle.history import HistoryUnavailable, MemoryHistory
from dsl.policy import Outcome
from dsl.schema import parse_datetime

from .policy_helpers import AT, interaction, runtime

MOMENT = parse_datetime(AT).timestamp()


def _offers(decision: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(o["offer"], o["ruleset"]) for o in decision["offers"]]


def _removed(decision: dict[str, Any]) -> list[tuple[str, str | None, int]]:
    return [(r["offer"], r["ruleset"], r["line"]) for r in decision["policy"]["removed"]]


def test_each_offer_is_made_once_credited_to_the_ruleset_that_ranks_it_highest() -> None:
    decision = runtime().decide(interaction(), channels=(), history=MemoryHistory())
    assert _offers(decision) == [("refill_generic", "pharmacy"), ("advisor_consultation", "advice")]
    assert _removed(decision) == [("refill_generic", "advice", 0)]
    assert "pharmacy" in decision["policy"]["removed"][0]["reason"]


def test_a_policy_guard_removes_every_candidate_and_no_fallback_is_made() -> None:
    body = interaction()
    body["customer"]["state"] = "NY"
    decision = runtime().decide(body, channels=(), history=MemoryHistory())
    assert decision["offers"] == []
    assert decision["policy"]["guards"] == [
        {"line": 2, "text": 'never offer when customer.state is "NY"'}
    ]
    assert {line for _o, _r, line in _removed(decision)} == {2}
    assert decision["policy"]["fallback"] is None


def test_a_per_offer_cap_counts_the_history_of_earlier_decisions() -> None:
    store, rt = MemoryHistory(), runtime()
    first = rt.decide(interaction(), channels=(), history=store)
    assert ("refill_generic", "pharmacy") in _offers(first)
    second = rt.decide(interaction(at="2026-06-03T12:00:00Z"), channels=(), history=store)
    assert _offers(second) == [("advisor_consultation", "advice")]
    assert ("refill_generic", "pharmacy", 5) in _removed(second)
    after_a_week = rt.decide(interaction(at="2026-06-09T12:00:00Z"), channels=(), history=store)
    assert ("refill_generic", "pharmacy") in _offers(after_a_week)


def test_the_cap_counts_what_the_caller_sends_as_well() -> None:
    body = interaction()
    body["customer"]["recent_offers"] = [{"offer": "refill_generic", "at": "2026-05-30T09:00:00Z"}]
    decision = runtime().decide(body, channels=(), history=MemoryHistory())
    assert ("refill_generic", "pharmacy", 5) in _removed(decision)


def test_per_channel_at_most_and_per_channel_limit() -> None:
    store, rt = MemoryHistory(), runtime()
    made = []
    for day in range(1, 6):
        decision = rt.decide(
            interaction(channel="sms", at=f"2026-06-0{day}T12:00:00Z"), channels=(), history=store
        )
        assert len(decision["offers"]) <= 1  # at most 1 offer per response by sms
        made += _offers(decision)
    assert len(made) == 2  # limit offers by sms to 2 per customer per 30 days
    assert rt.decide(
        interaction(channel="chat", at="2026-06-05T13:00:00Z"), channels=(), history=store
    )["offers"]  # other channels are not capped by it


def test_a_per_day_total_counts_every_customer_and_resets_at_midnight_utc() -> None:
    store, rt = MemoryHistory(), runtime()
    got = [
        any(
            o[0] == "advisor_consultation"
            for o in _offers(rt.decide(interaction(f"c-{n}"), channels=(), history=store))
        )
        for n in range(4)
    ]
    assert got == [True, True, False, False]
    tomorrow = rt.decide(interaction("c-9", at="2026-06-02T00:00:01Z"), channels=(), history=store)
    assert ("advisor_consultation", "advice") in _offers(tomorrow)


def test_suppression_after_a_decline_and_after_a_complaint() -> None:
    store, rt = MemoryHistory(), runtime()
    store.record_outcome("c-1", "e1", Outcome("refill_generic", "declined", MOMENT - 86400 * 10))
    declined = rt.decide(interaction(), channels=(), history=store)
    assert ("refill_generic", "pharmacy", 4) in _removed(declined)
    assert ("advisor_consultation", "advice") in _offers(declined)
    store.record_outcome(
        "c-1", "e2", Outcome("advisor_consultation", "complaint", MOMENT - 86400 * 100)
    )
    complained = rt.decide(interaction(), channels=(), history=store)
    assert complained["offers"] == []
    assert {line for _o, _r, line in _removed(complained) if line} == {3}


def test_a_decline_outside_the_window_does_not_suppress() -> None:
    store = MemoryHistory()
    store.record_outcome("c-1", "e1", Outcome("refill_generic", "declined", MOMENT - 86400 * 31))
    decision = runtime().decide(interaction(), channels=(), history=store)
    assert ("refill_generic", "pharmacy") in _offers(decision)


def test_the_fallback_per_channel_and_nothing_explicitly() -> None:
    rt = runtime()
    chat = rt.decide(interaction(intent="other"), channels=(), history=MemoryHistory())
    assert _offers(chat) == [("check_in", None)] and chat["offers"][0]["fallback"] is True
    assert chat["policy"]["fallback"]["line"] == 10
    email = rt.decide(
        interaction(intent="other", channel="email"), channels=(), history=MemoryHistory()
    )
    assert email["offers"] == [] and email["policy"]["fallback"] == {
        "offer": None,
        "line": 11,
        "text": "when nothing qualifies offer nothing",
    }


def test_no_fallback_when_a_ruleset_guard_stopped_the_offers() -> None:
    body = interaction(intent="other", tone="distressed")
    decision = runtime().decide(body, channels=(), history=MemoryHistory())
    assert decision["offers"] == [] and decision["policy"]["fallback"] is None


def test_a_ranking_expression_orders_candidates_across_rulesets() -> None:
    policy = "rank by priority * value\nat most 1 offer per response"
    decision = runtime(policy).decide(interaction(), channels=())
    # refill_generic: 10 * 30 = 300; advisor_consultation: 5 * 50 = 250
    assert _offers(decision) == [("refill_generic", "pharmacy")]
    by_value = runtime("rank by value\nat most 1 offer per response").decide(
        interaction(), channels=()
    )
    assert _offers(by_value) == [("advisor_consultation", "advice")]


class _DownStore(MemoryHistory):
    name = "down"

    def read(self, *args: Any, **kwargs: Any):
        raise HistoryUnavailable("connection refused")


def test_a_store_that_is_down_denies_capped_offers_by_default() -> None:
    decision = runtime().decide(interaction(), channels=(), history=_DownStore())
    assert decision["offers"] == []
    assert decision["policy"]["history"] == {
        "store": "down",
        "ok": False,
        "error": "connection refused",
        "fallback": "deny",
    }


def test_what_the_caller_sends_never_makes_a_store_that_is_down_look_complete() -> None:
    body = interaction()
    body["customer"]["recent_offers"] = [{"offer": "mobile_alerts", "at": "2026-05-30T09:00:00Z"}]
    decision = runtime().decide(body, channels=(), history=_DownStore())
    assert decision["offers"] == []
    assert decision["policy"]["history"]["fallback"] == "deny"


def test_a_store_that_is_down_may_be_ignored_and_the_decision_says_so() -> None:
    decision = runtime().decide(
        interaction(), channels=(), history=_DownStore(), on_unavailable="ignore"
    )
    assert _offers(decision) == [("refill_generic", "pharmacy"), ("advisor_consultation", "advice")]
    assert decision["policy"]["history"]["fallback"] == "ignore"


class _FailsWhileRecording(MemoryHistory):
    """Reads fine, then the write (the atomic re-check) times out."""

    name = "flaky"

    def record(self, *args: Any, **kwargs: Any) -> list[bool]:
        raise HistoryUnavailable("timed out")


def test_a_store_that_fails_while_recording_never_lets_a_capped_offer_through() -> None:
    decision = runtime("limit refill_generic to 1 per customer per 7 days").decide(
        interaction(), channels=(), history=_FailsWhileRecording()
    )
    # The cap could not be re-checked atomically: the capped offer is removed, the
    # uncapped one stays, and the decision says why.
    assert _offers(decision) == [("advisor_consultation", "advice")]
    assert decision["policy"]["history"]["ok"] is False
    assert decision["policy"]["history"]["fallback"] == "deny"
    assert [r["offer"] for r in decision["policy"]["removed"]][-1] == "refill_generic"


def test_without_a_customer_id_capped_offers_are_not_made() -> None:
    body = interaction()
    del body["customer"]["id"]
    decision = runtime().decide(body, channels=(), history=MemoryHistory())
    assert decision["offers"] == []
    assert decision["policy"]["history"]["error"] == "the interaction has no customer id"


def test_without_a_policy_the_rulesets_offers_are_listed_as_before() -> None:
    decision = runtime(None).decide(interaction(), channels=())
    assert "policy" not in decision
    assert _offers(decision) == [
        ("refill_generic", "pharmacy"),
        ("advisor_consultation", "advice"),
        ("refill_generic", "advice"),
    ]
