"""Resolution-gated offers at decide time: settle what waits, schedule what a rule asks.

A gated follow-up (``follow up after 2 days with check_in then offer mobile_alerts when
resolution is confirmed [or not reopened within 7 days]``) leaves a `PendingOffer` in
the decider's history store. Every later decision for the same customer first settles
the customer's open gated offers against its interaction, in this order:

1. an interaction older than the first contact changes nothing;
2. with inferred resolution, once the window has passed and the thread was never
   reopened, the offer is released ("not reopened within N days");
3. past the window, it expires;
4. a reply on the same thread whose ``inquiry.resolution`` is ``confirmed`` releases it;
   any other reply on the thread reopens it (inference is off; a later confirmation
   within the window still releases it);
5. an interaction on another thread changes nothing.

A released offer is then a candidate of this decision like any other: the guards of the
ruleset that scheduled it (fired against this interaction), the offer's status,
validity and eligibility, that ruleset's limits and response cap, and the contact policy
all still apply; whatever stops it is listed, and it is not retried. The state change is
made with `HistoryStore.put_pending(..., was=)`, so one offer is released once even by
two deciders sharing a store. Semantics: docs/rules.md ("Resolution-gated offers").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from bundle.history import HistoryStore, HistoryUnavailable
from bundle.pending import PendingOffer
from dsl.schema import Schema

#: The field and value that confirm a resolution (the design's vocabulary).
RESOLUTION_FIELD: Final = "inquiry.resolution"
CONFIRMED: Final = "confirmed"


def _get(data: Any, path: str | None) -> Any:
    if path is None:
        return None
    for part in path.split("."):
        if not isinstance(data, Mapping):
            return None
        data = data.get(part)
    return data


def _text(value: Any, most: int = 200) -> str | None:
    return value[:most] if isinstance(value, str) and value else None


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def _days(seconds: float) -> str:
    days = seconds / 86400
    return f"{days:g} day" + ("" if days == 1 else "s")


def gated_rules(rulesets: Sequence[Any]) -> dict[tuple[str, str], int]:
    """The priority of each (ruleset key, rule name) with a gated follow-up; empty when the
    bundle has none (its decisions then never read pending offers)."""
    return {
        (loaded.key, rule["name"]): int(rule.get("priority", 0))
        for loaded in rulesets
        for rule in getattr(loaded.runtime, "rules", ())
        if any("gate" in follow for follow in rule.get("follow_ups", ()))
    }


@dataclass
class Gating:
    """What one decision did with gated offers; ``to_dict`` is its ``gating`` entry."""

    store: str | None
    ok: bool = True
    error: str = ""
    scheduled: list[dict[str, Any]] = field(default_factory=list)
    settled: list[dict[str, Any]] = field(default_factory=list)
    released: list[PendingOffer] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.scheduled or self.settled or not self.ok)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "store": self.store,
            "ok": self.ok,
            "scheduled": self.scheduled,
            "settled": self.settled,
        }
        if self.error:
            out["error"] = self.error
        return out

    def fail(self, exc: Exception) -> None:
        self.ok = False
        self.error = str(exc)


def _describe(entry: PendingOffer, outcome: str, reason: str) -> dict[str, Any]:
    return {
        "id": entry.id,
        "offer": entry.offer,
        "ruleset": entry.ruleset,
        "rule": entry.rule,
        "thread": entry.thread,
        "scheduled_by": entry.decision_id,
        "outcome": outcome,
        "reason": reason,
    }


def settle(
    gating: Gating,
    store: HistoryStore,
    schema: Schema,
    interaction: Mapping[str, Any],
    moment: float,
    decision_id: str,
) -> None:
    """Settle the customer's open gated offers against this interaction (module docstring)."""
    customer = _text(_get(interaction, schema.customer_id_field), 100)
    if customer is None:
        return
    thread = _text(_get(interaction, schema.thread_field))
    confirmed = _get(interaction, RESOLUTION_FIELD) == CONFIRMED
    try:
        waiting = store.pending_offers(customer)
        for entry in waiting:
            if moment <= entry.created:
                continue
            window = _days(entry.deadline - entry.created)
            if entry.infer and moment >= entry.deadline and entry.status == "pending":
                status, outcome = "released", "released"
                reason = f"resolution inferred: thread {entry.thread} not reopened within {window}"
            elif moment > entry.deadline:
                status, outcome = "expired", "expired"
                reason = f"no confirmation on thread {entry.thread} within {window}"
            elif thread != entry.thread:
                continue
            elif confirmed:
                status, outcome = "released", "released"
                reason = f"resolution of thread {entry.thread} confirmed"
            elif entry.status == "pending":
                status, outcome = "reopened", "reopened"
                reason = (
                    f"thread {entry.thread} was reopened, so resolution is not inferred; "
                    "only a confirmation releases the offer now"
                )
            else:
                continue
            done = entry.settled(status, reason, decision_id)  # type: ignore[arg-type]  # one of the four states
            if not store.put_pending(done, was=entry.status):
                continue  # another decision settled it first
            gating.settled.append(_describe(entry, outcome, reason))
            if status == "released":
                gating.released.append(done)
    except HistoryUnavailable as exc:
        gating.fail(exc)


def candidates(
    gating: Gating,
    released: Sequence[PendingOffer],
    results: Mapping[str, tuple[Any, Mapping[str, Any]]],
    offer_infos: Mapping[str, Any],
    interaction: Mapping[str, Any],
    priorities: Mapping[tuple[str, str], int],
) -> list[dict[str, Any]]:
    """The released offers that still pass their ruleset's guards, limits and response cap
    and the offer's own conditions, as proposals for the contact policy; the others are
    noted in ``gating.settled`` with what stopped them."""
    out: list[dict[str, Any]] = []
    notes = {n["id"]: n for n in gating.settled}
    for entry in released:
        note = notes.get(entry.id, {})
        found = results.get(entry.ruleset)
        stopped = None
        if found is None:
            stopped = f"the ruleset {entry.ruleset} is not in this bundle"
        else:
            runtime, result = found
            guards = result.get("guards") or ()
            limit = getattr(runtime, "max_offers", None)
            if guards:
                stopped = (
                    f"stopped by a guard (line {guards[0].get('line')}: {guards[0].get('text')})"
                )
            elif result.get("limits"):
                stopped = "over the customer's contact limit of its ruleset"
            elif limit is not None and len(result.get("offers") or ()) >= limit:
                stopped = f"over `at most {limit}` per response of its ruleset"
            else:
                stopped = runtime.offer_problem(offer_infos, entry.offer, interaction)
        if stopped is not None:
            note["stopped"] = stopped
            continue
        out.append(
            {
                "offer": entry.offer,
                "rule": entry.rule,
                "priority": priorities.get((entry.ruleset, entry.rule), 0),
                "value": offer_infos[entry.offer].value,
                "ruleset": entry.ruleset,
                "gated": {
                    "thread": entry.thread,
                    "reason": entry.reason,
                    "scheduled_by": entry.decision_id,
                },
            }
        )
    return out


def schedule(
    gating: Gating,
    store: HistoryStore | None,
    schema: Schema,
    interaction: Mapping[str, Any],
    follow_ups: Sequence[Mapping[str, Any]],
    moment: float,
    decision_id: str,
) -> None:
    """Record a pending offer for each gated follow-up this decision schedules."""
    customer = _text(_get(interaction, schema.customer_id_field), 100)
    thread = _text(_get(interaction, schema.thread_field))
    for follow in follow_ups:
        gate = follow.get("gate")
        if not isinstance(gate, Mapping):
            continue
        deadline = moment + float(gate["seconds"])
        note: dict[str, Any] = {
            "offer": gate["offer"],
            "after": follow.get("offer"),
            "ruleset": follow.get("ruleset"),
            "rule": follow.get("rule"),
            "thread": thread,
            "releases": "when resolution is confirmed"
            + (f" or not reopened within {_days(gate['seconds'])}" if gate["infer"] else ""),
            "until": _iso(deadline),
            "recorded": False,
        }
        gating.scheduled.append(note)
        if store is None:
            note["why"] = "no history store: nothing waits for the reply"
        elif customer is None:
            note["why"] = "the interaction has no customer id"
        elif thread is None:
            note["why"] = "the interaction has no thread id to match the reply on"
        elif gating.ok:
            ruleset = str(follow.get("ruleset") or "")
            entry = PendingOffer(
                id=PendingOffer.key(customer, thread, ruleset, str(gate["offer"])),
                customer_id=customer,
                thread=thread,
                offer=str(gate["offer"]),
                ruleset=ruleset,
                rule=str(follow.get("rule") or ""),
                decision_id=decision_id,
                created=moment,
                deadline=deadline,
                infer=bool(gate["infer"]),
            )
            try:
                note["recorded"] = store.put_pending(entry, was=None)
            except HistoryUnavailable as exc:
                gating.fail(exc)
                note["why"] = str(exc)
                continue
            note["id"] = entry.id
            if not note["recorded"]:
                note["why"] = "already waiting on this thread (or too many open for the customer)"
        else:
            note["why"] = "the history store is unavailable"
