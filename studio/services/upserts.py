"""`INSERT ... ON CONFLICT` for the two stores the studio runs on (SQLite, PostgreSQL).

Both dialects spell it the same way in SQL, but SQLAlchemy builds it from a
dialect-specific `insert`; this picks the one for the session's database. Ingest paths
use it so a unique index, not a prior SELECT, decides what is new: the cost per row does
not grow with the rows stored, and concurrent writers can neither store a row twice nor
fail on one another's rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table: Table) -> Any:
    """A dialect `insert(table)` with `.on_conflict_do_nothing` / `.on_conflict_do_update`."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
