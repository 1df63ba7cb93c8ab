"""narrow-cast survey responses and answers

Revision ID: 0008_surveys
Revises: 0004_messages
Create Date: 2026-12-02 02:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_surveys"
down_revision = "0006_decision_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("survey_key", sa.String(length=64), nullable=False),
        sa.Column("bundle_version", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_survey_responses_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint(
            "message_id", "survey_key", name=op.f("uq_survey_responses_message_id")
        ),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_responses_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_responses_survey_key"), ["survey_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_responses_created_at"), ["created_at"], unique=False
        )
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("survey_key", sa.String(length=64), nullable=False),
        sa.Column("question_id", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_survey_answers_response_id_survey_responses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint(
            "response_id", "question_id", name=op.f("uq_survey_answers_response_id")
        ),
    )
    with op.batch_alter_table("survey_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_answers_response_id"), ["response_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_answers_survey_key"), ["survey_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("survey_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_answers_survey_key"))
        batch_op.drop_index(batch_op.f("ix_survey_answers_response_id"))
    op.drop_table("survey_answers")
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_responses_created_at"))
        batch_op.drop_index(batch_op.f("ix_survey_responses_survey_key"))
        batch_op.drop_index(batch_op.f("ix_survey_responses_message_id"))
    op.drop_table("survey_responses")
