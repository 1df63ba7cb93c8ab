"""search by date indexes: each interaction filter column with (at, id)

A page of a search by a facet or a customer, newest first, is then the first rows of one
index range instead of a walk of the date index checking every row (or a sort of every
match). The single-column indexes they replace served only equality, which the new ones
serve too.

Revision ID: 0014_search_by_date_indexes
Revises: 0013_event_rollups
Create Date: 2026-12-02 12:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0014_search_by_date_indexes"
down_revision = "0013_event_rollups"
branch_labels = None
depends_on = None

COLUMNS = ("customer_id", "category", "intent", "channel", "tone", "resolution")


def upgrade() -> None:
    for column in COLUMNS:
        op.create_index(f"ix_interactions_{column}_at", "interactions", [column, "at", "id"])
        op.drop_index(f"ix_interactions_{column}", table_name="interactions")


def downgrade() -> None:
    for column in COLUMNS:
        op.create_index(f"ix_interactions_{column}", "interactions", [column])
        op.drop_index(f"ix_interactions_{column}_at", table_name="interactions")
