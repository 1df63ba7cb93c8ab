"""interaction history at scale: a customer-attribute index, FTS kept per batch on SQLite

Revision ID: 0009_history_speed_bulk_search
Revises: 0008_surveys
Create Date: 2026-12-02 06:30:00

`interaction_attributes` holds each interaction's scalar customer attributes (name, value
as text), so the history search's `tier=gold` filter reads an index instead of every
JSON body; existing interactions are indexed here. On SQLite the per-row trigger that
fed the FTS5 index on insert is dropped: `studio.services.interaction_store` inserts a
batch's text into the index with one statement (the delete and update triggers stay).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_history_speed_bulk_search"
down_revision = "0008_surveys"
branch_labels = None
depends_on = None

_INSERT_TRIGGER = (
    "CREATE TRIGGER interactions_fts_insert AFTER INSERT ON interactions "
    "BEGIN INSERT INTO interactions_fts(rowid, text) VALUES (new.id, new.text); END"
)


def upgrade() -> None:
    op.create_table(
        "interaction_attributes",
        sa.Column("name", sa.String(length=41), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("interaction_row", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_row"],
            ["interactions.id"],
            name=op.f("fk_interaction_attributes_interaction_row_interactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "name", "value", "interaction_row", name=op.f("pk_interaction_attributes")
        ),
    )
    with op.batch_alter_table("interaction_attributes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interaction_attributes_interaction_row"),
            ["interaction_row"],
            unique=False,
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "INSERT INTO interaction_attributes (interaction_row, name, value) "
            "SELECT i.id, a.key, a.value FROM interactions i, "
            "json_each_text(CASE WHEN json_typeof(i.body -> 'customer') = 'object' "
            "THEN i.body -> 'customer' ELSE '{}'::json END) a "
            "WHERE a.key <> 'id' AND a.key ~ '^[a-z][a-z0-9_]{0,40}$' "
            "AND json_typeof(i.body -> 'customer' -> a.key) IN ('string', 'number', 'boolean') "
            "AND length(a.value) BETWEEN 1 AND 100 ON CONFLICT DO NOTHING"
        )
    else:
        op.execute("DROP TRIGGER IF EXISTS interactions_fts_insert")
        op.execute(
            "INSERT OR IGNORE INTO interaction_attributes (interaction_row, name, value) "
            "SELECT i.id, a.key, CASE a.type WHEN 'true' THEN 'true' WHEN 'false' "
            "THEN 'false' ELSE CAST(a.atom AS TEXT) END "
            "FROM interactions i, json_each(i.body, '$.customer') a "
            "WHERE json_type(i.body, '$.customer') = 'object' AND a.key <> 'id' "
            "AND a.key GLOB '[a-z]*' AND a.key NOT GLOB '*[^a-z0-9_]*' AND length(a.key) <= 41 "
            "AND a.type IN ('text', 'integer', 'real', 'true', 'false') "
            "AND length(CAST(a.atom AS TEXT)) BETWEEN 1 AND 100"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute(_INSERT_TRIGGER)
    with op.batch_alter_table("interaction_attributes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interaction_attributes_interaction_row"))
    op.drop_table("interaction_attributes")
