"""A small bundle with two rulesets and a contact policy, for policy decision tests."""

from __future__ import annotations

from typing import Any

import dsl
from bundle.format import FORMAT
from bundle.runtime import BundleRuntime
from dsl.policy import compile_policy

AT = "2026-06-01T12:00:00Z"
OFFER_VALUES = {
    "refill_generic": 30,
    "refill_brand": 20,
    "advisor_consultation": 50,
    "check_in": 0,
    "mobile_alerts": 10,
}

PHARMACY = """
never offer when tone is distressed
never offer when tone is unknown
at most 1 offer per response
rule "Generic refill" when inquiry.intent is "refill" offer refill_generic priority 10
rule "Brand refill" when inquiry.intent is "refill" offer refill_brand priority 10
"""
ADVICE = """
never offer when tone is unknown
rule "Advisor" when inquiry.intent is "refill" offer advisor_consultation priority 5
rule "Refill from advice" when inquiry.intent is "refill" offer refill_generic priority 1
rule "Alerts" when inquiry.intent is "alerts" offer mobile_alerts
"""
POLICY = """
never offer when customer.state is "NY"
never offer anything again after complaint within 180 days
never offer refill_generic again after declined within 30 days
limit refill_generic to 1 per customer per 7 days
limit offers by sms to 2 per customer per 30 days
limit advisor_consultation to 2 per day
at most 1 offer per response by sms
at most 2 offers per response
when nothing qualifies offer check_in by chat
when nothing qualifies offer nothing
"""


def offers() -> list[dict[str, Any]]:
    return [
        {
            "key": k,
            "name": k,
            "owner": "m@example.com",
            "valid_from": "2026-01-01",
            "value": v,
            "blocks": {"headline": k},
        }
        for k, v in OFFER_VALUES.items()
    ]


def runtime(
    policy: str | None = POLICY, *, rulesets: tuple[str, ...] = (PHARMACY, ADVICE)
) -> BundleRuntime:
    compiled = []
    for index, source in enumerate(rulesets):
        result = dsl.compile_ruleset(source, offers=list(OFFER_VALUES), name=f"r{index}")
        assert result.ok, result.diagnostics
        compiled.append({"key": ["pharmacy", "advice"][index], "ir": result.ir})
    body: dict[str, Any] = {
        "format": FORMAT,
        "version": 1,
        "rulesets": compiled,
        "offers": offers(),
    }
    if policy is not None:
        checked = compile_policy(policy, offers=list(OFFER_VALUES))
        assert checked.ok, checked.diagnostics
        body["policy"] = checked.ir
    return BundleRuntime.from_bundle(body)


def interaction(
    customer: str = "c-1",
    *,
    intent: str = "refill",
    channel: str = "chat",
    at: str = AT,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "at": at,
        "inquiry": {"category": "transactional", "intent": intent, "channel": channel},
        "tone": "positive",
        "customer": {"id": customer, "state": "CA"},
    }
    body.update(extra)
    return body
