"""Rollups: the decision log and its outcomes, counted as they arrive.

Analytics reads `decision_rollups`, never the raw log, so its pages stay fast however
many decisions are stored. The counts move in the same transaction as the ingest that
causes them, through one `INSERT ... ON CONFLICT (key) DO UPDATE SET n = n + k` per
ingest, so concurrent ingests never lose a count:

- a stored decision adds 1 to `decisions` for each offer it made (arm "treatment") and
  each offer it held out (arm "holdout"), on the decision's day and keys;
- a stored event that names a logged decision and an offer that decision made or held
  out adds 1 to `shown`, `accepted`, `declined` or `complaints` (and an accepted
  event's value to `value_cents`) on that decision's row;
- an event that arrives before its decision (a client reports decisions in batches)
  is counted when the decision arrives. Duplicates never reach here (ingest stores an
  id once), so nothing is counted twice.

`harm_rollups` count, per day, tone and line, the decisions in which a ruleset guard
fired or the contact policy withheld offers (`decision.withheld`), as decisions arrive.

`recount` and `harm_recount` compute the same tables from the raw rows; tests hold
them equal.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any, Final, Protocol, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from studio.models import (
    Decision,
    DecisionRollup,
    EventRollup,
    FeedbackEvent,
    HarmRollup,
    OfferRollup,
)
from studio.services import bulk_sql

OUTCOMES: Final = {
    "shown": "shown",
    "accepted": "accepted",
    "declined": "declined",
    "complaint": "complaints",
}
COUNTS: Final = ("decisions", "shown", "accepted", "declined", "complaints", "value_cents")
Key = tuple[date, str, str, str, str, str, int, str]
KEY_COLUMNS: Final = (
    "day",
    "offer_key",
    "ruleset",
    "rule",
    "channel",
    "category",
    "bundle_version",
    "arm",
)


class DecisionKeys(Protocol):
    """What a decision's rollup keys are made of (a `Decision`)."""

    @property
    def id(self) -> str: ...
    @property
    def decided_at(self) -> datetime: ...
    @property
    def channel(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def bundle_version(self) -> int | None: ...
    @property
    def offers(self) -> list[Any]: ...
    @property
    def holdouts(self) -> list[Any]: ...


class Outcome(Protocol):
    """What an event counts with: a stored `FeedbackEvent` or ingest's `EventRow`."""

    @property
    def type(self) -> str: ...
    @property
    def offer_key(self) -> str: ...
    @property
    def value_cents(self) -> int | None: ...
    @property
    def decision_id(self) -> str | None: ...


def day_of(moment: datetime) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def _key(decision: DecisionKeys, entry: dict[str, Any], arm: str) -> Key:
    return _entry_key(
        day_of(decision.decided_at),
        decision.channel,
        decision.category,
        decision.bundle_version,
        entry,
        arm,
    )


def _entry_key(
    day: date, channel: str, category: str, version: int | None, entry: dict[str, Any], arm: str
) -> Key:
    return (
        day,
        str(entry.get("offer") or "")[:64],
        str(entry.get("ruleset") or "")[:64],
        str(entry.get("rule") or "")[:200],
        channel or "",
        category or "",
        version or 0,
        arm,
    )


def arm_of(decision: DecisionKeys, offer_key: str) -> Key | None:
    """The rollup key an outcome about `offer_key` counts on, or None (not attributable)."""
    for arm, entries in (("treatment", decision.offers), ("holdout", decision.holdouts)):
        for entry in entries or ():
            if isinstance(entry, dict) and entry.get("offer") == offer_key:
                return _key(decision, entry, arm)
    return None


#: A logged decision as ingest needs it: for each offer it made or held out, the rollup
#: key an outcome about that offer counts on (`arm_of` for every offer at once).
Arms = dict[str, Key]


def arms_of(
    day: date,
    channel: str,
    category: str,
    version: int | None,
    offers: list[Any] | None,
    holdouts: list[Any] | None,
) -> Arms:
    """`arm_of` a decision with these columns (`day_of` its `decided_at`) for every offer
    it names: the first entry wins, as in `arm_of`; an entry whose offer is not text
    matches no event's offer key."""
    out: Arms = {}
    for arm, entries in (("treatment", offers), ("holdout", holdouts)):
        for entry in entries or ():
            if isinstance(entry, dict):
                offer = entry.get("offer")
                if isinstance(offer, str) and offer not in out:
                    out[offer] = _entry_key(day, channel, category, version, entry, arm)
    return out


def _decision_counts(decisions: Iterable[DecisionKeys]) -> dict[Key, Counter[str]]:
    out: dict[Key, Counter[str]] = {}
    for decision in decisions:
        for arm, entries in (("treatment", decision.offers), ("holdout", decision.holdouts)):
            for entry in dict.fromkeys(
                _key(decision, e, arm)
                for e in entries or ()
                if isinstance(e, dict) and e.get("offer")
            ):
                out.setdefault(entry, Counter())["decisions"] += 1
    return out


def _event_counts(pairs: Iterable[tuple[DecisionKeys, Outcome]]) -> dict[Key, Counter[str]]:
    out: dict[Key, Counter[str]] = {}
    for decision, event in pairs:
        column = OUTCOMES.get(event.type)
        key = arm_of(decision, event.offer_key) if column else None
        if key is not None and column is not None:
            _tally(out, key, column, event)
    return out


def _tally(out: dict[Key, Counter[str]], key: Key, column: str, event: Outcome) -> None:
    counts = out.get(key)
    if counts is None:
        counts = out[key] = Counter()
    counts[column] += 1
    if event.type == "accepted" and event.value_cents:
        counts["value_cents"] += event.value_cents


def decisions_stored(
    session: Session, decisions: list[Decision], *, early_events: bool = True
) -> None:
    """Count new decisions, and any events stored before them (flushed rows).

    `early_events=False` for a decision just made by `/decide`: no event can name an id
    that did not exist."""
    if not decisions:
        return
    _count(session, _decision_counts(decisions))
    apply_counts(session, harm_counts(decisions), _HARM_TABLE, HARM_KEY_COLUMNS, HARM_COUNTS)
    if not early_events:
        return
    by_id = {d.id: d for d in decisions}
    early: list[Outcome] = []
    ids = list(by_id)
    columns = (
        FeedbackEvent.decision_id,
        FeedbackEvent.type,
        FeedbackEvent.offer_key,
        FeedbackEvent.value_cents,
    )
    for start in range(0, len(ids), 500):
        early += session.execute(
            select(*columns).where(
                bulk_sql.member_of(session, FeedbackEvent.decision_id, ids[start : start + 500]),
                FeedbackEvent.type.in_(OUTCOMES),
            )
        ).all()
    _count(
        session, _event_counts((by_id[e.decision_id], e) for e in early if e.decision_id in by_id)
    )


def logged_decisions(session: Session, ids: Iterable[str]) -> dict[str, Arms]:
    """The logged decisions among `ids`: for each, `arms_of` it.

    Read with one plain statement per 500 ids on the driver's cursor (only the columns
    the keys need, no ORM rows, no per-row type processing): ingest asks this for every
    batch of events, and building rows and parsing each decision's offers cost more than
    the query. Each distinct offers text is parsed once, and decisions with the same
    day, channel, category, bundle version and offers (most of a batch's) share one
    `Arms`."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    found: dict[str, Arms] = {}
    shapes: dict[tuple[Any, ...], Arms] = {}
    texts: dict[str, Any] = {}
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    cursor = connection.connection.cursor()
    try:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            if postgres:
                cursor.execute(_KEYS_POSTGRES, [chunk])
            else:
                cursor.execute(_keys_sqlite(len(chunk)), chunk)
            for row in cursor.fetchall():
                decision_id, moment, channel, category, version, offers, holdouts = row
                # PostgreSQL computes the UTC day; SQLite's stored text starts with it
                # (naive UTC, as `day_of` reads it).
                day = moment if postgres else moment[:10]
                shape = (day, channel, category, version, offers, holdouts)
                arms = shapes.get(shape)
                if arms is None:
                    arms = shapes[shape] = arms_of(
                        day if postgres else date.fromisoformat(day),
                        channel,
                        category,
                        version,
                        _parsed(texts, offers),
                        _parsed(texts, holdouts),
                    )
                found[decision_id] = arms
    finally:
        cursor.close()
    return found


def _parsed(texts: dict[str, Any], text: str | None) -> Any:
    """`text` (a JSON column's stored text) parsed, once per distinct text."""
    if text is None:
        return None
    found = texts.get(text)
    if found is None:
        found = texts[text] = json.loads(text)
    return found


_KEYS_POSTGRES: Final = (
    "SELECT id, (decided_at AT TIME ZONE 'UTC')::date, channel, category, bundle_version, "
    "offers::text, holdouts::text FROM decisions WHERE id = ANY(%s)"
)


@functools.cache
def _keys_sqlite(count: int) -> str:
    return (
        "SELECT id, decided_at, channel, category, bundle_version, offers, holdouts "
        f"FROM decisions WHERE id IN ({', '.join('?' * count)})"
    )


def events_stored(session: Session, events: Iterable[Outcome], decisions: dict[str, Arms]) -> None:
    """Count new events whose decision is logged (`decisions`, from `logged_decisions`)."""
    add_event_counts(session, event_counts(events, decisions))


def event_counts(events: Iterable[Outcome], decisions: dict[str, Arms]) -> dict[Key, Counter[str]]:
    """What `events_stored` adds for `events` (computed apart so ingest can do it before
    it takes the write lock)."""
    out: dict[Key, Counter[str]] = {}
    for event in events:
        column = OUTCOMES.get(event.type)
        if column is None or not event.decision_id:
            continue
        arms = decisions.get(event.decision_id)
        key = arms.get(event.offer_key) if arms else None
        if key is not None:
            _tally(out, key, column, event)
    return out


def add_event_counts(session: Session, counts: dict[Key, Counter[str]]) -> None:
    _count(session, counts)


_TABLE = cast(Table, DecisionRollup.__table__)
_OFFER_TABLE = cast(Table, OfferRollup.__table__)
OFFER_KEY_COLUMNS: Final = ("day", "offer_key", "ruleset", "rule", "arm")


def offer_key(key: Key) -> tuple[date, str, str, str, str]:
    """The `offer_rollups` key a `decision_rollups` key adds to."""
    return (key[0], key[1], key[2], key[3], key[7])


def _count(session: Session, counts: dict[Key, Counter[str]]) -> None:
    """Add `counts` to `decision_rollups` and, summed, to `offer_rollups`."""
    coarse: dict[tuple[date, str, str, str, str], Counter[str]] = {}
    for key, found in counts.items():
        coarse.setdefault(offer_key(key), Counter()).update(found)
    apply_counts(session, counts)
    apply_counts(session, coarse, _OFFER_TABLE, OFFER_KEY_COLUMNS)


def apply_counts(
    session: Session,
    counts: dict[Any, Counter[str]],
    table: Table | None = None,
    keys: tuple[str, ...] = KEY_COLUMNS,
    measures: tuple[str, ...] = COUNTS,
) -> None:
    """Add `counts` to their rows in one executemany upsert: `INSERT ... ON CONFLICT (key)
    DO UPDATE SET n = n + excluded.n`. The unique key decides between insert and update,
    so two ingests adding to the same new key both count, with no read first. Keys go in
    sorted order so concurrent PostgreSQL transactions lock rows in the same order."""
    table = _TABLE if table is None else table
    counts = {k: c for k, c in counts.items() if any(c.values())}
    if not counts:
        return
    session.flush()
    params = [
        {**dict(zip(keys, key, strict=True)), **{n: c.get(n, 0) for n in measures}}
        for key, c in sorted(counts.items())
    ]
    bulk_sql.execute_rows(session, table, params, conflict=keys, add=measures)
    for held in list(session.identity_map.values()):
        if isinstance(held, DecisionRollup | EventRollup | HarmRollup | OfferRollup):
            session.expire(held)


# --- harm avoided: what guards and the contact policy withheld -----------------------

HarmKey = tuple[date, str, str, int, str, str]
HARM_KEY_COLUMNS: Final = ("day", "kind", "ruleset", "line", "text", "tone")
HARM_COUNTS: Final = ("decisions", "offers")
_HARM_TABLE = cast(Table, HarmRollup.__table__)


def _line(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def harm_counts(decisions: Iterable[Decision]) -> dict[HarmKey, Counter[str]]:
    """Per decision: each guard that fired and each policy line that withheld offers
    (with the offers it withheld), and one "any" row per kind, by tone."""
    out: dict[HarmKey, Counter[str]] = {}
    for decision in decisions:
        day, tone = day_of(decision.decided_at), (decision.tone or "")[:32]
        guards = {
            (str(g.get("ruleset") or "")[:64], _line(g.get("line")), str(g.get("text") or "")[:200])
            for g in decision.guards or ()
            if isinstance(g, dict)
        }
        lines: Counter[tuple[str, int, str]] = Counter()
        for w in decision.withheld or ():
            if isinstance(w, dict):
                text = str(w.get("text") or w.get("reason") or "")[:200]
                lines[("", _line(w.get("line")), text)] += 1
        for kind, found in (("guard", Counter(guards)), ("policy", lines)):
            if not found:
                continue
            out.setdefault((day, f"{kind}:any", "", 0, "", tone), Counter())["decisions"] += 1
            for (ruleset, line, text), offers in found.items():
                counts = out.setdefault((day, kind, ruleset, line, text, tone), Counter())
                counts["decisions"] += 1
                if kind == "policy":
                    counts["offers"] += offers
    return out


def harm_stored(session: Session) -> dict[HarmKey, dict[str, int]]:
    return {
        tuple(getattr(r, c) for c in HARM_KEY_COLUMNS): {n: getattr(r, n) for n in HARM_COUNTS}
        for r in session.scalars(select(HarmRollup))
    }


def harm_recount(session: Session) -> dict[HarmKey, dict[str, int]]:
    """The harm rollups computed from the raw decision log (for checks)."""
    return {
        k: {n: c.get(n, 0) for n in HARM_COUNTS}
        for k, c in harm_counts(session.scalars(select(Decision))).items()
    }


def recount(session: Session) -> dict[Key, dict[str, int]]:
    """The rollup table computed from the raw decision log and events (for checks)."""
    decisions = {d.id: d for d in session.scalars(select(Decision))}
    totals: dict[Key, Counter[str]] = _decision_counts(decisions.values())
    events = session.scalars(select(FeedbackEvent).where(FeedbackEvent.decision_id.is_not(None)))
    for key, counter in _event_counts(
        (decisions[e.decision_id], e) for e in events if e.decision_id in decisions
    ).items():
        totals.setdefault(key, Counter()).update(counter)
    return {k: {n: c.get(n, 0) for n in COUNTS} for k, c in totals.items() if any(c.values())}


def offer_stored(session: Session) -> dict[tuple[date, str, str, str, str], dict[str, int]]:
    out = {}
    for row in session.scalars(select(OfferRollup)):
        counts = {n: getattr(row, n) for n in COUNTS}
        if any(counts.values()):
            out[tuple(getattr(row, c) for c in OFFER_KEY_COLUMNS)] = counts
    return out


def offer_recount(
    fine: dict[Key, dict[str, int]],
) -> dict[tuple[date, str, str, str, str], dict[str, int]]:
    """`offer_rollups` as the sum of a `decision_rollups` table (`recount`'s, in checks)."""
    out: dict[tuple[date, str, str, str, str], Counter[str]] = {}
    for key, counts in fine.items():
        out.setdefault(offer_key(key), Counter()).update(counts)
    return {k: {n: c.get(n, 0) for n in COUNTS} for k, c in out.items()}


def stored(session: Session) -> dict[Key, dict[str, int]]:
    out = {}
    for row in session.scalars(select(DecisionRollup)):
        key = tuple(getattr(row, c) for c in KEY_COLUMNS)
        counts = {n: getattr(row, n) for n in COUNTS}
        if any(counts.values()):
            out[key] = counts
    return out
