"""Batch statements for the ingest paths, fast on both stores (SQLite, PostgreSQL).

- `execute_rows`: one `INSERT ... ON CONFLICT` for a batch of rows. A unique index, not
  a prior SELECT, decides what is new: the cost per row does not grow with the rows
  stored, and concurrent writers can neither store a row twice nor fail on one
  another's rows. `execute_columns` does the same with the rows given column by column.
- `member_of`: `column IN (values)` for a batch of ids.

On PostgreSQL both pass one array parameter per column instead of one placeholder per
value: psycopg parses a statement's placeholders on every execution unless the
statement is short (it caches only those), and parsing 7,000 placeholders cost more than
the insert they were for. `execute_rows` sends its arrays in binary (no text quoting of
each element) straight to the driver's cursor, bypassing SQLAlchemy's per-row parameter
processing, which cost more than the database's own work on a batch of 500 events.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Final

from sqlalchemy import JSON, Date, DateTime, Integer, String, Table, any_, bindparam
from sqlalchemy import cast as sa_cast
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session


def execute_rows(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    conflict: tuple[str, ...],
    add: tuple[str, ...] = (),
    returning: str | None = None,
) -> list[Any]:
    """Insert `rows` (dicts with the same keys) into `table`, on the session's connection:
    `INSERT ... ON CONFLICT (conflict) DO NOTHING`, or with `add`, `DO UPDATE SET n = n +
    excluded.n` for each column in `add`. With `returning`, the values of that column of
    the rows inserted (not of those the conflict skipped). `execute_columns` does it."""
    if not rows:
        return []
    names = tuple(rows[0])
    return execute_columns(
        session,
        table,
        names,
        [[row[name] for row in rows] for name in names],
        conflict=conflict,
        add=add,
        returning=returning,
    )


def execute_columns(
    session: Session,
    table: Table,
    names: tuple[str, ...],
    columns: list[list[Any]],
    *,
    conflict: tuple[str, ...],
    add: tuple[str, ...] = (),
    returning: str | None = None,
) -> list[Any]:
    """`execute_rows` with the rows given column by column: `columns[i]` holds every
    row's value of `names[i]` (ingest builds its events this way, without a dict each).

    The statement text is built once per table and columns and sent to the driver's
    cursor with plain tuples: SQLAlchemy's per-row parameter processing cost more than
    the insert. PostgreSQL gets `INSERT ... SELECT * FROM unnest(%b::type[], ...)` with
    one binary array per column, the same short text for any number of rows; SQLite an
    executemany, or with `returning` multi-row `VALUES` (its `executemany` returns no
    rows), its parameters converted by the columns' own SQLAlchemy types so the stored
    text is what the ORM writes. A JSON column's empty objects (most events' payload)
    are serialised once per batch."""
    if not columns or not columns[0]:
        return []
    connection = session.connection()
    dialect = connection.dialect
    cursor = connection.connection.cursor()
    try:
        if dialect.name == "postgresql":
            json_columns = _json_positions(table, names)
            if len(columns[0]) == 1:  # one row (a decision /decide logs): plain values
                values = [column[0] for column in columns]
                for position in json_columns:
                    if values[position] is not None:
                        values[position] = json.dumps(values[position])
                cursor.execute(
                    _postgres_sql(table, names, conflict, add, returning, one_row=True), values
                )
                return [r[0] for r in cursor.fetchall()] if returning else []
            sql = _postgres_sql(table, names, conflict, add, returning)
            arrays = list(columns)
            for position in json_columns:
                arrays[position] = _each_json(json.dumps, arrays[position])
            cursor.execute(sql, arrays)
            return [r[0] for r in cursor.fetchall()] if returning else []
        converters = _sqlite_converters(table, names, dialect)
        if len(columns[0]) == 1:  # one row (a decision /decide logs): no memo to build
            values = [
                tuple(
                    value if convert is None or value is None else convert(value)
                    for (convert, _), (value,) in zip(converters, columns, strict=True)
                )
            ]
        else:
            columns = list(columns)
            for position, (convert, hashable) in enumerate(converters):
                if convert is None:
                    continue
                if isinstance(table.c[names[position]].type, JSON):
                    columns[position] = _each_json(convert, columns[position])
                else:
                    columns[position] = _each(convert, columns[position], hashable=hashable)
            values = list(zip(*columns, strict=True))
        if returning is None:
            cursor.executemany(_sqlite_sql(table, names, conflict, add, None, 1), values)
            return []
        found: list[Any] = []
        per = max(1, _SQLITE_PARAMETERS // len(names))
        for start in range(0, len(values), per):
            chunk = values[start : start + per]
            cursor.execute(
                _sqlite_sql(table, names, conflict, add, returning, len(chunk)),
                [v for row in chunk for v in row],
            )
            found += [r[0] for r in cursor.fetchall()]
        return found
    finally:
        cursor.close()


def _each(convert: Any, values: list[Any], *, hashable: bool) -> list[Any]:
    """`convert` each value (None stays None), once per distinct value where the values
    hash (a batch's moments repeat: `received_at`)."""
    if hashable:
        memo = {v: convert(v) for v in set(values) if v is not None}
        return [None if v is None else memo[v] for v in values]
    return [None if v is None else convert(v) for v in values]


def _each_json(convert: Any, values: list[Any]) -> list[Any]:
    """`_each` for a JSON column: its empty objects (most events' payload) once."""
    empty = convert({})
    return [
        None if v is None else empty if type(v) is dict and not v else convert(v) for v in values
    ]


#: Parameters per SQLite statement (its limit is 32,766 since 3.32): 500 events of 14
#: columns go in one statement.
_SQLITE_PARAMETERS: Final = 7000


def _conflict_clause(conflict: tuple[str, ...], add: tuple[str, ...], table: str) -> str:
    target = ", ".join(f'"{c}"' for c in conflict)
    if not add:
        return f"ON CONFLICT ({target}) DO NOTHING"
    sets = ", ".join(f'"{c}" = {table}."{c}" + excluded."{c}"' for c in add)
    return f"ON CONFLICT ({target}) DO UPDATE SET {sets}"


@functools.cache
def _postgres_sql(
    table: Table,
    names: tuple[str, ...],
    conflict: tuple[str, ...],
    add: tuple[str, ...],
    returning: str | None,
    *,
    one_row: bool = False,
) -> str:
    """`INSERT ... SELECT ... FROM unnest(arrays)`, one array per column; for `one_row`,
    `VALUES` with one typed placeholder per column instead: arrays of one element cost
    more to build and unpack than the row's own insert (psycopg dumps each array in
    Python), and `/api/v1/decide` sends three such rows per decision."""
    dialect = postgresql.dialect()
    columns = ", ".join(f'"{n}"' for n in names)
    types = [
        "json" if isinstance(table.c[n].type, JSON) else table.c[n].type.compile(dialect=dialect)
        for n in names
    ]
    if one_row:
        rows = f"VALUES ({', '.join(f'%s::{t}' for t in types)})"
    else:
        arrays = ", ".join("%b::text[]" if t == "json" else f"%b::{t}[]" for t in types)
        picks = ", ".join(
            f'u."{n}"::json' if t == "json" else f'u."{n}"'
            for n, t in zip(names, types, strict=True)
        )
        rows = f"SELECT {picks} FROM unnest({arrays}) AS u({columns})"
    sql = f'INSERT INTO "{table.name}" ({columns}) {rows} ' + _conflict_clause(
        conflict, add, f'"{table.name}"'
    )
    return sql + (f' RETURNING "{returning}"' if returning else "")


@functools.cache
def _json_positions(table: Table, names: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(i for i, n in enumerate(names) if isinstance(table.c[n].type, JSON))


@functools.cache
def _sqlite_sql(
    table: Table,
    names: tuple[str, ...],
    conflict: tuple[str, ...],
    add: tuple[str, ...],
    returning: str | None,
    count: int,
) -> str:
    row = "(" + ", ".join("?" for _ in names) + ")"
    columns = ", ".join(f'"{n}"' for n in names)
    sql = (
        f'INSERT INTO "{table.name}" ({columns}) VALUES {", ".join([row] * count)} '
        + _conflict_clause(conflict, add, f'"{table.name}"')
    )
    return sql + (f' RETURNING "{returning}"' if returning else "")


@functools.cache
def _sqlite_converters(
    table: Table, names: tuple[str, ...], dialect: Any
) -> list[tuple[Any, bool]]:
    """Per column: its type's bind processor (or None), and whether its values hash."""
    return [
        (
            table.c[n].type._cached_bind_processor(dialect),
            isinstance(table.c[n].type, DateTime | Date | String | Integer),
        )
        for n in names
    ]


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
