"""Alembic is the only way the schema is made: models and migrations must agree."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from studio import migrate
from studio.models import (
    SEARCH_INDEX_COLUMNS,
    SEARCH_INDEX_INDEXES,
    SEARCH_INDEX_TABLES,
    Base,
)

# Migrations open their own connections and change the schema: a real database each.
pytestmark = pytest.mark.committed


def _declared(obj, name, type_, reflected, _compare_to) -> bool:
    """Leave out the full-text search objects no model can declare (see studio.models)."""
    if type_ == "table":
        return name not in SEARCH_INDEX_TABLES
    if type_ == "column":
        return (obj.table.name, name) not in SEARCH_INDEX_COLUMNS
    if type_ == "index":
        return name not in SEARCH_INDEX_INDEXES
    return True


def _diff(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _declared}
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    return diff


def test_models_and_migrations_agree(database_url: str) -> None:
    assert _diff(database_url) == []


def test_upgrade_downgrade_upgrade_round_trips(database_url: str) -> None:
    migrate.downgrade(database_url, "base")
    engine = create_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(database_url)
    assert _diff(database_url) == []
    engine = create_engine(database_url)
    assert {t.name for t in Base.metadata.sorted_tables} <= set(inspect(engine).get_table_names())
    engine.dispose()
