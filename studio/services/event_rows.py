"""One feedback event as ingest checked it, before and after it is stored.

A plain slotted record rather than the `FeedbackEvent` ORM class: ingest builds 500 of
these per request and inserts them with one Core statement, and building ORM instances
(attribute instrumentation, identity map) cost more than the checks themselves. The
attribute names are the `feedback_events` columns, so `as_tuple` gives the insert's row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any, Final

#: The columns an event row is inserted with.
COLUMNS: Final = (
    "event_id",
    "type",
    "offer_key",
    "rule",
    "channel",
    "category",
    "bundle_version",
    "customer_id",
    "score",
    "at",
    "received_at",
    "payload",
    "decision_id",
    "value_cents",
)


@dataclass(slots=True)
class EventRow:
    event_id: str
    type: str
    at: datetime
    received_at: datetime
    offer_key: str = ""
    rule: str = ""
    channel: str = ""
    category: str = ""
    bundle_version: int | None = None
    customer_id: str = ""
    score: float | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    decision_id: str | None = None
    value_cents: int | None = None


#: An event row's values in `COLUMNS` order (one C call per row, no dict).
as_tuple: Final = attrgetter(*COLUMNS)
