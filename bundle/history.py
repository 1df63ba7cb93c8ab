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

A store may also offer both steps as one, `read_and_record(customer_id, since=, now=,
daily_offers=, decision_id=, choose=)`: it reads the history, asks `choose(history)`
which contacts the decision makes, and records them in the same critical section (a
lock, a write transaction), so nothing another decider records can come between the
read and the write and no cap needs checking twice. `bundle.disposal` uses it when a
store has it (`MemoryHistory`, `SQLiteHistory`, and `RedisHistory`, which settles the
decision's plan in a script on the server): one visit to the store per decision instead
of two. `supports_read_and_record` tells.

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
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
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


#: What a decision makes of a history: the contacts to record (none, often).
Choose = Callable[[History], Sequence[Contact]]


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


class ReadAndRecord(Protocol):
    """The optional one-visit form of `read` then `record` (see the module's docstring)."""

    def read_and_record(
        self,
        customer_id: str,
        *,
        since: float,
        now: float,
        daily_offers: Sequence[str],
        decision_id: str,
        choose: Choose,
        new_id: bool = False,
    ) -> tuple[History, Sequence[bool]]:
        """Read, choose and record atomically; answer the history read and, for each
        contact chosen, whether it was recorded (False when `decision_id` was recorded
        before: a retried decision records nothing twice; or when a store that checks
        again found its cap used up). `new_id`: the id was made for this decision just
        now, so it cannot be a retry, and no marker of it need be kept. An exception from `choose` records nothing and is
        raised as it is. A store with ``wants_plan`` also takes ``plan=``, the
        decision's `dsl.policy.Plan` (`RedisHistory`: it settles the plan in the same
        round trip as its read)."""
        ...


def supports_read_and_record(store: object) -> bool:
    """Whether `store` offers `read_and_record` (the stores here say so by a flag, so a
    subclass that overrides `read` or `record` can turn it off)."""
    return bool(getattr(store, "reads_and_records", False))


def day_of(moment: float) -> int:
    """The UTC day number of a moment: per-day limits count from midnight UTC."""
    return int(moment // DAY)


def accept(
    contacts: Sequence[Contact],
    caps: Sequence[Cap],
    existing: History | Iterable[Contact],
    day_totals: Mapping[str, int],
    now: float,
    *,
    existing_cut: bool = False,
) -> list[bool]:
    """Which of `contacts` fit every cap, given what is already recorded (in order).

    `existing` is a `History` (or contacts in any order). `existing_cut` says it holds
    only the most recent `MAX_READ` entries: a per-customer cap they do not reach is
    then not known to fit, and the contact is refused."""
    taken: list[Contact] = []
    out = []
    counted: dict[int, int] = {}
    known = existing if isinstance(existing, History) else History(existing)
    for contact in contacts:
        fits = True
        for index, cap in _covering(caps, contact.offer, contact.channel):
            if cap.scope == "day":
                used = day_totals.get(contact.offer, 0)
                if taken:
                    used += sum(1 for t in taken if t.offer == contact.offer)
            else:
                if index not in counted:
                    counted[index] = known.count(cap, now)
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


class _Contacts:
    """One customer's contacts as columns sorted by time (`History` reads them as is):
    times in a C array, offers and channels in lists of shared strings, so a read copies
    three small blocks of memory rather than an object per contact."""

    __slots__ = ("ats", "offers", "channels")

    def __init__(self) -> None:
        self.ats = array("d")
        self.offers: list[str] = []
        self.channels: list[str | None] = []

    def add(self, offer: str, channel: str | None, at: float) -> None:
        ats = self.ats
        if not ats or ats[-1] <= at:  # the usual case: now is the latest
            ats.append(at)
            self.offers.append(offer)
            self.channels.append(channel)
            return
        index = bisect.bisect_right(ats, at)
        ats.insert(index, at)
        self.offers.insert(index, offer)
        self.channels.insert(index, channel)


class OneVisit:
    """A store that offers `read_and_record` (`supports_read_and_record`), unless a
    subclass of it changes `read` or `record`: then the one visit would go round the
    change, so the subclass does not offer it."""

    reads_and_records = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if OneVisit not in cls.__bases__ and ("read" in cls.__dict__ or "record" in cls.__dict__):
            cls.reads_and_records = False


class MemoryHistory(OneVisit):
    """History in this process's memory: one lock, exact, lost on exit."""

    name = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Per customer, sorted by time: a read is one bisect and three slices.
        self._contacts: dict[str, _Contacts] = defaultdict(_Contacts)
        self._outcomes: dict[str, list[Outcome]] = defaultdict(list)
        self._events: set[str] = set()
        self._decisions: set[tuple[str, str]] = set()
        self._totals: dict[tuple[str, int], int] = defaultdict(int)
        self._pending: dict[str, dict[str, PendingOffer]] = defaultdict(dict)

    def load(self, customer_id: str, contacts: Iterable[Contact]) -> None:
        """Add contacts in bulk, without checking caps (a warm start, a benchmark)."""
        with self._lock:
            rows = self._contacts[customer_id]
            for contact in sorted(contacts, key=_at):
                rows.add(contact.offer, contact.channel or None, contact.at)

    def read(
        self, customer_id: str, *, since: float, now: float, daily_offers: Sequence[str] = ()
    ) -> History:
        with self._lock:
            return self._read(customer_id, since, now, daily_offers)

    def _read(
        self,
        customer_id: str,
        since: float,
        now: float,
        daily_offers: Sequence[str],
        *,
        copy: bool = True,
    ) -> History:
        """`read`, the lock held. Without `copy` the history holds the customer's own
        columns when the read is not cut (every cap bisects its own window, so older
        entries count for nothing): only for a history read while the lock is held."""
        day = int(now // DAY)  # `day_of`, inline: this runs for every decision
        rows = self._contacts.get(customer_id)
        if rows is None:
            ats, offers, channels, contacts_cut = _NO_COLUMNS
        elif copy or (
            len(rows.ats) > MAX_READ
            and len(rows.ats) - bisect.bisect_right(rows.ats, since) > MAX_READ
        ):
            ats, offers, channels, contacts_cut = _columns(rows, since)
        else:
            ats, offers, channels, contacts_cut = rows.ats, rows.offers, rows.channels, False
        found = self._outcomes.get(customer_id)
        outcomes, outcomes_cut = _window(found, since) if found else _EMPTY
        totals: dict[str, int] = {}
        for key in daily_offers:  # a loop, not a comprehension: no frame per read
            totals[key] = self._totals.get((key, day), 0)
        return History.from_columns(
            ats,
            offers,
            channels,
            outcomes,
            totals,
            contacts_cut=contacts_cut,
            outcomes_cut=outcomes_cut,
        )

    def read_and_record(
        self,
        customer_id: str,
        *,
        since: float,
        now: float,
        daily_offers: Sequence[str] = (),
        decision_id: str,
        choose: Choose,
        new_id: bool = False,
    ) -> tuple[History, list[bool]]:
        """`read`, `choose` and the recording under one hold of the lock: the history
        cannot change in between, so the caps `choose` checked need no second check.
        A `new_id` decision keeps no marker (it cannot be retried under that id).
        The history handed to `choose` may hold the store's own columns: it is the
        history as read only while `choose` runs."""
        with self._lock:
            history = self._read(customer_id, since, now, daily_offers, copy=False)
            contacts = choose(history)
            if not contacts:
                return history, []
            if not new_id:
                marker = (customer_id, decision_id)
                if marker in self._decisions:
                    return history, [False] * len(contacts)
                self._decisions.add(marker)
            self._append(customer_id, contacts, now)
            return history, [True] * len(contacts)

    def _append(self, customer_id: str, contacts: Iterable[Contact], now: float) -> None:
        """Record contacts (none dated after `now`), the lock held."""
        rows = self._contacts[customer_id]
        day = int(now // DAY)
        totals_of = self._totals
        for contact in contacts:
            at = contact.at if contact.at < now else now
            ats = rows.ats
            if not ats or ats[-1] <= at:  # the usual case: `rows.add`, inline
                ats.append(at)
                rows.offers.append(contact.offer)
                rows.channels.append(contact.channel or None)
            else:
                rows.add(contact.offer, contact.channel or None, at)
            totals_of[(contact.offer, day)] += 1

    def record(
        self,
        customer_id: str,
        decision_id: str,
        contacts: Sequence[Contact],
        caps: Sequence[Cap],
        now: float,
    ) -> list[bool]:
        since = now - _longest_window(caps)
        day = int(now // DAY)
        marker = (customer_id, decision_id)
        with self._lock:
            if marker in self._decisions:
                return [False] * len(contacts)
            rows = self._contacts[customer_id]
            start = bisect.bisect_right(rows.ats, since)
            cut = len(rows.ats) - start > MAX_READ
            if cut:  # only the most recent `MAX_READ` count, as a read would have cut
                ats, offers, channels, _ = _columns(rows, since)
                existing = History.from_columns(ats, offers, channels, (), {})
            else:  # every cap bisects its own window: the columns need no copy
                existing = History.from_columns(rows.ats, rows.offers, rows.channels, (), {})
            totals = {c.offer: self._totals.get((c.offer, day), 0) for c in contacts}
            fits = accept(contacts, caps, existing, totals, now, existing_cut=cut)
            self._append(customer_id, (c for c, ok in zip(contacts, fits, strict=True) if ok), now)
            self._decisions.add(marker)
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


_EMPTY: Final[tuple[tuple[()], bool]] = ((), False)
_NO_COLUMNS: Final[tuple[Sequence[float], list[str], list[str | None], bool]] = ((), [], [], False)


#: `_covering` per caps sequence, offer and channel: (the caps, what cover the pair).
_covers: dict[tuple[int, str, str | None], tuple[Sequence[Cap], tuple[tuple[int, Cap], ...]]] = {}


def _covering(caps: Sequence[Cap], offer: str, channel: str | None) -> tuple[tuple[int, Cap], ...]:
    """The caps (with their index) that cover `offer` in `channel`: found once per pair
    and policy, not by testing every cap for every contact recorded."""
    key = (id(caps), offer, channel)
    found = _covers.get(key)
    if found is not None and found[0] is caps:
        return found[1]
    covering = tuple((i, c) for i, c in enumerate(caps) if c.covers(offer, channel))
    if len(_covers) > 4096:
        _covers.clear()
    _covers[key] = (caps, covering)  # holding `caps` keeps its id from being reused
    return covering


#: `_longest_window` per caps sequence (a policy's caps are one tuple for its life).
_windows: dict[int, tuple[Sequence[Cap], int]] = {}


def _longest_window(caps: Sequence[Cap]) -> int:
    """The longest window of the per-customer caps (0 when there are none)."""
    found = _windows.get(id(caps))
    if found is not None and found[0] is caps:
        return found[1]
    longest = max((c.seconds for c in caps if c.scope == "customer"), default=0)
    if len(_windows) > 64:
        _windows.clear()
    _windows[id(caps)] = (caps, longest)  # holding `caps` keeps its id from being reused
    return longest


def _columns(
    rows: _Contacts, since: float
) -> tuple[Sequence[float], list[str], list[str | None], bool]:
    """A customer's columns after `since`, the most recent `MAX_READ` entries of them,
    and whether there were more."""
    ats = rows.ats
    start = bisect.bisect_right(ats, since)
    first = max(start, len(ats) - MAX_READ)
    return ats[first:], rows.offers[first:], rows.channels[first:], len(ats) - start > MAX_READ


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
    return history.with_contacts(extra)
