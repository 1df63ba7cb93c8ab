"""A resolution-gated offer waiting for the customer's reply: the record every store keeps.

A rule such as ``follow up after 2 days with check_in then offer mobile_alerts when
resolution is confirmed or not reopened within 7 days`` schedules the check-in and
leaves a `PendingOffer` in the decider's history store. A later decision for the same
customer settles it (`bundle.gating`): a reply on the same thread whose resolution is
confirmed releases the offer; with `infer`, so does the window passing without the
thread being reopened; otherwise it expires at `deadline`.

States: ``pending`` -> ``reopened`` (a reply on the thread that did not confirm; only a
confirmation can release it now) -> ``released`` or ``expired``. Stores change a state
only from the one the caller saw (`HistoryStore.put_pending(..., was=)`), so two
deciders sharing a store never release the same offer twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Final, Literal

PendingStatus = Literal["pending", "reopened", "released", "expired"]
OPEN: Final = ("pending", "reopened")
#: The most open gated offers a store keeps per customer; more are not scheduled.
MAX_PENDING: Final = 100


@dataclass(frozen=True)
class PendingOffer:
    """One gated offer: who, which thread, what, by which rule, until when."""

    id: str
    customer_id: str
    thread: str
    offer: str
    ruleset: str
    rule: str
    decision_id: str
    #: When the first contact happened (epoch seconds).
    created: float
    #: When the window ends: resolution is inferred (`infer`) or the offer expires.
    deadline: float
    infer: bool
    status: PendingStatus = "pending"
    #: Why it was settled, and by which decision (empty while open).
    reason: str = ""
    settled_by: str = ""

    @staticmethod
    def key(customer_id: str, thread: str, ruleset: str, offer: str) -> str:
        """One gated offer per customer, thread, ruleset and offer: a reply that matches the
        scheduling rule again does not schedule a second one."""
        return f"{customer_id}|{thread}|{ruleset}|{offer}"[:300]

    def settled(self, status: PendingStatus, reason: str, decision_id: str) -> PendingOffer:
        return replace(self, status=status, reason=reason, settled_by=decision_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingOffer:
        """The record as a store kept it; raises `KeyError` / `TypeError` when damaged."""
        status = str(data["status"])
        if status not in ("pending", "reopened", "released", "expired"):
            raise TypeError(f"unknown pending status {status!r}")
        return cls(
            id=str(data["id"]),
            customer_id=str(data["customer_id"]),
            thread=str(data["thread"]),
            offer=str(data["offer"]),
            ruleset=str(data["ruleset"]),
            rule=str(data["rule"]),
            decision_id=str(data["decision_id"]),
            created=float(data["created"]),
            deadline=float(data["deadline"]),
            infer=bool(data["infer"]),
            status=status,  # type: ignore[arg-type]  # checked against the four states above
            reason=str(data.get("reason", "")),
            settled_by=str(data.get("settled_by", "")),
        )
