"""Storing checked interactions in bulk: what the file import and the API ingestion share.

A batch travels to the database as one JSON document (`prepare`), which the database
unpacks in its own code, and is stored with one statement per table, not one per row:

- SQLite: `INSERT ... SELECT ... FROM json_each(?) ON CONFLICT (interaction_id) DO
  NOTHING`. SQLite has one writer at a time, so the rows this batch stored are exactly
  those whose id is above the table's largest id before it; their text goes into the
  FTS5 index, and their customer attributes into `interaction_attributes`, each with one
  `INSERT ... SELECT` (migration 0009 dropped the per-row FTS trigger, which cost about
  three times as much).
- PostgreSQL: one statement, `INSERT ... SELECT ... FROM json_array_elements(...) ON
  CONFLICT DO NOTHING RETURNING`, with the attributes of the rows it returned inserted in
  the same statement; the generated `search_vector` column is filled by the server.

Either way a duplicate (an id stored already, or earlier in the batch) is left out by the
unique index, never an error, and the caller learns which ids were stored. Each stored
interaction's scalar customer attributes go into `interaction_attributes`, the index the
history search's `tier=gold` filter reads instead of scanning the JSON bodies, and the
batch's counts per day and facet values are added to `interaction_facet_counts`, from
which a search by facets and dates alone is counted. Deleting goes through
`delete_where`, which takes those counts down again.

Why one document: a statement run once per bound row (`executemany`, COPY's rows) takes
Python's interpreter lock back for every row, so an import could not prepare its next
batch on another thread while the database stored this one (the thread waiting for the
lock made each row wait for the other's time slice). One call into the database leaves
the lock free for the whole statement.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, cast

from sqlalchemy import ColumnElement, Connection, Date, Dialect, Table, delete, func, select
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


@dataclass(frozen=True)
class Prepared:
    """A batch ready for the database: its rows (unique by interaction id) and the same
    rows as one JSON document, which the database unpacks itself (SQLite's `json_each`,
    PostgreSQL's `json_array_elements`): the statement that stores a batch is one call
    into the database's own code, not one bound row at a time, so it runs without
    Python's interpreter lock and an import prepares its next batch meanwhile."""

    rows: tuple[Row, ...]
    #: [[interaction_id, customer_id, at, category, ..., body, import_id, redacted], ...]
    document: str
    #: [[interaction_id, name, value], ...]: every row's indexed customer attributes.
    attributes: str


def prepare(
    rows: Sequence[Row], *, import_id: int | None, redacted: bool, dialect: Dialect
) -> Prepared:
    """The batch of `rows` as the database stores it (safe to run off the main thread)."""
    unique: dict[str, Row] = {}
    for row in rows:
        unique.setdefault(row.interaction_id, row)
    stamp = _stamp(dialect)
    flag = int(redacted) if dialect.name == "sqlite" else redacted
    document = _dumps(
        [
            (
                row.interaction_id,
                row.customer_id,
                stamp(row.at),
                row.category,
                row.intent,
                row.channel,
                row.tone,
                row.resolution,
                row.text,
                row.body_json or _dumps(row.body),
                import_id,
                flag,
            )
            for row in unique.values()
        ]
    )
    attributes = _dumps(
        [
            (row.interaction_id, name, value)
            for row in unique.values()
            for name, value in row.attributes
        ]
    )
    return Prepared(tuple(unique.values()), document, attributes)


def store(
    session: Session, rows: Sequence[Row], *, import_id: int | None, redacted: bool
) -> set[str]:
    """Insert the rows whose interaction ids are new; the interaction ids stored."""
    dialect = session.get_bind().dialect
    return store_prepared(
        session, prepare(rows, import_id=import_id, redacted=redacted, dialect=dialect)
    )


def store_prepared(session: Session, batch: Prepared) -> set[str]:
    """Store a prepared batch; the interaction ids stored (a duplicate is left out)."""
    if not batch.rows:
        return set()
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        ids = _store_postgresql(connection, batch)
    else:
        ids = _store_sqlite(connection, batch)
    kept = (
        batch.rows
        if len(ids) == len(batch.rows)
        else [row for row in batch.rows if row.interaction_id in ids]
    )
    add_counts(session, Counter(_facet_key(row) for row in kept))
    add_counts(
        session,
        Counter((name, value, *_facet_key(row)) for row in kept for name, value in row.attributes),
        attributes=True,
    )
    return ids


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _stamp(dialect: Dialect) -> Callable[[datetime], Any]:
    """How the dialect stores a date-time as text: SQLite's own format (its DATETIME
    type's), ISO 8601 with the offset for PostgreSQL's timestamptz."""
    if dialect.name == "postgresql":
        return datetime.isoformat
    process = Interaction.__table__.c.at.type.dialect_impl(dialect).bind_processor(dialect)
    assert process is not None
    return cast(Callable[[datetime], Any], process)


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


_SELECTED: Final = ", ".join(f"value ->> {n}" for n in range(len(_COLUMNS)))


def _store_sqlite(connection: Connection, batch: Prepared) -> set[str]:
    """SQLite has one writer at a time: the rows this batch stored are those with an id
    above the table's largest before it."""
    before = connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM interactions").scalar()
    # `WHERE true` tells SQLite's parser the ON CONFLICT belongs to the INSERT.
    connection.exec_driver_sql(
        f"INSERT INTO interactions ({', '.join(_COLUMNS)}) SELECT {_SELECTED} "
        "FROM json_each(?) WHERE true ON CONFLICT (interaction_id) DO NOTHING",
        (batch.document,),
    )
    connection.exec_driver_sql(
        "INSERT INTO interactions_fts(rowid, text) SELECT id, text FROM interactions WHERE id > ?",
        (before,),
    )
    connection.exec_driver_sql(
        "INSERT INTO interaction_attributes (interaction_row, name, value) "
        "SELECT i.id, a.value ->> 1, a.value ->> 2 FROM json_each(?) AS a "
        "JOIN interactions AS i ON i.interaction_id = a.value ->> 0 WHERE i.id > ?",
        (batch.attributes, before),
    )
    return set(
        connection.exec_driver_sql(
            "SELECT interaction_id FROM interactions WHERE id > ?", (before,)
        ).scalars()
    )


def _store_postgresql(connection: Connection, batch: Prepared) -> set[str]:
    """One statement: the batch's rows, then the attributes of those it stored (a
    data-changing WITH reads what the insert before it returned)."""
    selected = ", ".join(
        f"CAST(e ->> {n} AS {_PG_TYPES.get(name, 'text')})" for n, name in enumerate(_COLUMNS)
    )
    return set(
        connection.exec_driver_sql(
            f"WITH stored AS (INSERT INTO interactions ({', '.join(_COLUMNS)}) "
            f"SELECT {selected} FROM json_array_elements(CAST(%s AS json)) "
            "WITH ORDINALITY AS batch(e, o) ORDER BY o "
            "ON CONFLICT (interaction_id) DO NOTHING RETURNING id, interaction_id), "
            "attributes AS (INSERT INTO interaction_attributes (interaction_row, name, value) "
            "SELECT stored.id, a ->> 1, a ->> 2 FROM json_array_elements(CAST(%s AS json)) AS a "
            "JOIN stored ON stored.interaction_id = a ->> 0) "
            "SELECT interaction_id FROM stored",
            (batch.document, batch.attributes),
        ).scalars()
    )


_PG_TYPES: Final = {
    "at": "timestamptz",
    "body": "json",
    "import_id": "integer",
    "redacted": "boolean",
}
