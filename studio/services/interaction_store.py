"""Storing checked interactions in bulk: what the file import and the API ingestion share.

A batch is one statement, not one per row, and the search indexes are kept in step per
batch, not per row:

- SQLite: one `executemany` of `INSERT ... ON CONFLICT (interaction_id) DO NOTHING`. SQLite
  has one writer at a time, so the rows this batch stored are exactly those whose id is
  above the table's largest id before it; their text goes into the FTS5 index with one
  `INSERT ... SELECT` (migration 0009 dropped the per-row trigger, which cost about three
  times as much).
- PostgreSQL: `COPY` into a temporary table, then one `INSERT ... SELECT ... ON CONFLICT
  DO NOTHING RETURNING`; the generated `search_vector` column is filled by the server.

Either way a duplicate (an id stored already, or earlier in the batch) is left out by the
unique index, never an error, and the caller learns which ids were stored. Each stored
interaction's scalar customer attributes go into `interaction_attributes`, the index the
history search's `tier=gold` filter reads instead of scanning the JSON bodies, and the
batch's counts per day and facet values are added to `interaction_facet_counts`, from
which a search by facets and dates alone is counted. Deleting goes through
`delete_where`, which takes those counts down again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final, cast

from sqlalchemy import ColumnElement, Connection, Date, Table, delete, func, select
from sqlalchemy import cast as cast_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from studio.models import (
    Interaction,
    InteractionAttribute,
    InteractionAttributeCount,
    InteractionFacetCount,
)
from studio.services.interaction_rows import Row

_COLUMNS: Final = (
    "interaction_id",
    "customer_id",
    "at",
    "category",
    "intent",
    "channel",
    "tone",
    "resolution",
    "text",
    "body",
    "import_id",
    "redacted",
)
_STAGE: Final = "interactions_stage"


def store(
    session: Session, rows: Sequence[Row], *, import_id: int | None, redacted: bool
) -> set[str]:
    """Insert the rows whose interaction ids are new; the interaction ids stored."""
    unique: dict[str, Row] = {}
    for row in rows:
        unique.setdefault(row.interaction_id, row)
    if not unique:
        return set()
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        stored = _store_postgresql(connection, list(unique.values()), import_id, redacted)
    else:
        stored = _store_sqlite(connection, list(unique.values()), import_id, redacted)
    _store_attributes(connection, stored, unique)
    ids = set(stored.values())
    kept = [row for row in unique.values() if row.interaction_id in ids]
    add_counts(session, Counter(_facet_key(row) for row in kept))
    add_counts(
        session,
        Counter((name, value, *_facet_key(row)) for row in kept for name, value in row.attributes),
        attributes=True,
    )
    return ids


_FACET_COLUMNS: Final = ("category", "intent", "channel", "tone", "resolution")


def _facet_key(row: Row) -> tuple[Any, ...]:
    return (row.at.date(), row.category, row.intent, row.channel, row.tone, row.resolution)


def add_counts(
    session: Session, counts: Mapping[tuple[Any, ...], int], *, attributes: bool = False
) -> None:
    """Add `counts` (negative to take away) to `interaction_facet_counts`, keyed by
    (day, the five facets), or with `attributes` to `interaction_attribute_counts`, keyed
    by (name, value, day, the five facets)."""
    if not counts:
        return
    model = InteractionAttributeCount if attributes else InteractionFacetCount
    table = cast(Table, model.__table__)
    keys = ("name", "value", "day", *_FACET_COLUMNS) if attributes else ("day", *_FACET_COLUMNS)
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_={"n": table.c.n + statement.excluded.n}
    )
    session.execute(
        statement, [dict(zip(keys, key, strict=True), n=n) for key, n in counts.items()]
    )
    if any(n < 0 for n in counts.values()):
        session.execute(table.delete().where(table.c.n <= 0))


def delete_where(session: Session, *where: ColumnElement[bool]) -> int:
    """Delete the interactions matching `where` (their attributes go with them, and the
    counts are taken down); how many were deleted."""
    columns = [getattr(Interaction, name) for name in _FACET_COLUMNS]
    if session.get_bind().dialect.name == "postgresql":
        day: Any = cast_(func.timezone("UTC", Interaction.at), Date)
    else:
        day = func.date(Interaction.at)

    def taken(*extra: Any, joined: bool = False) -> dict[tuple[Any, ...], int]:
        query = select(*extra, day, *columns, func.count()).where(*where)
        if joined:
            query = query.join(
                InteractionAttribute, InteractionAttribute.interaction_row == Interaction.id
            )
        out: dict[tuple[Any, ...], int] = {}
        for found in session.execute(query.group_by(*extra, day, *columns)):
            *key, n = found
            at = key[len(extra)]
            key[len(extra)] = at if isinstance(at, date) else date.fromisoformat(str(at))
            out[tuple(key)] = -int(n)
        return out

    facets = taken()
    attributes = taken(InteractionAttribute.name, InteractionAttribute.value, joined=True)
    result = session.execute(delete(Interaction).where(*where))
    add_counts(session, facets)
    add_counts(session, attributes, attributes=True)
    return int(getattr(result, "rowcount", 0) or 0)


def _values(row: Row, import_id: int | None, redacted: bool) -> tuple[Any, ...]:
    return (
        row.interaction_id,
        row.customer_id,
        row.at,
        row.category,
        row.intent,
        row.channel,
        row.tone,
        row.resolution,
        row.text,
        row.body_json,
        import_id,
        redacted,
    )


def _store_sqlite(
    connection: Connection, rows: list[Row], import_id: int | None, redacted: bool
) -> dict[int, str]:
    """Stored rows as {row id: interaction id}."""
    dialect = connection.dialect
    table = Interaction.__table__
    at = table.c.at.type.dialect_impl(dialect).bind_processor(dialect)
    flag = table.c.redacted.type.dialect_impl(dialect).bind_processor(dialect)
    redacted_value = flag(redacted) if flag else redacted
    before = connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM interactions").scalar()
    params = []
    for row in rows:
        values = list(_values(row, import_id, redacted))
        values[2] = at(row.at) if at else row.at
        values[11] = redacted_value
        params.append(tuple(values))
    connection.exec_driver_sql(
        f"INSERT INTO interactions ({', '.join(_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in _COLUMNS)}) "
        "ON CONFLICT (interaction_id) DO NOTHING",
        params,
    )
    connection.exec_driver_sql(
        "INSERT INTO interactions_fts(rowid, text) SELECT id, text FROM interactions WHERE id > ?",
        (before,),
    )
    return dict(
        connection.exec_driver_sql(
            "SELECT id, interaction_id FROM interactions WHERE id > ?", (before,)
        ).all()
    )


def _store_postgresql(
    connection: Connection, rows: list[Row], import_id: int | None, redacted: bool
) -> dict[int, str]:
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} (ord integer, interaction_id text, "
        "customer_id text, at timestamptz, category text, intent text, channel text, "
        "tone text, resolution text, text text, body text, import_id integer, "
        "redacted boolean) ON COMMIT DELETE ROWS"
    )
    connection.exec_driver_sql(f"DELETE FROM {_STAGE}")
    driver = connection.connection.driver_connection
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {_STAGE} (ord, {', '.join(_COLUMNS)}) FROM STDIN") as copy,
    ):
        for ordinal, row in enumerate(rows):
            copy.write_row((ordinal, *_values(row, import_id, redacted)))
    columns = ", ".join(_COLUMNS)
    selected = ", ".join("CAST(body AS json)" if c == "body" else c for c in _COLUMNS)
    return dict(
        connection.exec_driver_sql(
            f"INSERT INTO interactions ({columns}) SELECT {selected} FROM {_STAGE} "
            "ORDER BY ord ON CONFLICT (interaction_id) DO NOTHING "
            "RETURNING id, interaction_id"
        ).all()
    )


def _store_attributes(connection: Connection, stored: dict[int, str], rows: dict[str, Row]) -> None:
    params = [
        (row_id, name, value)
        for row_id, interaction_id in stored.items()
        for name, value in rows[interaction_id].attributes
    ]
    if not params:
        return
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        with (
            driver.cursor() as cursor,
            cursor.copy(
                "COPY interaction_attributes (interaction_row, name, value) FROM STDIN"
            ) as copy,
        ):
            for item in params:
                copy.write_row(item)
        return
    connection.exec_driver_sql(
        "INSERT INTO interaction_attributes (interaction_row, name, value) VALUES (?, ?, ?)",
        params,
    )
