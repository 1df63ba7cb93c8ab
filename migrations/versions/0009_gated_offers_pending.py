"""resolution-gated offers waiting for the customer's reply; what a decision did with them

Revision ID: 0009_gated_offers_pending
Revises: 0008_surveys
Create Date: 2026-12-02 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_gated_offers_pending"
down_revision = "0008_surveys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gated_offers",
        sa.Column("id", sa.String(length=300), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("thread", sa.String(length=200), nullable=False),
        sa.Column("offer_key", sa.String(length=64), nullable=False),
        sa.Column("ruleset", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("decision_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("infer", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("settled_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gated_offers")),
    )
    with op.batch_alter_table("gated_offers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_gated_offers_customer_status", ["customer_id", "status"], unique=False
        )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gating", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("gating")
    with op.batch_alter_table("gated_offers", schema=None) as batch_op:
        batch_op.drop_index("ix_gated_offers_customer_status")
    op.drop_table("gated_offers")
