"""What the studio does as outcome events arrive: check what they refer to, and act.

Called by `events.ingest` with the events it has just stored (flushed, same
transaction). An event naming a decision the log does not hold yet, or an offer the
studio does not know, is still stored (a client's decision report may arrive after its
events; an offer may have been deleted): the event's result carries a warning saying
so, and the event is counted, once, like any other.

A complaint about a known offer is an exception report: the offer's owner (or, with no
owner, every marketer) gets an inbox note at once (and an email when SMTP is set), the
configured webhook gets a signed report, and a check of the offer's complaint threshold
is queued (`auto_pause`). Jobs are noted on the session and enqueued by the caller once
the ingest commits.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.errors import Refusal
from studio.models import Artifact
from studio.roles import MARKETER
from studio.services import bulk_sql, event_rollups, notifications, rollups, webhooks
from studio.services.event_rows import EventRow


@dataclass
class Known:
    """What a batch's events refer to that the studio holds: decisions and offers."""

    decisions: dict[str, rollups.Arms] = field(default_factory=dict)
    offers: set[str] = field(default_factory=set)
    #: The rollup counts of all the batch's events (by index), as if all were stored.
    indices: frozenset[int] = frozenset()
    counts: dict[rollups.Key, Counter[str]] = field(default_factory=dict)
    event_counts: dict[event_rollups.Key, Counter[str]] = field(default_factory=dict)


def look_up(session: Session, events: Mapping[int, EventRow]) -> Known:
    """The decisions and offers `events` name that are stored, and the rollup counts of
    all of them, worked out before the events are inserted: on SQLite, ingest's write
    lock then covers the inserts and upserts only. `events_stored` reads again just
    what this did not find, and counts again only when some events were not stored."""
    decisions = rollups.logged_decisions(
        session, (e.decision_id for e in events.values() if e.decision_id)
    )
    return Known(
        decisions,
        _offers(session, {e.offer_key for e in events.values() if e.offer_key}),
        frozenset(events),
        rollups.event_counts(events.values(), decisions),
        event_rollups.counts(events.values()),
    )


def events_stored(
    session: Session, stored: Mapping[int, EventRow], known: Known | None = None
) -> dict[int, tuple[Refusal, ...]]:
    """Warnings per stored event (by batch index) about what it refers to.

    `known` (from `look_up` before the insert) saves reading again what it found: a
    logged decision and an offer stay (decisions are never deleted). What it did not
    find is read again here, after the insert, so a decision reported meanwhile is
    seen by this ingest or sees these events (`rollups.decisions_stored`), never
    neither."""
    if not stored:
        return {}
    known = known or Known()
    known_decisions = known.decisions
    counted = known.indices == frozenset(stored)
    missing = {
        e.decision_id
        for e in stored.values()
        if e.decision_id and e.decision_id not in known_decisions
    }
    if missing:
        reported = rollups.logged_decisions(session, missing)
        counted = counted and not reported
        known_decisions = {**known_decisions, **reported}
    known_offers = known.offers | _offers(
        session, {e.offer_key for e in stored.values() if e.offer_key} - known.offers
    )
    out: dict[int, tuple[Refusal, ...]] = {}
    for index, event in stored.items():
        found: list[Refusal] = []
        if event.decision_id and event.decision_id not in known_decisions:
            found.append(
                Refusal(
                    "unknown_decision",
                    f"No decision {event.decision_id!r} is logged (yet); "
                    "the event is stored and joins the decision when it is reported.",
                    field=f"events[{index}].decision_id",
                )
            )
        if event.offer_key and event.offer_key not in known_offers:
            found.append(
                Refusal(
                    "unknown_offer",
                    f"The studio has no offer {event.offer_key!r}; the event "
                    "is stored but no owner is told about it.",
                    field=f"events[{index}].offer_key",
                )
            )
        if found:
            out[index] = tuple(found)
    complaints = [
        e for e in stored.values() if e.type == "complaint" and e.offer_key in known_offers
    ]
    if complaints:
        _report_complaints(session, complaints)
    # Last before the commit: the rollup rows are the ones concurrent ingests share, so
    # their row locks are held for as short a time as possible.
    if counted:  # every event looked up was stored, and no decision arrived meanwhile
        event_rollups.add(session, known.event_counts)
        rollups.add_event_counts(session, known.counts)
    else:
        event_rollups.events_stored(session, stored.values())
        rollups.events_stored(session, stored.values(), known_decisions)
    return out


def _report_complaints(session: Session, complaints: list[EventRow]) -> None:
    offers = {
        a.key: a
        for a in session.scalars(
            select(Artifact).where(
                Artifact.kind == "offer", Artifact.key.in_({e.offer_key for e in complaints})
            )
        )
    }
    marketers = None
    for event in complaints:
        offer = offers[event.offer_key]
        if offer.owner is not None:
            people = [offer.owner]
        else:
            marketers = marketers or notifications.people_with_roles(session, [MARKETER])
            people = marketers
        link = f"/decisions/{event.decision_id}" if event.decision_id else "/analytics/"
        where = " ".join(part for part in (event.channel, event.category) if part)
        notifications.notify(
            session,
            people,
            kind="complaint",
            link=link,
            message=f"A customer complained about offer {event.offer_key}"
            f"{' (' + where + ')' if where else ''}.",
        )
        webhooks.queue_report(
            session,
            "complaint",
            {
                "offer": event.offer_key,
                "event_id": event.event_id,
                "decision_id": event.decision_id,
                "channel": event.channel,
                "category": event.category,
                "bundle_version": event.bundle_version,
                "at": event.at.isoformat(),
            },
        )
    for offer_key in sorted({e.offer_key for e in complaints}):
        webhooks.intend(session, "loop.pause_check", offer_key=offer_key)


_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?$")


def value_cents(raw: Mapping[str, Any], kind: str, where: str) -> int | None | Refusal:
    """An accepted event's `value`, in cents of the workspace currency, or a refusal.

    The value is a decimal string with a dot and at most two decimals ("12.50"): a
    number in JSON would round, a comma or a currency sign is ambiguous."""
    value = raw.get("value")
    if value is None:
        return None
    if kind != "accepted":
        return Refusal("unexpected_field", "Only 'accepted' events carry a 'value'.", field=where)
    if not isinstance(value, str) or not _AMOUNT.match(value):
        return Refusal(
            "invalid_value",
            "'value' is an amount as text with a dot and at "
            'most two decimals, without a currency sign, such as "12.50".',
            field=where,
        )
    whole, _, cents = value.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


def _offers(session: Session, keys: set[str]) -> set[str]:
    if not keys:
        return set()
    return _existing(session, Artifact.key, sorted(keys), Artifact.kind == "offer")


def _existing(session: Session, column, values: list[str], *where) -> set[str]:  # type: ignore[no-untyped-def]
    found: set[str] = set()
    for start in range(0, len(values), 500):
        found.update(
            session.scalars(
                select(column).where(
                    bulk_sql.member_of(session, column, values[start : start + 500]), *where
                )
            )
        )
    return found
