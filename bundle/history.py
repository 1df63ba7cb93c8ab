"""Contact history for caps and suppression: what a decider reads and records per customer.

The contact policy (`dsl.policy`) caps offers per customer, per channel and per day and
suppresses offers after outcomes, so a decider must know what each customer was offered
and how they answered. A `HistoryStore` gives it that in two steps per decision:

- `read(customer_id, since=, now=, daily_offers=)`: the customer's contacts and outcomes
  in the longest window the policy looks back (never more: at most `MAX_READ` entries
  of each, the most recent), and today's totals of the offers capped per day;
- `record(customer_id, decision_id, contacts, caps, now)`: check every cap again and
  record the contacts that still fit, **atomically**, so two deciders sharing a store
  never exceed a cap between them. It answers which contacts were recorded; a decider
  drops the others from its decision.

Outcomes are recorded with `record_outcome`, idempotent by event id. Resolution-gated
offers (`bundle.pending`) are kept with `put_pending` (insert, or change the state only
from the one the caller saw) and read back with `pending_offers` (the open ones).

`MemoryHistory` (one process) lives here; the SQLite and Redis stores are the client's
(`studio_client.history`), and the studio keeps its own table (`contact_history`).
Pure: no Flask, no database driver.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from operator import attrgetter
from typing import Any, Final, Protocol

from bundle.pending import MAX_PENDING, OPEN, PendingOffer, PendingStatus
from dsl.policy import Cap, Contact, History, Outcome, count_contacts

#: The most entries of each kind one read returns (the most recent in the window), so a
#: customer with millions of entries costs a bounded read. A read that stops there says
#: so (`History.contacts_cut`, `outcomes_cut`), and a cap or suppression the entries
#: read do not settle is refused: a cut-off read never lets a cap be exceeded.
MAX_READ: Final = 10_000
DAY: Final = 86400


class HistoryUnavailable(Exception):
    """The store could not be read or written in time (down, slow, locked)."""


class HistoryStore(Protocol):
    name: str

    def read(
        self, customer_id: str, *, since: float, now: float, daily_offers: Sequence[str]
    ) -> History: ...

    def record(
        self,
        customer_id: str,
        decision_id: str,
        contacts: Sequence[Contact],
        caps: Sequence[Cap],
        now: float,
    ) -> list[bool]: ...

    def record_outcome(self, customer_id: str, event_id: str, outcome: Outcome) -> bool: ...

    def pending_offers(self, customer_id: str) -> list[PendingOffer]:
        """The customer's open gated offers (pending or reopened), oldest first, at most
        `bundle.pending.MAX_PENDING`."""
        ...

    def put_pending(self, entry: PendingOffer, *, was: PendingStatus | None) -> bool:
        """Store `entry` if the stored one is in state `was` (None: there is none yet, and
        the customer has fewer than `MAX_PENDING` open); answer whether it was stored."""
        ...


def day_of(moment: float) -> int:
    """The UTC day number of a moment: per-day limits count from midnight UTC."""
    return int(moment // DAY)


def accept(
    contacts: Sequence[Contact],
    caps: Sequence[Cap],
    existing: Sequence[Contact],
    day_totals: Mapping[str, int],
    now: float,
    *,
    existing_cut: bool = False,
) -> list[bool]:
    """Which of `contacts` fit every cap, given what is already recorded (in order).

    `existing_cut` says `existing` holds only the most recent `MAX_READ` entries: a
    per-customer cap they do not reach is then not known to fit, and the contact is
    refused."""
    taken: list[Contact] = []
    out = []
    counted: dict[int, int] = {}
    for contact in contacts:
        fits = True
        for index, cap in enumerate(caps):
            if not cap.covers(contact.offer, contact.channel):
                continue
            if cap.scope == "day":
                used = day_totals.get(contact.offer, 0)
                if taken:
                    used += sum(1 for t in taken if t.offer == contact.offer)
            else:
                if index not in counted:
                    counted[index] = count_contacts(existing, cap, now)
                used = counted[index] + (count_contacts(taken, cap, now) if taken else 0)
            if used >= cap.count or (existing_cut and cap.scope == "customer"):
                fits = False
                break
        out.append(fits)
        if fits:
            taken.append(contact)
    return out


#: The sort key of contacts and outcomes (`at`), in C.
_at: Final = attrgetter("at")


class MemoryHistory:
    """History in this process's memory: one lock, exact, lost on exit."""

    name = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Per customer, sorted by time: a read is one bisect and one slice, no copying
        # into new objects.
        self._contacts: dict[str, list[Contact]] = defaultdict(list)
        self._outcomes: dict[str, list[Outcome]] = defaultdict(list)
        self._events: set[str] = set()
        self._decisions: set[tuple[str, str]] = set()
        self._totals: dict[tuple[str, int], int] = defaultdict(int)
        self._pending: dict[str, dict[str, PendingOffer]] = defaultdict(dict)

    def read(
        self, customer_id: str, *, since: float, now: float, daily_offers: Sequence[str] = ()
    ) -> History:
        with self._lock:
            contacts, contacts_cut = _window(self._contacts.get(customer_id, []), since)
            outcomes, outcomes_cut = _window(self._outcomes.get(customer_id, []), since)
            day = day_of(now)
            totals = {key: self._totals.get((key, day), 0) for key in daily_offers}
        return History(
            contacts, outcomes, totals, contacts_cut=contacts_cut, outcomes_cut=outcomes_cut
        )

    def record(
        self,
        customer_id: str,
        decision_id: str,
        contacts: Sequence[Contact],
        caps: Sequence[Cap],
        now: float,
    ) -> list[bool]:
        with self._lock:
            if (customer_id, decision_id) in self._decisions:
                return [False] * len(contacts)
            since = now - max((c.seconds for c in caps if c.scope == "customer"), default=0)
            existing, cut = _window(self._contacts.get(customer_id, []), since)
            day = day_of(now)
            totals = {c.offer: self._totals.get((c.offer, day), 0) for c in contacts}
            fits = accept(contacts, caps, existing, totals, now, existing_cut=cut)
            rows = self._contacts[customer_id]
            for contact, ok in zip(contacts, fits, strict=True):
                if ok:
                    made = Contact(contact.offer, contact.channel or None, min(contact.at, now))
                    bisect.insort(rows, made, key=_at)
                    self._totals[(contact.offer, day)] += 1
            self._decisions.add((customer_id, decision_id))
            return fits

    def record_outcome(self, customer_id: str, event_id: str, outcome: Outcome) -> bool:
        with self._lock:
            if event_id in self._events:
                return False
            self._events.add(event_id)
            bisect.insort(
                self._outcomes[customer_id],
                Outcome(outcome.offer or None, outcome.kind, outcome.at),
                key=_at,
            )
            return True

    def pending_offers(self, customer_id: str) -> list[PendingOffer]:
        with self._lock:
            found = [p for p in self._pending.get(customer_id, {}).values() if p.status in OPEN]
        return sorted(found, key=lambda p: (p.created, p.id))[:MAX_PENDING]

    def put_pending(self, entry: PendingOffer, *, was: PendingStatus | None) -> bool:
        with self._lock:
            rows = self._pending[entry.customer_id]
            current = rows.get(entry.id)
            if was is None:
                if current is not None or sum(p.status in OPEN for p in rows.values()) >= (
                    MAX_PENDING
                ):
                    return False
            elif current is None or current.status != was:
                return False
            rows[entry.id] = entry
            return True


def _window(rows: Sequence[Any], since: float) -> tuple[tuple[Any, ...], bool]:
    """Rows (sorted by time) after `since`, the most recent `MAX_READ` of them, and
    whether there were more."""
    start = bisect.bisect_right(rows, since, key=_at)
    return tuple(rows[max(start, len(rows) - MAX_READ) :]), len(rows) - start > MAX_READ


def merge_caller_history(history: History, entries: Iterable[Contact]) -> History:
    """The store's history plus what the caller sent (`customer.recent_offers`), without
    counting an entry twice when the store holds the same offer at the same moment."""
    entries = tuple(entries)
    if not entries:
        return history
    known = {(c.offer, round(c.at)) for c in history.contacts}
    extra = tuple(c for c in entries if (c.offer, round(c.at)) not in known)
    if not extra:
        return history
    # `replace` keeps what the store said about itself (down, cut off): a caller's
    # entries never make an unknown history look complete.
    return replace(history, contacts=history.contacts + extra)
