"""Feedback events from downstream systems, stored once each, checked one by one.

Downstream systems send what happened to the offers they showed (shown, clicked,
accepted, declined, complaint, an NPS answer) in batches, and retry a batch when an
answer is lost. So every event carries an id, and an id already stored is reported as a
duplicate, not stored twice. One malformed event must not cost the good ones: each
event gets its own result, with the field at fault when it is refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from studio.errors import Refusal
from studio.models import FeedbackEvent
from studio.services import bulk_sql, contact_history, event_rows, outcomes
from studio.services.batch_report import BatchReport, refusal_dict
from studio.services.event_rows import COLUMNS, EventRow
from studio.services.json_shape import check_lengths, check_object, expect_types, is_int

EVENT_TYPES: Final = ("shown", "clicked", "accepted", "declined", "complaint", "nps")
#: Event types that are about one offer and must name it.
OFFER_EVENTS: Final = frozenset({"shown", "clicked", "accepted", "declined", "complaint"})
MAX_EVENTS: Final = 500
MAX_PAYLOAD_BYTES: Final = 16 * 1024
TEXT_LIMITS: Final = {
    "event_id": 100,
    "offer_key": 64,
    "rule": 200,
    "channel": 32,
    "category": 32,
    "customer_id": 100,
    "decision_id": 64,
}
#: How far from the studio's clock an event's `at` may be: clocks drift and outboxes
#: hold events through outages, but a date years off is a bug in the sender.
MAX_FUTURE: Final = timedelta(days=1)
MAX_PAST: Final = timedelta(days=5 * 365)
EVENT_FIELDS: Final = (*TEXT_LIMITS, "type", "bundle_version", "score", "at", "payload", "value")
_ALLOWED: Final = frozenset(EVENT_FIELDS)
_TYPES: Final = {
    **{name: (str,) for name in TEXT_LIMITS},
    "type": (str,),
    "bundle_version": (int,),
    "score": (int, float),
    "at": (str,),
    "payload": (dict,),
}


@dataclass(frozen=True)
class EventResult:
    index: int
    event_id: str | None
    status: str
    error: Refusal | None = None
    warnings: tuple[Refusal, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "event_id": self.event_id,
            "status": self.status,
        }
        if self.warnings:
            out["warnings"] = [
                {"code": w.code, "message": w.message, "field": w.field} for w in self.warnings
            ]
        if self.error is not None:
            out["error"] = refusal_dict(self.error)
        return out


class IngestReport(BatchReport[EventResult]):
    """The answer to one batch (`studio.services.batch_report`)."""


def ingest(session: Session, body: Any, *, now: datetime | None = None) -> IngestReport | Refusal:
    """Store each well-formed, new event (flushed, not committed); report on all of them.

    The batch itself must be readable (an object with a list of at most `MAX_EVENTS`
    events); within it, each event stands or falls alone.
    """
    problem = check_object(body, "", allowed=("events",), required=("events",))
    if problem is not None:
        return problem
    events = body["events"]
    if not isinstance(events, list):
        return Refusal("invalid_type", "'events' must be a list.", field="events")
    if len(events) > MAX_EVENTS:
        return Refusal(
            "too_many_events",
            f"Send at most {MAX_EVENTS} events per request (got {len(events)}).",
            field="events",
            kind="too_large",
        )
    now = now or datetime.now(UTC)
    results: dict[int, EventResult] = {}
    rows: dict[int, EventRow] = {}
    for index, raw in enumerate(events):
        parsed = _event_row(raw, f"events[{index}]", now)
        if isinstance(parsed, Refusal):
            event_id = raw.get("event_id") if isinstance(raw, Mapping) else None
            results[index] = EventResult(
                index, event_id if isinstance(event_id, str) else None, "rejected", parsed
            )
        else:
            rows[index] = parsed
    known = outcomes.look_up(session, rows)
    stored = _store(session, rows)
    results.update(stored)
    contact_history.record_event_outcomes(
        session, (rows[i] for i, r in stored.items() if r.status == "stored")
    )
    kept = {i: rows[i] for i, r in results.items() if r.status == "stored" and i in rows}
    for index, found in outcomes.events_stored(session, kept, known).items():
        results[index] = replace(results[index], warnings=found)
    return IngestReport([results[i] for i in sorted(results)])


_TABLE: Final = cast(Table, FeedbackEvent.__table__)


def _store(session: Session, rows: Mapping[int, EventRow]) -> dict[int, EventResult]:
    """Insert the events whose ids are new; an id already stored is a duplicate.

    One `INSERT ... ON CONFLICT (event_id) DO NOTHING RETURNING event_id` per batch: the
    unique index decides, so the cost per event does not grow with the events stored, and
    a concurrent batch with some of the same ids can neither store one twice nor fail.
    A plain statement on the driver's cursor, the rows (`EventRow`) passed column by
    column (`bulk_sql.execute_columns`).
    """
    out: dict[int, EventResult] = {}
    first: dict[str, int] = {}
    for index, row in rows.items():
        if row.event_id in first:
            out[index] = EventResult(index, row.event_id, "duplicate")
        else:
            first[row.event_id] = index
    if not first:
        return out
    new = [event_rows.as_tuple(rows[index]) for index in first.values()]
    columns = [list(column) for column in zip(*new, strict=True)]
    stored = set(
        bulk_sql.execute_columns(
            session, _TABLE, COLUMNS, columns, conflict=("event_id",), returning="event_id"
        )
    )
    for event_id, index in first.items():
        out[index] = EventResult(index, event_id, "stored" if event_id in stored else "duplicate")
    return out


def _event_row(raw: Any, where: str, now: datetime) -> EventRow | Refusal:
    if not _well_shaped(raw):
        problem = _shape_problem(raw, where)
        if problem is not None:
            return problem
    if not raw["event_id"].strip():
        return Refusal(
            "missing_field",
            "'event_id' must not be empty; give every "
            "event a unique id so a retried batch is stored once.",
            field=f"{where}.event_id",
        )
    kind = raw["type"]
    if kind not in EVENT_TYPES:
        return Refusal(
            "unknown_event_type",
            f"{str(kind)[:40]!r} is not an event type; use one of {', '.join(EVENT_TYPES)}.",
            field=f"{where}.type",
        )
    problem = _check_offer_and_score(raw, kind, where)
    if problem is not None:
        return problem
    version = raw.get("bundle_version")
    if version is not None and (not is_int(version) or not 1 <= version <= 2**31 - 1):
        return Refusal(
            "invalid_version",
            "'bundle_version' must be a bundle version.",
            field=f"{where}.bundle_version",
        )
    at = _moment(raw.get("at"), now)
    if at is None:
        return Refusal(
            "invalid_time",
            "'at' must be an ISO 8601 date-time such as 2026-03-01T09:30:00Z.",
            field=f"{where}.at",
        )
    if at > now + MAX_FUTURE or at < now - MAX_PAST:
        return Refusal(
            "time_out_of_range",
            f"'at' is {'in the future' if at > now else 'more than 5 years back'}"
            f" ({at.isoformat()}); events are accepted from 5 years back to 1 day "
            "ahead of the studio's clock.",
            field=f"{where}.at",
        )
    payload = raw.get("payload") or {}
    if payload and len(json.dumps(payload)) > MAX_PAYLOAD_BYTES:
        return Refusal(
            "too_long",
            f"'payload' is larger than {MAX_PAYLOAD_BYTES // 1024} KB.",
            field=f"{where}.payload",
        )
    value = outcomes.value_cents(raw, kind, f"{where}.value")
    if isinstance(value, Refusal):
        return value
    score = raw.get("score")
    return EventRow(
        event_id=raw["event_id"],
        type=kind,
        offer_key=raw.get("offer_key") or "",
        rule=raw.get("rule") or "",
        channel=raw.get("channel") or "",
        category=raw.get("category") or "",
        bundle_version=version,
        customer_id=raw.get("customer_id") or "",
        score=float(score) if score is not None else None,
        at=at,
        received_at=now,
        payload=payload,
        decision_id=raw.get("decision_id") or None,
        value_cents=value,
    )


def _well_shaped(raw: Any) -> bool:
    """Whether `raw` passes every check of `_shape_problem` (a quick test for the usual
    event: one pass over its fields; anything else gets the checks, in their order)."""
    if type(raw) is not dict or not raw.keys() <= _ALLOWED:
        return False
    if type(raw.get("event_id")) is not str or type(raw.get("type")) is not str:
        return False
    for name, value in raw.items():
        if value is None:
            continue
        kinds = _TYPES.get(name)
        if kinds is None:  # "value": checked with the amount
            continue
        if type(value) not in kinds:  # exact: bool is not int, a subclass is looked at
            return False
        limit = TEXT_LIMITS.get(name)
        if limit is not None and len(value) > limit:
            return False
    return True


def _shape_problem(raw: Any, where: str) -> Refusal | None:
    """The first problem with `raw`'s fields: unknown or missing ones, JSON types, text
    lengths."""
    problem = check_object(
        raw, where, allowed=_ALLOWED, required=("event_id", "type")
    ) or expect_types(raw, where, _TYPES)
    if problem is not None:
        return problem
    for name in ("event_id", "type"):
        if not isinstance(raw[name], str):
            return Refusal("invalid_type", f"'{name}' must be text.", field=f"{where}.{name}")
    return check_lengths(raw, where, TEXT_LIMITS)


def _check_offer_and_score(raw: Mapping[str, Any], kind: str, where: str) -> Refusal | None:
    if kind in OFFER_EVENTS and not raw.get("offer_key"):
        return Refusal(
            "missing_field",
            f"A '{kind}' event names the offer it is about in 'offer_key'.",
            field=f"{where}.offer_key",
        )
    score = raw.get("score")
    if kind == "nps":
        if score is None:
            return Refusal(
                "missing_field",
                "An 'nps' event carries the answer in 'score' (0 to 10).",
                field=f"{where}.score",
            )
        if not 0 <= score <= 10 or score != int(score):
            return Refusal(
                "invalid_score", "'score' is a whole number from 0 to 10.", field=f"{where}.score"
            )
    elif score is not None:
        return Refusal(
            "unexpected_field", "Only 'nps' events carry a 'score'.", field=f"{where}.score"
        )
    return None


def _moment(value: Any, now: datetime) -> datetime | None:
    if value is None:
        return now
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return moment if 1970 <= moment.year <= 9999 else None
