"""the closed loop: the decision log, decision ids on events, webhook deliveries

Revision ID: 0006_decision_log
Revises: 0004_messages
Create Date: 2026-12-02 02:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_decision_log"
down_revision = "0005_contact_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("bundle_version", sa.Integer(), nullable=True),
        sa.Column("bundle_digest", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("tone", sa.String(length=32), nullable=False),
        sa.Column("customer_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("offers", sa.JSON(), nullable=False),
        sa.Column("guards", sa.JSON(), nullable=False),
        sa.Column("holdouts", sa.JSON(), nullable=False),
        sa.Column("trace", sa.JSON(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_decisions_bundle_version"), ["bundle_version"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_decisions_customer_hash"), ["customer_hash"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_decisions_decided_at"), ["decided_at"], unique=False)
    with op.batch_alter_table("feedback_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("value_cents", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_feedback_events_decision_id"), ["decision_id"], unique=False
        )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_status"), ["status"], unique=False)
    op.create_table(
        "offer_pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("offer_entry", sa.JSON(), nullable=False),
        sa.Column("paused_version", sa.Integer(), nullable=False),
        sa.Column("restored_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_offer_pauses_decided_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_pauses")),
    )
    with op.batch_alter_table("offer_pauses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_pauses_offer_key"), ["offer_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_offer_pauses_status"), ["status"], unique=False)
    op.create_table(
        "decision_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("offer_key", sa.String(length=64), nullable=False),
        sa.Column("ruleset", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("bundle_version", sa.Integer(), nullable=False),
        sa.Column("arm", sa.String(length=16), nullable=False),
        sa.Column("decisions", sa.Integer(), nullable=False),
        sa.Column("shown", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("declined", sa.Integer(), nullable=False),
        sa.Column("complaints", sa.Integer(), nullable=False),
        sa.Column("value_cents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_rollups")),
        sa.UniqueConstraint(
            "day",
            "offer_key",
            "ruleset",
            "rule",
            "channel",
            "category",
            "bundle_version",
            "arm",
            name="uq_decision_rollups_key",
        ),
    )
    with op.batch_alter_table("decision_rollups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_rollups_day"), ["day"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_decision_rollups_offer_key"), ["offer_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("decision_rollups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_rollups_offer_key"))
        batch_op.drop_index(batch_op.f("ix_decision_rollups_day"))
    op.drop_table("decision_rollups")
    with op.batch_alter_table("offer_pauses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offer_pauses_status"))
        batch_op.drop_index(batch_op.f("ix_offer_pauses_offer_key"))
    op.drop_table("offer_pauses")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_status"))
    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("feedback_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_events_decision_id"))
        batch_op.drop_column("value_cents")
        batch_op.drop_column("decision_id")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_decided_at"))
        batch_op.drop_index(batch_op.f("ix_decisions_customer_hash"))
        batch_op.drop_index(batch_op.f("ix_decisions_bundle_version"))
    op.drop_table("decisions")
