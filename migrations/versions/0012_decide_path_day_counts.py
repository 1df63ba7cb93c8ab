"""per-day offer counters for the daily caps (contact_day_counts)

Revision ID: 0012_decide_path_day_counts
Revises: 0011_loop_speed_harm
Create Date: 2026-12-02 07:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_decide_path_day_counts"
down_revision = "0011_loop_speed_harm"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_day_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("offer_key", sa.String(length=64), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "offer_key", "bucket", name=op.f("pk_contact_day_counts")),
    )
    # The offers already in the history, counted in bucket 0 of their day.
    day = (
        "CAST((at AT TIME ZONE 'UTC') AS DATE)"
        if op.get_bind().dialect.name == "postgresql"
        else "date(at)"
    )
    op.execute(
        "INSERT INTO contact_day_counts (day, offer_key, bucket, offers) "
        f"SELECT {day}, offer_key, 0, COUNT(*) FROM contact_history "
        f"WHERE kind = 'offer' GROUP BY {day}, offer_key"
    )


def downgrade() -> None:
    op.drop_table("contact_day_counts")
