"""Feedback events counted as they arrive, for the `/analytics/` page.

`event_rollups` holds, per day (UTC) x offer x category x channel x bundle version x
event type, the number of events and, for NPS answers, how many were promoters (9-10),
detractors (0-6) and answers with a score. `analytics.report` sums these rows over its
window instead of grouping the event log, so the page costs the same however many
events are stored.

Ingest (`outcomes.events_stored`) adds the events it has just stored in one
`INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n` per batch
(`rollups.apply_counts`), in the same transaction; duplicates never reach it (ingest
stores an event id once). Migration 0013 filled the table from the events stored
before it. Nothing deletes events (retention deletes interactions only), so nothing
has to take counts away.

`recount` computes the table from the raw events; tests hold the two equal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import Final, Protocol, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from studio.models import EventRollup, FeedbackEvent
from studio.services import rollups

KEY_COLUMNS: Final = ("day", "offer_key", "category", "channel", "bundle_version", "type")
COUNTS: Final = ("events", "promoters", "detractors", "answers")
Key = tuple[date, str, str, str, int, str]
_TABLE: Final = cast(Table, EventRollup.__table__)


class Counted(Protocol):
    """What an event is counted by: a stored `FeedbackEvent` or ingest's `EventRow`."""

    @property
    def type(self) -> str: ...
    @property
    def offer_key(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def bundle_version(self) -> int | None: ...
    @property
    def score(self) -> float | None: ...
    @property
    def at(self) -> datetime: ...


def counts(events: Iterable[Counted]) -> dict[Key, Counter[str]]:
    """The rollup counts of `events`."""
    out: dict[Key, Counter[str]] = {}
    days: dict[datetime, date] = {}  # a batch's events share few moments (`at`)
    for event in events:
        day = days.get(event.at)
        if day is None:
            day = days[event.at] = rollups.day_of(event.at)
        key = (
            day,
            event.offer_key or "",
            event.category or "",
            event.channel or "",
            event.bundle_version or 0,
            event.type,
        )
        found = out.get(key)
        if found is None:
            found = out[key] = Counter()
        found["events"] += 1
        if event.type == "nps" and event.score is not None:
            found["answers"] += 1
            if event.score >= 9:
                found["promoters"] += 1
            elif event.score <= 6:
                found["detractors"] += 1
    return out


def events_stored(session: Session, events: Iterable[Counted]) -> None:
    """Add events just stored (new ids only) to the rollup, in one upsert."""
    add(session, counts(events))


def add(session: Session, found: dict[Key, Counter[str]]) -> None:
    """Add `found` (from `counts`) to the rollup rows, in one upsert."""
    rollups.apply_counts(session, found, _TABLE, KEY_COLUMNS, COUNTS)


def stored(session: Session) -> dict[Key, dict[str, int]]:
    out = {}
    for row in session.scalars(select(EventRollup)):
        found = {n: getattr(row, n) for n in COUNTS}
        if any(found.values()):
            out[cast(Key, tuple(getattr(row, c) for c in KEY_COLUMNS))] = found
    return out


def recount(session: Session) -> dict[Key, dict[str, int]]:
    """The rollup table computed from the raw event log (for checks)."""
    return {
        k: {n: c.get(n, 0) for n in COUNTS}
        for k, c in counts(session.scalars(select(FeedbackEvent))).items()
    }
