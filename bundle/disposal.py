"""The contact policy's step of a decision: the rulesets propose, the policy disposes.

`dispose` takes every ruleset's proposed offers, reads the customer's contact history
(once: one round trip to the store), applies the workspace policy (`dsl.policy`), and
records what is kept, checking each cap again atomically in the store, so two deciders
sharing a store never exceed a cap between them. Semantics: docs/rules.md ("The contact
policy").

When the store cannot be read or written in time, `on_unavailable` says what happens:
``"deny"`` (the default) removes every offer a cap or suppression covers, ``"ignore"``
decides without history; either way the decision's ``policy.history`` says so. A cap is
never silently exceeded.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

from bundle.history import (
    HistoryStore,
    HistoryUnavailable,
    merge_caller_history,
)
from dsl.policy import Contact, History, Plan, Policy
from dsl.schema import Schema, timestamp_of

OnUnavailable = Literal["deny", "ignore"]
ON_UNAVAILABLE: Final = ("deny", "ignore")
_NO_HISTORY: Final = History()
_UNKNOWN_HISTORY: Final = History(complete=False)
_NO_PLAN: Final[dict[str, Any]] = {}


class _DecisionIds:
    """Unique ids for the history's decision markers without a system call per decision:
    a random 64-bit prefix per process (drawn again in a forked child) and a counter."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._count = itertools.count()

    def new(self) -> str:
        return f"{self._prefix}{next(self._count):016x}"


_decision_ids: Final = _DecisionIds()


_PARTS: dict[str, tuple[str, ...]] = {}


def _get(data: Any, path: str | None) -> Any:
    if path is None:
        return None
    parts = _PARTS.get(path)
    if parts is None:
        if len(_PARTS) > 256:
            _PARTS.clear()
        parts = _PARTS[path] = tuple(path.split("."))
    for part in parts:
        if type(data) is not dict and not isinstance(data, Mapping):
            return None
        data = data.get(part)
    return data


def moment_of(schema: Schema, interaction: Mapping[str, Any], now: float | None) -> float:
    """The decision's moment: the interaction's `at`, else the caller's clock."""
    at = timestamp_of(_get(interaction, schema.time_field))
    if at is not None:
        return at
    return time.time() if now is None else now


def caller_contacts(schema: Schema, interaction: Mapping[str, Any]) -> list[Contact]:
    """The history the caller sent (`customer.recent_offers`), as contacts."""
    out = []
    entries = _get(interaction, schema.history_field)
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("offer"), str):
            continue
        at = timestamp_of(entry.get("at"))
        channel = entry.get("channel")
        if at is not None:
            out.append(Contact(entry["offer"], channel if isinstance(channel, str) else None, at))
    return out


def dispose(
    policy: Policy,
    schema: Schema,
    interaction: Mapping[str, Any],
    proposed: Sequence[Mapping[str, Any]],
    *,
    stopped_by_rulesets: bool,
    values: Mapping[str, float],
    store: HistoryStore | None = None,
    now: float | None = None,
    decision_id: str | None = None,
    on_unavailable: OnUnavailable = "deny",
    new_id: bool | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The offers kept, and the decision's ``policy`` entry (what was removed and why).

    `new_id`: `decision_id` was made for this decision just now (None: only when no
    `decision_id` is given, and one is made here), so the store need keep no marker
    against a retry under it."""
    moment = moment_of(schema, interaction, now)
    inquiry = interaction.get("inquiry")
    channel = inquiry.get("channel") if type(inquiry) is dict else _get(inquiry, "channel")
    channel = channel if type(channel) is str else None
    customer = _get(interaction, schema.customer_id_field)
    customer = customer if type(customer) is str and customer else None
    step = _Step(
        policy,
        proposed,
        interaction,
        moment,
        channel,
        stopped_by_rulesets,
        values,
        # What the caller sent (`customer.recent_offers`), if anything.
        caller_contacts(schema, interaction) if _get(interaction, schema.history_field) else (),
    )
    if (
        policy.needs_history
        and customer is not None
        and store is not None
        and getattr(store, "reads_and_records", False)  # `supports_read_and_record`
    ):
        plan = (
            policy.plan(
                proposed, interaction, channel=channel, stopped_by_rulesets=stopped_by_rulesets
            )
            if getattr(store, "wants_plan", False)
            else None
        )
        return _read_and_record(
            policy,
            store,
            customer,
            channel,
            moment,
            decision_id,
            on_unavailable,
            step,
            plan,
            decision_id is None if new_id is None else new_id,
        )
    status: dict[str, Any] = {"store": store.name if store is not None else None, "ok": True}
    history = _NO_HISTORY
    if policy.needs_history:
        if customer is None:
            history = _UNKNOWN_HISTORY
            status.update(ok=False, error="the interaction has no customer id")
        elif store is not None:
            try:
                history = store.read(
                    customer,
                    since=moment - policy.window_seconds,
                    now=moment,
                    daily_offers=policy.daily_offers,
                )
            except HistoryUnavailable as exc:
                status.update(ok=False, error=str(exc), fallback=on_unavailable)
                history = _NO_HISTORY if on_unavailable == "ignore" else _UNKNOWN_HISTORY
    result = step.decide_on(history)
    kept: list[dict[str, Any]] = result["offers"]
    if store is not None and customer is not None and kept and status["ok"]:
        decision_id = decision_id or _decision_ids.new()
        contacts = [Contact(str(o["offer"]), channel, moment) for o in kept]
        try:
            fits = store.record(customer, decision_id, contacts, policy.caps, moment)
        except HistoryUnavailable as exc:
            status.update(ok=False, error=str(exc), fallback=on_unavailable)
            fits = [on_unavailable == "ignore" or not _capped(policy, o, channel) for o in kept]
        kept = _keep(result, kept, fits)
        status["decision_id"] = decision_id
    return kept, _entry(result, status)


class _Step:
    """The policy's step of one decision, run on whatever history is read: what it
    decides on besides the history, held once (not as a closure over `dispose`)."""

    __slots__ = (
        "policy",
        "proposed",
        "interaction",
        "moment",
        "channel",
        "stopped",
        "values",
        "sent",
        "result",
    )

    def __init__(
        self,
        policy: Policy,
        proposed: Sequence[Mapping[str, Any]],
        interaction: Mapping[str, Any],
        moment: float,
        channel: str | None,
        stopped: bool,
        values: Mapping[str, float],
        sent: Sequence[Contact],
    ) -> None:
        self.policy, self.proposed, self.interaction = policy, proposed, interaction
        self.moment, self.channel, self.stopped = moment, channel, stopped
        self.values, self.sent = values, sent
        self.result: dict[str, Any] = {}

    def decide_on(self, history: History) -> dict[str, Any]:
        """The policy applied to `history` plus what the caller sent."""
        if self.sent:
            history = merge_caller_history(history, self.sent)
        return self.policy.apply(
            self.proposed,
            self.interaction,
            history,
            self.moment,
            channel=self.channel,
            stopped_by_rulesets=self.stopped,
            values=self.values,
        )

    def choose(self, history: History) -> list[Contact]:
        """`decide_on`, kept in `result`; the contacts to record (a store's `choose`)."""
        result = self.result = self.decide_on(history)
        offers = result["offers"]
        if not offers:
            return []
        channel, moment = self.channel, self.moment
        return [Contact(str(o["offer"]), channel, moment) for o in offers]


def _read_and_record(
    policy: Policy,
    store: Any,
    customer: str,
    channel: str | None,
    moment: float,
    decision_id: str | None,
    on_unavailable: OnUnavailable,
    step: _Step,
    plan: Plan | None,
    new_id: bool,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """`dispose`'s read, policy step and record as one visit to a store that offers it
    (`bundle.history.ReadAndRecord`): what the policy keeps is recorded with the read it
    was decided on, so it is never checked twice and never refused afterwards."""
    status: dict[str, Any]
    decision_id = decision_id or _decision_ids.new()
    try:
        _, recorded = store.read_and_record(
            customer,
            since=moment - policy.window_seconds,
            now=moment,
            daily_offers=policy.daily_offers,
            decision_id=decision_id,
            choose=step.choose,
            new_id=new_id,
            **({"plan": plan} if plan is not None else _NO_PLAN),
        )
    except HistoryUnavailable as exc:
        # Whether it failed reading or writing, nothing was recorded: decided again as
        # a read that failed is (`on_unavailable`).
        status = {
            "store": store.name,
            "ok": False,
            "error": str(exc),
            "fallback": on_unavailable,
        }
        result = step.decide_on(_NO_HISTORY if on_unavailable == "ignore" else _UNKNOWN_HISTORY)
        return result["offers"], _entry(result, status)
    result = step.result
    kept: list[dict[str, Any]] = result["offers"]
    if kept:
        kept = _keep(result, kept, recorded)
        status = {"store": store.name, "ok": True, "decision_id": decision_id}
    else:
        status = {"store": store.name, "ok": True}
    return kept, _entry(result, status)


def _entry(result: Mapping[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    return {
        "guards": result["guards"],
        "removed": result["removed"],
        "fallback": result["fallback"],
        "history": status,
    }


def _keep(
    result: Mapping[str, Any], kept: list[dict[str, Any]], fits: Sequence[bool]
) -> list[dict[str, Any]]:
    """The kept offers the store recorded; the others are listed as removed."""
    still = []
    for entry, ok in zip(kept, fits, strict=True):
        if ok:
            still.append(entry)
        else:
            result["removed"].append(
                {
                    "offer": entry.get("offer"),
                    "ruleset": entry.get("ruleset"),
                    "rule": entry.get("rule"),
                    "line": 0,
                    "text": "",
                    "reason": "a limit was used up by another decision at the same "
                    "moment, or the history could not be written",
                }
            )
    return still


def _capped(policy: Policy, entry: Mapping[str, Any], channel: str | None) -> bool:
    key = str(entry.get("offer"))
    return any(c.covers(key, channel) for c in policy.caps) or any(
        s["offer"] in (None, key) for s in policy.suppressions
    )
