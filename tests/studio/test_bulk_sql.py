"""Rows written on the driver's cursor (`bulk_sql`) are stored exactly as the ORM stores them.

`/api/v1/decide` logs each decision with one plain INSERT, and ingest stores batches the
same way; every page and export reads those rows back through the ORM, so the stored
values (SQLite's text for times and JSON included) must be the ORM's, for one row and
for many.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import JSON, Table, select, text

from studio.models import Decision
from studio.services import bulk_sql

TABLE = cast(Table, Decision.__table__)
COLUMNS = tuple(column.key for column in TABLE.columns)


def _decision(id_: str, **extra: Any) -> Decision:
    values: dict[str, Any] = {
        "id": id_,
        "source": "studio",
        "bundle_version": 3,
        "bundle_digest": "d" * 64,
        "channel": "email",
        "category": "transactional",
        "tone": "neutral",
        "customer_hash": "h" * 64,
        "customer_id": None,
        "rules": [{"ruleset": "retail", "rule": "Overdraft “quoted”"}],
        "offers": [{"offer": "overdraft_protection", "value": 12.5}],
        "guards": [],
        "holdouts": [{"rule": "r", "arm": "holdout"}],
        "withheld": [],
        "trace": None,
        "gating": {"released": []},
        "decided_at": datetime(2026, 3, 2, 10, 15, 0, 123456, tzinfo=UTC),
        "received_at": datetime(2026, 3, 2, 10, 15, 1, tzinfo=UTC),
    }
    values.update(extra)
    return Decision(**values)


def _stored(session, id_: str) -> tuple[Any, ...]:
    """The row as the database holds it. A JSON column's None is SQL NULL here and the
    text 'null' from the ORM on SQLite: both read back as None, so they count as one."""
    names = [c for c in COLUMNS if c != "id"]
    row = session.execute(
        text(f"SELECT {', '.join(names)} FROM decisions WHERE id = :i"), {"i": id_}
    ).one()
    json_columns = {c.key for c in TABLE.columns if isinstance(c.type, JSON)}
    return tuple(
        None if name in json_columns and value == "null" else value
        for name, value in zip(names, row, strict=True)
    )


@pytest.mark.parametrize("rows", [1, 3], ids=["one-row", "several-rows"])
def test_rows_inserted_on_the_drivers_cursor_are_stored_as_the_orm_stores_them(
    session, rows: int
) -> None:
    session.add(_decision("orm-0"))
    session.flush()
    mine = [_decision(f"bulk-{n}") for n in range(rows)]
    stored = bulk_sql.execute_rows(
        session,
        TABLE,
        [{name: getattr(row, name) for name in COLUMNS} for row in mine],
        conflict=("id",),
        returning="id",
    )
    assert sorted(stored) == [f"bulk-{n}" for n in range(rows)]
    expected = _stored(session, "orm-0")
    for n in range(rows):
        assert _stored(session, f"bulk-{n}") == expected
    read = session.scalars(select(Decision).where(Decision.id == "bulk-0")).one()
    assert read.rules == mine[0].rules and read.gating == {"released": []}
    assert read.decided_at.replace(tzinfo=UTC) == mine[0].decided_at


def test_a_row_whose_key_is_stored_already_is_skipped_and_not_returned(session) -> None:
    row = {name: getattr(_decision("again"), name) for name in COLUMNS}
    assert bulk_sql.execute_rows(session, TABLE, [row], conflict=("id",), returning="id") == [
        "again"
    ]
    assert bulk_sql.execute_rows(session, TABLE, [row], conflict=("id",), returning="id") == []
