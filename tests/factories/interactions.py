"""Interaction history: rows as a contact centre would export them, and files of them."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

INTENTS = ("order_checkbook", "report_stolen_card", "online_banking_access", "refill")
CHANNELS = ("chat", "phone", "email", "sms", "web")


def interaction(
    n: int,
    *,
    text: str | None = None,
    days_ago: float | None = None,
    now: datetime | None = None,
    **customer: Any,
) -> dict[str, Any]:
    """The n-th interaction of a varied, deterministic history."""
    moment = (now or datetime(2026, 11, 30, 12, tzinfo=UTC)) - timedelta(
        days=days_ago if days_ago is not None else n % 60, minutes=n % 1440
    )
    return {
        "id": f"i-{n}",
        "at": moment.isoformat().replace("+00:00", "Z"),
        "inquiry": {
            "category": "transactional" if n % 3 else "diagnostic",
            "intent": INTENTS[n % len(INTENTS)],
            "channel": CHANNELS[n % len(CHANNELS)],
            "resolution": "confirmed" if n % 4 else "proposed",
            "text": text
            if text is not None
            else f"Contact number {n} about my {INTENTS[n % len(INTENTS)].replace('_', ' ')}",
        },
        "customer": {
            "id": f"c-{n % 97}",
            "authenticated": True,
            "tier": ("gold", "silver", "basic")[n % 3],
            "state": "CA",
            "products": ["checking"],
            **customer,
        },
    }


def history(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [interaction(n) for n in range(start, start + count)]


def write_jsonl(
    path: Path, rows: Iterable[dict[str, Any] | str], *, gz: bool = False, newline: str = "\n"
) -> Path:
    data = "".join((r if isinstance(r, str) else json.dumps(r)) + newline for r in rows)
    path.write_bytes(gzip.compress(data.encode()) if gz else data.encode())
    return path


CSV_COLUMNS = (
    "id",
    "at",
    "inquiry.category",
    "inquiry.intent",
    "inquiry.channel",
    "inquiry.resolution",
    "inquiry.text",
    "customer.id",
    "customer.tier",
    "customer.products",
)


def csv_text(rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row["id"],
                row["at"],
                row["inquiry"]["category"],
                row["inquiry"]["intent"],
                row["inquiry"]["channel"],
                row["inquiry"]["resolution"],
                row["inquiry"]["text"],
                row["customer"]["id"],
                row["customer"]["tier"],
                ";".join(row["customer"]["products"]),
            ]
        )
    return out.getvalue()
