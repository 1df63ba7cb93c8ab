"""Rollups: the decision log and its outcomes, counted as they arrive.

Analytics reads `decision_rollups`, never the raw log, so its pages stay fast however
many decisions are stored. The counts move in the same transaction as the ingest that
causes them, through one `INSERT ... ON CONFLICT DO UPDATE SET n = n + k` per ingest
(no read of the rows first), so concurrent ingests never lose a count:

- a stored decision adds 1 to `decisions` for each offer it made (arm "treatment") and
  each offer it held out (arm "holdout"), on the decision's day and keys;
- a stored event that names a logged decision and an offer that decision made or held
  out adds 1 to `shown`, `accepted`, `declined` or `complaints` (and an accepted
  event's value to `value_cents`) on that decision's row;
- an event that arrives before its decision (a client reports decisions in batches)
  is counted when the decision arrives. Duplicates never reach here (ingest stores an
  id once), so nothing is counted twice.

`recount` computes the same table from the raw rows; tests hold the two equal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any, Final, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from studio.models import Decision, DecisionRollup, FeedbackEvent

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


def _day(moment: datetime) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def _key(decision: Decision, entry: dict[str, Any], arm: str) -> Key:
    return (
        _day(decision.decided_at),
        str(entry.get("offer") or "")[:64],
        str(entry.get("ruleset") or "")[:64],
        str(entry.get("rule") or "")[:200],
        decision.channel or "",
        decision.category or "",
        decision.bundle_version or 0,
        arm,
    )


def arm_of(decision: Decision, offer_key: str) -> Key | None:
    """The rollup key an outcome about `offer_key` counts on, or None (not attributable)."""
    for arm, entries in (("treatment", decision.offers), ("holdout", decision.holdouts)):
        for entry in entries or ():
            if isinstance(entry, dict) and entry.get("offer") == offer_key:
                return _key(decision, entry, arm)
    return None


def _decision_counts(decisions: Iterable[Decision]) -> dict[Key, Counter[str]]:
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


def _event_counts(pairs: Iterable[tuple[Decision, FeedbackEvent]]) -> dict[Key, Counter[str]]:
    out: dict[Key, Counter[str]] = {}
    for decision, event in pairs:
        column = OUTCOMES.get(event.type)
        key = arm_of(decision, event.offer_key) if column else None
        if key is None or column is None:
            continue
        counts = out.setdefault(key, Counter())
        counts[column] += 1
        if event.type == "accepted" and event.value_cents:
            counts["value_cents"] += event.value_cents
    return out


def decisions_stored(
    session: Session, decisions: list[Decision], *, early_events: bool = True
) -> None:
    """Count new decisions, and any events stored before them (flushed rows).

    `early_events=False` for a decision just made by `/decide`: no event can name an id
    that did not exist."""
    if not decisions:
        return
    _apply(session, _decision_counts(decisions))
    if not early_events:
        return
    by_id = {d.id: d for d in decisions}
    early: list[FeedbackEvent] = []
    ids = list(by_id)
    for start in range(0, len(ids), 200):
        early += session.scalars(
            select(FeedbackEvent).where(FeedbackEvent.decision_id.in_(ids[start : start + 200]))
        )
    _apply(
        session, _event_counts((by_id[e.decision_id], e) for e in early if e.decision_id in by_id)
    )


def events_stored(session: Session, events: Iterable[FeedbackEvent]) -> None:
    """Count new events whose decision is already logged."""
    events = [e for e in events if e.decision_id and e.type in OUTCOMES]
    if not events:
        return
    ids = sorted({e.decision_id for e in events if e.decision_id})
    found: dict[str, Decision] = {}
    for start in range(0, len(ids), 200):
        found.update(
            {
                d.id: d
                for d in session.scalars(
                    select(Decision).where(Decision.id.in_(ids[start : start + 200]))
                )
            }
        )
    _apply(
        session, _event_counts((found[e.decision_id], e) for e in events if e.decision_id in found)
    )


def _apply(session: Session, counts: dict[Key, Counter[str]]) -> None:
    """Add `counts` to their rows in one `INSERT ... ON CONFLICT DO UPDATE SET n = n + k`
    (keys in order, so two ingests lock shared rows in the same order): no read first,
    and a key a concurrent ingest inserted first is added to its row by the database."""
    counts = {k: c for k, c in counts.items() if any(c.values())}
    if not counts:
        return
    session.flush()
    rows = [
        {**dict(zip(KEY_COLUMNS, key, strict=True)), **{n: counts[key].get(n, 0) for n in COUNTS}}
        for key in sorted(counts)
    ]
    session.execute(_UPSERTS[session.get_bind().dialect.name], rows)
    for held in list(session.identity_map.values()):
        if isinstance(held, DecisionRollup):
            session.expire(held)


_TABLE = cast(Table, DecisionRollup.__table__)


def _upsert(dialect: Any) -> Any:
    statement = dialect.insert(_TABLE)
    return statement.on_conflict_do_update(
        index_elements=list(KEY_COLUMNS),
        set_={n: _TABLE.c[n] + statement.excluded[n] for n in COUNTS},
    )


# Built once, so SQLAlchemy compiles it once (its cache), not per ingest.
_UPSERTS: Final = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}


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


def stored(session: Session) -> dict[Key, dict[str, int]]:
    out = {}
    for row in session.scalars(select(DecisionRollup)):
        key = tuple(getattr(row, c) for c in KEY_COLUMNS)
        counts = {n: getattr(row, n) for n in COUNTS}
        if any(counts.values()):
            out[key] = counts
    return out
