"""The studio's contact history: every offer a decision made and every outcome, per customer.

The workspace contact policy's caps and suppressions (`dsl.policy`) count this table
(`contact_history`, migration 0005): `/api/v1/decide` reads and records through
`DatabaseHistory`, a `bundle.history.HistoryStore`; feedback events add outcomes
(`record_event_outcomes`); clients report the offers they decided locally
(`POST /api/v1/contacts`, `ingest_reports`). An offer is stored once per decision id and
offer, an outcome once per event id, so retries never count twice.

Check-and-record runs in the request's transaction; on PostgreSQL it first takes a
transaction-scoped advisory lock on the customer (and one per offer capped per day), so
two workers never exceed a cap between them; on SQLite it first takes the database's
write lock (a no-op update), which serialises the check-and-record the same way.

A decision (`read_and_record`, one visit) costs few statements, sent as plain text to
the driver's cursor inside the request's transaction: the lock (PostgreSQL: the
customer's advisory lock, and one per offer capped per day; SQLite: the database's write
lock, taken through the studio's write gate, `studio.sqlite_gate`), one read of the
customer's window (contacts and outcomes together), the day's counters of the offers
capped per day (`contact_day_counts`, kept with every offer stored, instead of counting
the day's rows), and, when the policy keeps an offer, an `INSERT ... ON CONFLICT DO
NOTHING` on the dedupe key (a retried decision records nothing twice) and an upsert of
the day's counter.
"""

from __future__ import annotations

import functools
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, cast

from sqlalchemy import Table, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bundle.history import MAX_READ, Choose, HistoryUnavailable, OneVisit, accept
from bundle.pending import PendingOffer, PendingStatus
from dsl.policy import OUTCOMES, Cap, Contact, History, Outcome, Plan
from dsl.schema import parse_datetime
from studio.errors import Refusal
from studio.models import ContactDayCount, ContactHistory
from studio.services import bulk_sql, gated_offers
from studio.services.batch_report import BatchReport, refusal_dict
from studio.services.event_rows import EventRow
from studio.services.json_shape import check_object

MAX_REPORTS: Final = 1000
#: Rows each day's count of an offer is split over (see `ContactDayCount`).
DAY_BUCKETS: Final = 8
_TEXT: Final = {"decision_id": 100, "customer_id": 100, "offer_key": 64, "channel": 32}


def _when(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def _seconds(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


class DatabaseHistory(OneVisit):
    """`HistoryStore` over the `contact_history` table, inside the caller's session.

    A decision visits it once (`read_and_record`): the customer is locked, the window
    read, the policy's choice recorded, in the request's transaction, with plain
    statements on the driver's cursor (no ORM rows, no per-statement compilation: on the
    path of every `/api/v1/decide`)."""

    name = "database"
    #: `dispose` passes the policy's plan: its per-day caps are checked again under
    #: their lock on PostgreSQL (`read_and_record`).
    wants_plan = True

    def __init__(
        self, session: Session, *, source: str = "studio", commit_visits: bool = False
    ) -> None:
        self.session = session
        self.source = source
        # `/api/v1/decide` commits each visit at once on SQLite: the database's write
        # lock is then held for the check-and-record alone, not while the answer is
        # rendered and logged (docs/architecture.md, "Database"). PostgreSQL's lock is
        # the customer's: a second commit would cost more than it frees.
        self.commit_visits = commit_visits and session.get_bind().dialect.name == "sqlite"

    def read(
        self, customer_id: str, *, since: float, now: float, daily_offers: Sequence[str] = ()
    ) -> History:
        """The window of history caps need; a database that cannot answer is reported as
        `HistoryUnavailable`, which the contact policy turns into its documented choice
        (deny the capped offers) instead of an error."""
        try:
            cursor = _DriverCursor(self.session)
            try:
                return cursor.window(customer_id, since, now, daily_offers)
            finally:
                cursor.close()
        except DBAPIError as exc:
            self.session.rollback()
            raise HistoryUnavailable(f"the studio's contact history is unreachable: {exc}") from exc

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
        plan: Plan | None = None,
    ) -> tuple[History, list[bool]]:
        """Lock the customer, read the window, let `choose` pick what to record and
        record it: nothing can be recorded for the customer in between, so what
        `choose` checked needs no second check. Every offer gets a dedupe key of the
        decision id, so `new_id` changes nothing here.

        On SQLite the lock is the whole database's, per-day totals included. On
        PostgreSQL it is the customer's: the offers capped per day are locked only when
        the policy keeps one (every decision would otherwise wait for every other), and
        their totals read again under that lock; one that another decision used up
        meanwhile is not recorded (False). Without the `plan` (its caps), every offer
        capped per day is locked before the read."""
        del new_id
        try:
            cursor = _DriverCursor(self.session)
            try:
                late = cursor.postgres and plan is not None
                cursor.lock(customer_id, () if late else daily_offers)
                history = cursor.window(customer_id, since, now, daily_offers)
                contacts = choose(history)
                stored: set[str] = set()
                if contacts:
                    fits = cursor.day_caps_hold(contacts, plan.caps, now) if late and plan else None
                    stored = self._insert_new(
                        _offer_rows(customer_id, decision_id, contacts, now, self.source, fits)
                    )
            finally:
                cursor.close()
            if self.commit_visits:
                self.session.commit()
        except DBAPIError as exc:
            self.session.rollback()
            raise HistoryUnavailable(f"the studio's contact history is unreachable: {exc}") from exc
        return history, [
            _dedupe_key(decision_id, index, contact.offer) in stored
            for index, contact in enumerate(contacts)
        ]

    def record(
        self,
        customer_id: str,
        decision_id: str,
        contacts: Sequence[Contact],
        caps: Sequence[Cap],
        now: float,
    ) -> list[bool]:
        try:
            return self._record(customer_id, decision_id, contacts, caps, now)
        except DBAPIError as exc:
            self.session.rollback()
            raise HistoryUnavailable(f"the studio's contact history is unreachable: {exc}") from exc

    def _record(
        self,
        customer_id: str,
        decision_id: str,
        contacts: Sequence[Contact],
        caps: Sequence[Cap],
        now: float,
    ) -> list[bool]:
        daily = _day_capped(contacts, caps)
        window = max((c.seconds for c in caps if c.scope == "customer"), default=0)
        cursor = _DriverCursor(self.session)
        try:
            # The customer first, then the day-capped offers in order: never a cycle.
            cursor.lock(customer_id, daily)
            if window:
                existing = cursor.window(customer_id, now - window, now, daily, outcomes=False)
            else:
                existing = History((), (), cursor.day_totals(daily, now))
        finally:
            cursor.close()
        fits = accept(
            contacts,
            caps,
            existing,
            existing.day_totals,
            now,
            existing_cut=existing.contacts_cut,
        )
        rows = _offer_rows(customer_id, decision_id, contacts, now, self.source, fits)
        stored = self._insert_new(rows)
        return [
            ok and _dedupe_key(decision_id, index, contact.offer) in stored
            for index, (contact, ok) in enumerate(zip(contacts, fits, strict=True))
        ]

    def _insert_new(self, rows: list[dict[str, Any]]) -> set[str]:
        """Insert the offers whose dedupe key is new, count them in the day's counters;
        the dedupe keys stored (a retried decision's are already there)."""
        if not rows:
            return set()
        stored = set(
            bulk_sql.execute_rows(
                self.session, _TABLE, rows, conflict=("dedupe_key",), returning="dedupe_key"
            )
        )
        count_offers(
            self.session,
            (
                (r["offer_key"], _seconds(r["at"]), r["customer_id"])
                for r in rows
                if r["dedupe_key"] in stored
            ),
        )
        return stored

    def record_outcome(self, customer_id: str, event_id: str, outcome: Outcome) -> bool:
        key = f"event:{event_id}"[:200]
        if self.session.scalar(select(ContactHistory.id).where(ContactHistory.dedupe_key == key)):
            return False
        self.session.add(
            ContactHistory(
                customer_id=customer_id,
                kind=outcome.kind,
                offer_key=outcome.offer or "",
                channel="",
                decision_id="",
                dedupe_key=key,
                source=self.source,
                at=_when(outcome.at),
            )
        )
        self.session.flush()
        return True

    def pending_offers(self, customer_id: str) -> list[PendingOffer]:
        try:
            return gated_offers.open_offers(self.session, customer_id)
        except DBAPIError as exc:
            self.session.rollback()
            raise HistoryUnavailable(f"the studio's gated offers are unreachable: {exc}") from exc

    def put_pending(self, entry: PendingOffer, *, was: PendingStatus | None) -> bool:
        try:
            return gated_offers.put(self.session, entry, was)
        except DBAPIError as exc:
            self.session.rollback()
            raise HistoryUnavailable(f"the studio's gated offers are unreachable: {exc}") from exc


def _dedupe_key(decision_id: str, index: int, offer: str) -> str:
    return f"offer:{decision_id}:{index}:{offer}"[:200]


def _offer_rows(
    customer_id: str,
    decision_id: str,
    contacts: Sequence[Contact],
    now: float,
    source: str,
    fits: Sequence[bool] | None = None,
) -> list[dict[str, Any]]:
    """The `contact_history` rows of the contacts a decision recorded (those that fit)."""
    recorded = datetime.now(UTC)
    return [
        {
            "customer_id": customer_id,
            "kind": "offer",
            "offer_key": contact.offer,
            "channel": contact.channel or "",
            "decision_id": decision_id,
            "source": source,
            "dedupe_key": _dedupe_key(decision_id, index, contact.offer),
            "at": _when(min(contact.at, now)),
            "recorded_at": recorded,
        }
        for index, contact in enumerate(contacts)
        if fits is None or fits[index]
    ]


class _DriverCursor:
    """The statements of a decision's visit, sent as plain text to the driver's cursor
    on the session's connection (inside its transaction): the SQL is the same on both
    databases but for the placeholders, and SQLite's times are compared as the text
    SQLAlchemy stores them in."""

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.postgres = connection.dialect.name == "postgresql"
        self.cursor = connection.connection.cursor()

    def close(self) -> None:
        self.cursor.close()

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def _moment(self, moment: float) -> Any:
        at = _when(moment)
        return at if self.postgres else at.replace(tzinfo=None).isoformat(" ", "microseconds")

    def _seconds(self, at: Any) -> float:
        if self.postgres:
            return float(at.timestamp())
        return datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp()

    def lock(self, customer_id: str, daily_offers: Sequence[str]) -> None:
        """Take the customer's lock (PostgreSQL: an advisory lock on the customer, then
        one per offer capped per day, in order; SQLite: the database's write lock)."""
        if not self.postgres:
            # The driver begins the transaction at the first write: an update that
            # changes nothing takes the write lock (and the studio's write gate).
            self.cursor.execute(_WRITE_LOCK_SQL)
            return
        self._advisory_locks(customer_id, *(f"day:{offer}" for offer in sorted(set(daily_offers))))

    def _advisory_locks(self, *keys: str) -> None:
        """PostgreSQL's transaction-scoped advisory locks on `keys`, in the order given."""
        for key in keys:
            self.cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))

    def day_caps_hold(
        self, contacts: Sequence[Contact], caps: Sequence[Cap], now: float
    ) -> list[bool]:
        """Which contacts still fit the per-day caps, their offers locked (in order) and
        the day's totals read again: another customer's decision may have used them."""
        capped = _day_capped(contacts, caps)
        if not capped:
            return [True] * len(contacts)
        self._advisory_locks(*(f"day:{offer}" for offer in capped))
        # With no contacts given, only the per-day caps can refuse (the customer's were
        # checked by the policy under the customer's lock).
        return accept(contacts, caps, (), self.day_totals(capped, now), now)

    def window(
        self,
        customer_id: str,
        since: float,
        now: float,
        daily_offers: Sequence[str],
        *,
        outcomes: bool = True,
    ) -> History:
        """`DatabaseHistory.read`: the most recent `MAX_READ` contacts and outcomes after
        `since` (one more of each is read, to know whether the read was cut off), and
        today's totals of `daily_offers`; the contacts alone when not `outcomes`."""
        after = self._moment(since)
        keys = sorted(set(daily_offers))
        totals: dict[str, int] | None = None
        if outcomes and keys:  # today's totals in the same statement: one round trip
            totals = dict.fromkeys(keys, 0)
            day = _when(now).date()
            if self.postgres:
                self.cursor.execute(
                    _WINDOW_AND_TOTALS_POSTGRES,
                    (*(customer_id, after, MAX_READ + 1) * 2, day, keys),
                )
            else:
                self.cursor.execute(
                    _window_and_totals_sqlite(len(keys)),
                    (*(customer_id, after, MAX_READ + 1) * 2, day.isoformat(), *keys),
                )
        elif outcomes:
            self.cursor.execute(self._sql(_WINDOW_SQL), (customer_id, after, MAX_READ + 1) * 2)
        else:
            self.cursor.execute(self._sql(_OFFERS_SQL), (customer_id, after, MAX_READ + 1))
        seconds = self._seconds
        contacts: list[Contact] = []
        found: list[Outcome] = []
        for offer, channel, kind, at, *total in self.cursor.fetchall():
            if kind == "offer":
                contacts.append(Contact(offer, channel or None, seconds(at)))
            elif kind == _TOTAL_KIND and totals is not None:
                totals[offer] = int(total[0] or 0)
            else:
                found.append(Outcome(offer or None, kind, seconds(at)))
        # Most recent first within each kind; the most recent MAX_READ are kept
        # (`History` sorts them oldest first).
        contacts.sort(key=_newest_first)
        found.sort(key=_newest_first)
        return History(
            contacts[:MAX_READ],
            found[:MAX_READ],
            totals if totals is not None else self.day_totals(daily_offers, now),
            contacts_cut=len(contacts) > MAX_READ,
            outcomes_cut=len(found) > MAX_READ,
        )

    def day_totals(self, offers: Sequence[str], now: float) -> dict[str, int]:
        keys = sorted(set(offers))
        if not keys:
            return {}
        day = _when(now).date()
        if self.postgres:
            self.cursor.execute(_DAY_TOTALS_POSTGRES, (day, keys))
        else:
            self.cursor.execute(_day_totals_sqlite(len(keys)), (day.isoformat(), *keys))
        found = {key: int(count or 0) for key, count in self.cursor.fetchall()}
        return {key: found.get(key, 0) for key in keys}


def _day_capped(contacts: Sequence[Contact], caps: Sequence[Cap]) -> list[str]:
    """The offers among `contacts` that a per-day cap covers, in order."""
    return sorted(
        {
            c.offer
            for c in contacts
            for cap in caps
            if cap.scope == "day" and cap.covers(c.offer, c.channel)
        }
    )


def _newest_first(entry: Contact | Outcome) -> float:
    return -entry.at


_WRITE_LOCK_SQL: Final = "UPDATE contact_day_counts SET offers = offers WHERE bucket = -1"
_WINDOW_PART: Final = (
    "SELECT offer_key, channel, kind, at FROM contact_history WHERE customer_id = ? AND "
    "kind {} 'offer' AND at > ? ORDER BY at DESC LIMIT ?"
)
_OFFERS_SQL: Final = _WINDOW_PART.format("=")
_WINDOW_SQL: Final = (
    f"SELECT * FROM ({_WINDOW_PART.format('=')}) AS offers UNION ALL "
    f"SELECT * FROM ({_WINDOW_PART.format('<>')}) AS outcomes"
)
_DAY_TOTALS_POSTGRES: Final = (
    "SELECT offer_key, sum(offers) FROM contact_day_counts WHERE day = %s "
    "AND offer_key = ANY(%s) GROUP BY offer_key"
)


#: The kind of the rows that carry today's total of an offer capped per day in
#: `_WINDOW_AND_TOTALS_*` (no event kind starts with '#').
_TOTAL_KIND: Final = "#day"
_COUNTED_PART: Final = (
    "SELECT offer_key, channel, kind, at, CAST(NULL AS bigint) AS total FROM contact_history WHERE "
    "customer_id = ? AND kind {} 'offer' AND at > ? ORDER BY at DESC LIMIT ?"
)
_TOTALS_PART: Final = (
    f"SELECT offer_key, NULL, '{_TOTAL_KIND}', NULL, sum(offers) FROM contact_day_counts "
    "WHERE day = ? AND offer_key {} GROUP BY offer_key"
)
_WINDOW_AND_TOTALS: Final = (
    f"SELECT * FROM ({_COUNTED_PART.format('=')}) AS offers UNION ALL "
    f"SELECT * FROM ({_COUNTED_PART.format('<>')}) AS outcomes UNION ALL "
)
_WINDOW_AND_TOTALS_POSTGRES: Final = (_WINDOW_AND_TOTALS + _TOTALS_PART.format("= ANY(?)")).replace(
    "?", "%s"
)


@functools.cache
def _window_and_totals_sqlite(count: int) -> str:
    return _WINDOW_AND_TOTALS + _TOTALS_PART.format(f"IN ({', '.join('?' * count)})")


@functools.cache
def _day_totals_sqlite(count: int) -> str:
    return (
        "SELECT offer_key, sum(offers) FROM contact_day_counts WHERE day = ? AND offer_key "
        f"IN ({', '.join('?' * count)}) GROUP BY offer_key"
    )


def _bucket(customer_id: str) -> int:
    return zlib.crc32(customer_id.encode()) % DAY_BUCKETS


def count_offers(session: Session, offers: Iterable[tuple[str, float, str]]) -> None:
    """Add (offer, moment, customer) offers just stored to the day's counters, one upsert
    per counter row (`UPDATE offers = offers + n` when the row exists)."""
    counts = Counter((_when(at).date(), offer, _bucket(customer)) for offer, at, customer in offers)
    if not counts:
        return
    bulk_sql.execute_rows(
        session,
        _DAY_TABLE,
        [
            {"day": day, "offer_key": offer, "bucket": bucket, "offers": n}
            for (day, offer, bucket), n in sorted(counts.items())
        ],
        conflict=("day", "offer_key", "bucket"),
        add=("offers",),
    )


def recount_days(session: Session) -> dict[tuple[date, str], int]:
    """The per-day offer counts computed from the history's rows (for checks)."""
    out: Counter[tuple[date, str]] = Counter()
    for offer, at in session.execute(
        select(ContactHistory.offer_key, ContactHistory.at).where(ContactHistory.kind == "offer")
    ):
        out[(_when(_seconds(at)).date(), offer)] += 1
    return dict(out)


def stored_days(session: Session) -> dict[tuple[date, str], int]:
    """The per-day offer counts as the counters hold them (buckets summed)."""
    rows = session.execute(
        select(
            ContactDayCount.day, ContactDayCount.offer_key, func.sum(ContactDayCount.offers)
        ).group_by(ContactDayCount.day, ContactDayCount.offer_key)
    )
    return {(day, offer): int(n) for day, offer, n in rows if n}


def record_event_outcomes(session: Session, rows: Iterable[EventRow]) -> int:
    """Add the outcome events just stored (declined, complaint, ...) to the history.

    One `INSERT ... ON CONFLICT (dedupe_key) DO NOTHING` for the batch: an outcome is
    kept once per event id (the same key `DatabaseHistory.record_outcome` uses)."""
    recorded = datetime.now(UTC)
    kept = [row for row in rows if row.type in OUTCOMES and row.customer_id]
    if not kept:
        return 0
    moments: dict[datetime, datetime] = {}  # a batch's events share few moments
    for row in kept:
        if row.at not in moments:
            moments[row.at] = _when(_seconds(row.at))
    count = len(kept)
    added = bulk_sql.execute_columns(
        session,
        _TABLE,
        _OUTCOME_COLUMNS,
        [
            [row.customer_id for row in kept],
            [row.type for row in kept],
            [row.offer_key or "" for row in kept],
            [""] * count,
            [""] * count,
            [f"event:{row.event_id}"[:200] for row in kept],
            ["event"] * count,
            [moments[row.at] for row in kept],
            [recorded] * count,
        ],
        conflict=("dedupe_key",),
        returning="id",
    )
    return len(added)


_OUTCOME_COLUMNS: Final = (
    "customer_id",
    "kind",
    "offer_key",
    "channel",
    "decision_id",
    "dedupe_key",
    "source",
    "at",
    "recorded_at",
)
_TABLE: Final = cast(Table, ContactHistory.__table__)
_DAY_TABLE: Final = cast(Table, ContactDayCount.__table__)


@dataclass(frozen=True)
class ContactResult:
    """What happened to one reported contact (its index in the batch)."""

    index: int
    decision_id: str | None
    offer_key: str | None
    status: str
    error: Refusal | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "decision_id": self.decision_id,
            "offer_key": self.offer_key,
            "status": self.status,
        }
        if self.error is not None:
            out["error"] = refusal_dict(self.error)
        return out


class ContactReport(BatchReport[ContactResult]):
    """The answer to one batch of contacts (`studio.services.batch_report`)."""


def ingest_reports(
    session: Session, body: Any, *, now: datetime | None = None
) -> ContactReport | Refusal:
    """Contacts decided by clients (`POST /api/v1/contacts`), stored once each.

    Each report is ``{"decision_id", "customer_id", "offer_key", "channel", "at"}``;
    the answer says, for every one by its index, whether it was stored, a duplicate
    (already stored under that decision id and offer) or rejected (with the field at
    fault), so a client's outbox drops exactly the ones answered for. A report dated
    in the future is stored at the moment it arrives.
    """
    problem = check_object(body, "", allowed=("contacts",), required=("contacts",))
    if problem is not None:
        return problem
    reports = body["contacts"]
    if not isinstance(reports, list):
        return Refusal("invalid_type", "'contacts' must be a list.", field="contacts")
    if len(reports) > MAX_REPORTS:
        return Refusal(
            "too_many_contacts",
            f"Send at most {MAX_REPORTS} contacts per request (got {len(reports)}).",
            field="contacts",
            kind="too_large",
        )
    now = now or datetime.now(UTC)
    results: list[ContactResult] = []
    for index, raw in enumerate(reports):
        given = raw if isinstance(raw, Mapping) else {}
        decision_id = given.get("decision_id")
        offer_key = given.get("offer_key")
        decision_id = decision_id if isinstance(decision_id, str) else None
        offer_key = offer_key if isinstance(offer_key, str) else None
        why = _report_problem(raw)
        if why is not None:
            field = f"contacts[{index}].{why[0]}" if why[0] else f"contacts[{index}]"
            results.append(
                ContactResult(
                    index,
                    decision_id,
                    offer_key,
                    "rejected",
                    Refusal("invalid_contact", why[1], field=field),
                )
            )
            continue
        at = min(parse_datetime(raw["at"]) or now, now)
        key = f"offer:{raw['decision_id']}:{raw['offer_key']}"[:200]
        if session.scalar(select(ContactHistory.id).where(ContactHistory.dedupe_key == key)):
            results.append(ContactResult(index, decision_id, offer_key, "duplicate"))
            continue
        session.add(
            ContactHistory(
                customer_id=raw["customer_id"],
                kind="offer",
                offer_key=raw["offer_key"],
                channel=raw.get("channel") or "",
                decision_id=raw["decision_id"],
                dedupe_key=key,
                source="client",
                at=at,
            )
        )
        session.flush()
        count_offers(session, [(raw["offer_key"], _seconds(at), raw["customer_id"])])
        results.append(ContactResult(index, decision_id, offer_key, "stored"))
    return ContactReport(results)


def _report_problem(raw: Any) -> tuple[str, str] | None:
    if not isinstance(raw, Mapping):
        return "", "a contact is an object"
    for name, most in _TEXT.items():
        value = raw.get(name)
        if name == "channel" and value is None:
            continue
        if not isinstance(value, str) or not value or len(value) > most:
            return name, f"'{name}' must be a text of 1 to {most} characters"
    if parse_datetime(raw.get("at")) is None:
        return "at", "'at' must be an ISO 8601 date and time"
    extra = set(raw) - {*_TEXT, "at", "bundle_version"}
    if extra:
        return sorted(extra)[0], "is not a field of a contact"
    return None
