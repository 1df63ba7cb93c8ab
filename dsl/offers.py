"""What the rule language needs to know about marketing's offers.

Rules name offers by key; arbitration needs each offer's business value; the
runtime needs its eligibility (an expression in the rule language), validity window
and status. `OfferInfo` carries exactly that, so `dsl` stays independent of the
content library.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dsl.diagnostics import DSLError, make, quote

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*")
STATUSES = ("active", "draft", "paused", "retired")


def _moment(value: Any, where: str, end_of_day: bool) -> float | None:
    """Epoch seconds for a date (start or end of that UTC day) or an ISO date-time."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and len(value) <= 40:
        try:
            if len(value) == 10:
                day = date.fromisoformat(value)
                moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
                return (moment + timedelta(days=1) if end_of_day else moment).timestamp()
            parsed = datetime.fromisoformat(value)
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
        except ValueError:
            pass
    raise DSLError([make("E303", f"{where}: {quote(str(value))} is not a date such as 2026-11-20")])


@dataclass(frozen=True)
class OfferInfo:
    """One offer as the rules see it.

    `eligible_when` is an eligibility expression: its source text, or the IR from
    `check_expression(...).ir`. `valid_from` / `valid_to` are inclusive dates (or
    date-times); the offer is valid from the start of `valid_from` to the end of
    `valid_to`, in UTC.
    """

    key: str
    value: float = 0.0
    eligible_when: str | Mapping[str, Any] | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    status: str = "active"

    def __post_init__(self) -> None:
        where = f"offer {self.key!r}"[:80]
        if not isinstance(self.key, str) or not _KEY.fullmatch(self.key) or len(self.key) > 200:
            raise DSLError(
                [
                    make(
                        "E303",
                        f"{quote(str(self.key))} is not an offer key (letters, digits, _ and -)",
                    )
                ]
            )
        if (
            isinstance(self.value, bool)
            or not isinstance(self.value, int | float)
            or self.value != self.value
            or abs(self.value) > 1e15
        ):
            raise DSLError([make("E303", f"{where}: `value` must be a number")])
        if self.status not in STATUSES:
            raise DSLError(
                [
                    make(
                        "E303",
                        f"{where}: status {quote(str(self.status))} is not one of {', '.join(STATUSES)}",
                    )
                ]
            )
        start = _moment(self.valid_from, f"{where}: valid_from", end_of_day=False)
        end = _moment(self.valid_to, f"{where}: valid_to", end_of_day=True)
        if start is not None and end is not None and end <= start:
            raise DSLError([make("E303", f"{where}: valid_to is before valid_from")])
        if self.eligible_when is not None and not isinstance(self.eligible_when, str | Mapping):
            raise DSLError([make("E303", f"{where}: eligible_when must be an expression")])
        object.__setattr__(self, "_window", (start, end))

    @property
    def window(self) -> tuple[float | None, float | None]:
        """(start, end) in epoch seconds; end is exclusive."""
        window: tuple[float | None, float | None] = self.__dict__["_window"]
        return window

    def valid_at(self, moment: float | None) -> bool:
        start, end = self.window
        if start is None and end is None:
            return True
        if moment is None:
            return False
        return (start is None or moment >= start) and (end is None or moment < end)

    @classmethod
    def from_dict(cls, data: Any) -> OfferInfo:
        """Read one entry of an offers file; raise `DSLError` (E303) on bad input."""
        if not isinstance(data, Mapping) or "key" not in data:
            raise DSLError(
                [make("E303", "an offer must be an object with at least `key` and `value`")]
            )
        value = data.get("value", 0)
        return cls(
            key=data["key"],
            value=value,
            eligible_when=data.get("eligible_when"),
            valid_from=data.get("valid_from"),
            valid_to=data.get("valid_to"),
            status=data.get("status", "active") or "active",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "eligible_when": self.eligible_when,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "status": self.status,
        }


def offer_catalog(offers: Mapping[str, OfferInfo] | Iterable[Any]) -> dict[str, OfferInfo]:
    """Offers by key from a mapping of `OfferInfo` or a list of dicts / `OfferInfo`."""
    if isinstance(offers, Mapping):
        out = {}
        for key, info in offers.items():
            out[key] = info if isinstance(info, OfferInfo) else OfferInfo.from_dict(info)
        return out
    catalog: dict[str, OfferInfo] = {}
    for entry in offers:
        info = entry if isinstance(entry, OfferInfo) else OfferInfo.from_dict(entry)
        if info.key in catalog:
            raise DSLError([make("E303", f"the offer `{info.key}` is listed twice")])
        catalog[info.key] = info
    return catalog
