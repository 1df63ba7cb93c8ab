"""A decision as the decision log keeps it: one plain record, the same from every maker.

`/api/v1/decide` and the Python client's local `decide` both turn the runtime's answer
into this record, so a decision reported by a client (`POST /api/v1/decisions`) reads
exactly like one the studio made. The record names the bundle, the interaction's
channel, category and tone, the customer, the rules that matched, the offers made, the
guards that fired, the holdout arms, each with the ruleset it came from, what the
contact policy withheld (each offer a policy line removed that the decision did not
make after all, with the line, its text and the reason), and what the decision did with
resolution-gated offers (``gating``: scheduled and settled).
Nothing here knows Flask or a database.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def new_decision_id() -> str:
    """A fresh decision id (32 hex characters, random)."""
    return uuid.uuid4().hex


def decision_record(
    decision: Mapping[str, Any],
    interaction: Mapping[str, Any],
    *,
    decision_id: str,
    decided_at: datetime | None = None,
) -> dict[str, Any]:
    """The log record of `decision` (a `BundleRuntime.decide` answer) for `interaction`."""
    inquiry = interaction.get("inquiry") if isinstance(interaction, Mapping) else None
    inquiry = inquiry if isinstance(inquiry, Mapping) else {}
    customer = interaction.get("customer") if isinstance(interaction, Mapping) else None
    customer_id = customer.get("id") if isinstance(customer, Mapping) else None
    tone = interaction.get("tone") if isinstance(interaction, Mapping) else None
    # The tone arrives as a label ("positive") or as an analysis ({"label": ...}).
    tone_label = tone.get("label") if isinstance(tone, Mapping) else tone
    bundle = decision.get("bundle") or {}
    offers: list[dict[str, Any]] = []
    guards: list[dict[str, Any]] = []
    holdouts: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []
    traces: dict[str, Any] = {}
    for ruleset in decision.get("rulesets") or ():
        key = str(ruleset.get("key", ""))
        for guard in ruleset.get("guards") or ():
            guards.append(
                {"ruleset": key, "line": guard.get("line", 0), "text": guard.get("text", "")}
            )
        for held in ruleset.get("holdouts") or ():
            holdouts.append({"ruleset": key, "offer": held.get("offer"), "rule": held.get("rule")})
        names = [
            e.get("rule")
            for e in (
                *(ruleset.get("offers") or ()),
                *(ruleset.get("holdouts") or ()),
                *(ruleset.get("follow_ups") or ()),
            )
        ]
        trace = ruleset.get("trace")
        if isinstance(trace, Mapping):
            traces[key] = trace
            names += [r.get("rule") for r in trace.get("rules") or () if r.get("matched")]
        for name in dict.fromkeys(n for n in names if n):
            rules.append({"ruleset": key, "rule": name})
    # The offers the decision made: after the contact policy (what it removed is
    # `withheld`, not offered), its fallback included, each named once.
    for made in decision.get("offers") or ():
        if not isinstance(made, Mapping):
            continue
        entry = {
            "ruleset": made.get("ruleset"),
            "offer": made.get("offer"),
            "rule": made.get("rule"),
        }
        gated = made.get("gated")
        if isinstance(gated, Mapping):
            entry.update(gated_thread=gated.get("thread"), gated_reason=gated.get("reason"))
            named = {"ruleset": made.get("ruleset"), "rule": made.get("rule")}
            if named not in rules:
                rules.append(named)
        offers.append(entry)
    gating = decision.get("gating")
    moment = (decided_at or datetime.now(UTC)).astimezone(UTC)
    withheld = _withheld(decision)
    return {
        "decision_id": decision_id,
        "decided_at": moment.isoformat(timespec="seconds"),
        "bundle_version": bundle.get("version"),
        "bundle_digest": str(bundle.get("digest") or ""),
        "channel": str(inquiry.get("channel") or "")[:32],
        "category": str(inquiry.get("category") or "")[:32],
        "tone": tone_label[:32] if isinstance(tone_label, str) else "",
        "customer_id": None if customer_id is None else str(customer_id)[:100],
        "rules": rules,
        "offers": offers,
        "guards": guards,
        "holdouts": holdouts,
        **({"withheld": withheld} if withheld else {}),
        **({"trace": traces} if traces else {}),
        **({"gating": _gating(gating)} if isinstance(gating, Mapping) else {}),
    }


def _gating(gating: Mapping[str, Any]) -> dict[str, Any]:
    """What the log keeps of the decision's gated offers: scheduled and settled, bounded."""
    keep = ("offer", "ruleset", "rule", "thread", "releases", "until", "recorded", "why")
    settled = ("offer", "ruleset", "rule", "thread", "outcome", "reason", "stopped", "offered")
    return {
        "scheduled": [
            {k: e[k] for k in keep if k in e} for e in list(gating.get("scheduled") or ())[:50]
        ],
        "settled": [
            {k: e[k] for k in settled if k in e} for e in list(gating.get("settled") or ())[:50]
        ],
    }


def _withheld(decision: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The offers the contact policy removed and the decision did not make after all.

    An offer removed only as a second proposal of an offer another ruleset made is not
    withheld from the customer, so it is left out."""
    policy = decision.get("policy")
    if not isinstance(policy, Mapping):
        return []
    made = {o.get("offer") for o in decision.get("offers") or () if isinstance(o, Mapping)}
    out = []
    for entry in policy.get("removed") or ():
        if not isinstance(entry, Mapping) or entry.get("offer") in made:
            continue
        out.append(
            {
                "offer": entry.get("offer"),
                "ruleset": entry.get("ruleset"),
                "rule": entry.get("rule"),
                "line": entry.get("line", 0),
                "text": str(entry.get("text") or "")[:200],
                "reason": str(entry.get("reason") or "")[:200],
            }
        )
    return out
