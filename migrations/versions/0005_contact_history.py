"""per-customer contact history: offers made and outcome events, for caps and suppression

Revision ID: 0005_contact_history
Revises: 0004_messages
Create Date: 2026-12-02 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_contact_history"
down_revision = "0007_interactions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("offer_key", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("decision_id", sa.String(length=100), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_history")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_contact_history_dedupe_key")),
    )
    with op.batch_alter_table("contact_history", schema=None) as batch_op:
        batch_op.create_index("ix_contact_history_customer_at", ["customer_id", "at"], unique=False)
        batch_op.create_index("ix_contact_history_offer_at", ["offer_key", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contact_history", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_history_offer_at")
        batch_op.drop_index("ix_contact_history_customer_at")
    op.drop_table("contact_history")
