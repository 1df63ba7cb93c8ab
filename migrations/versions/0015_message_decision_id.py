"""messages keep the id of the decision that opened them

The events the customer's page records (shown, accepted / declined, complaint, NPS)
name this decision in `decision_id`, so the decision page, attribution and the lift
count them. Messages opened before keep no id (NULL): their events name no decision.

Revision ID: 0015_message_decision_id
Revises: 0014_search_by_date_indexes
Create Date: 2026-12-02 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_message_decision_id"
down_revision = "0014_search_by_date_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_id", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_messages_decision_id"), ["decision_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_decision_id"))
        batch_op.drop_column("decision_id")
