"""interaction history at scale: customer-attribute index, facet counts, FTS per batch

Revision ID: 0010_history_speed_bulk_search
Revises: 0008_surveys
Create Date: 2026-12-02 06:30:00

`interaction_attributes` holds each interaction's scalar customer attributes (name, value
as text), so the history search's `tier=gold` filter reads an index instead of every
JSON body; `interaction_facet_counts` counts interactions per day and facet values, so a
search by facets and dates alone counts from it; both are filled for existing rows here. On SQLite the per-row trigger that
fed the FTS5 index on insert is dropped: `studio.services.interaction_store` inserts a
batch's text into the index with one statement (the delete and update triggers stay).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_history_speed_bulk_search"
down_revision = "0009_gated_offers_pending"
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
    op.create_table(
        "interaction_facet_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("tone", sa.String(length=32), nullable=False),
        sa.Column("resolution", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "category",
            "intent",
            "channel",
            "tone",
            "resolution",
            name=op.f("pk_interaction_facet_counts"),
        ),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    day = "CAST(timezone('UTC', at) AS date)" if postgresql else "date(at)"
    op.execute(
        "INSERT INTO interaction_facet_counts (day, category, intent, channel, tone, "
        f"resolution, n) SELECT {day}, category, intent, channel, tone, resolution, "
        f"count(*) FROM interactions GROUP BY {day}, category, intent, channel, tone, "
        "resolution"
    )
    if postgresql:
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
    op.create_table(
        "interaction_attribute_counts",
        sa.Column("name", sa.String(length=41), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("tone", sa.String(length=32), nullable=False),
        sa.Column("resolution", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "name",
            "value",
            "day",
            "category",
            "intent",
            "channel",
            "tone",
            "resolution",
            name=op.f("pk_interaction_attribute_counts"),
        ),
    )
    op.execute(
        "INSERT INTO interaction_attribute_counts (name, value, day, category, intent, "
        f"channel, tone, resolution, n) SELECT a.name, a.value, {day}, category, intent, "
        "channel, tone, resolution, count(*) FROM interaction_attributes a JOIN "
        "interactions ON interactions.id = a.interaction_row GROUP BY a.name, a.value, "
        f"{day}, category, intent, channel, tone, resolution"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute(_INSERT_TRIGGER)
    op.drop_table("interaction_attribute_counts")
    op.drop_table("interaction_facet_counts")
    with op.batch_alter_table("interaction_attributes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interaction_attributes_interaction_row"))
    op.drop_table("interaction_attributes")
