"""customer messages opened at /m/<token>

Revision ID: 0004_messages
Revises: 0003
Create Date: 2026-12-02 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_messages"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("customer_hash", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("response_text", sa.Text(), nullable=False),
        sa.Column("response_html", sa.Text(), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("bundle_version", sa.Integer(), nullable=True),
        sa.Column("survey", sa.Boolean(), nullable=False),
        sa.Column("nps_comment", sa.Text(), nullable=True),
        sa.Column("created_by_token", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("withdrawn_by", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_token"],
            ["api_tokens.id"],
            name=op.f("fk_messages_created_by_token_api_tokens"),
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by"], ["users.id"], name=op.f("fk_messages_withdrawn_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_messages_token_hash")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_messages_customer_hash"), ["customer_hash"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_messages_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_created_at"))
        batch_op.drop_index(batch_op.f("ix_messages_customer_hash"))
    op.drop_table("messages")
