"""Batch statements for the ingest paths, fast on both stores (SQLite, PostgreSQL).

- `execute_rows`: one `INSERT ... ON CONFLICT` for a batch of rows. A unique index, not
  a prior SELECT, decides what is new: the cost per row does not grow with the rows
  stored, and concurrent writers can neither store a row twice nor fail on one
  another's rows.
- `member_of`: `column IN (values)` for a batch of ids.

On PostgreSQL both pass one array parameter per column instead of one placeholder per
value: psycopg parses a statement's placeholders on every execution unless the
statement is short (it caches only those), and parsing 7,000 placeholders cost more than
the insert they were for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, any_, bindparam, func, select
from sqlalchemy import cast as sa_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session


def execute_rows(
    session: Session, table: Table, rows: list[dict[str, Any]], finish: Callable[[Any], Any]
) -> CursorResult[Any]:
    """Insert `rows` (dicts with the same keys) into `table` in one statement, on the
    session's connection; `finish(insert)` adds the `ON CONFLICT` clause and `RETURNING`.

    PostgreSQL gets `INSERT ... SELECT * FROM unnest(:col1, :col2, ...)`, the same
    short text for any number of rows; SQLite an executemany (its driver binds
    parameters without parsing)."""
    connection = session.connection()
    if session.get_bind().dialect.name != "postgresql":
        return connection.execute(finish(sqlite.insert(table)), rows)
    names = list(rows[0])
    arrays = [
        sa_cast(
            bindparam(
                f"u_{name}",
                value=[row[name] for row in rows],
                type_=postgresql.ARRAY(table.c[name].type),
            ),
            postgresql.ARRAY(table.c[name].type),
        )
        for name in names
    ]
    source = func.unnest(*arrays).table_valued(*names).render_derived()
    statement = postgresql.insert(table).from_select(names, select(*(source.c[n] for n in names)))
    return connection.execute(finish(statement))


def member_of(session: Session, column: Any, values: list[Any]) -> Any:
    """`column IN (values)`; on PostgreSQL `column = ANY(:array)`, one parameter."""
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    return column == any_(
        sa_cast(
            bindparam(None, value=values, type_=postgresql.ARRAY(column.type)),
            postgresql.ARRAY(column.type),
        )
    )
