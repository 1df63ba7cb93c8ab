"""event rollups: feedback events per day x offer x category x channel x bundle x type

Revision ID: 0013_event_rollups
Revises: 0012_decide_path_day_counts
Create Date: 2026-12-02 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_event_rollups"
down_revision = "0012_decide_path_day_counts"
branch_labels = None
depends_on = None

KEYS = "day, offer_key, category, channel, bundle_version, type"


def upgrade() -> None:
    op.create_table(
        "event_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("offer_key", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("bundle_version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        *(
            sa.Column(m, sa.Integer(), nullable=False)
            for m in ("events", "promoters", "detractors", "answers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_rollups")),
        sa.UniqueConstraint(
            "day",
            "offer_key",
            "category",
            "channel",
            "bundle_version",
            "type",
            name="uq_event_rollups_key",
        ),
    )
    op.create_index(op.f("ix_event_rollups_day"), "event_rollups", ["day"])
    op.create_index(op.f("ix_event_rollups_offer_key"), "event_rollups", ["offer_key"])
    _backfill()


def _backfill() -> None:
    """Count the events stored before this revision, with the rules ingest counts by
    (`studio.services.event_rollups.counts`): the UTC day, "" and 0 for no offer or
    bundle, NPS promoters 9-10, detractors 0-6, answers with a score."""
    if op.get_bind().dialect.name == "postgresql":
        day = "CAST(at AT TIME ZONE 'UTC' AS DATE)"
    else:
        day = "date(at)"  # SQLite stores the UTC time ingest normalised `at` to
    nps = "type = 'nps' AND score IS NOT NULL"
    op.execute(
        f"INSERT INTO event_rollups ({KEYS}, events, promoters, detractors, answers) "
        f"SELECT day, offer_key, category, channel, bundle_version, type, COUNT(*), "
        f"SUM(CASE WHEN {nps} AND score >= 9 THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {nps} AND score <= 6 THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {nps} THEN 1 ELSE 0 END) "
        f"FROM (SELECT {day} AS day, COALESCE(offer_key, '') AS offer_key, "
        "COALESCE(category, '') AS category, COALESCE(channel, '') AS channel, "
        "COALESCE(bundle_version, 0) AS bundle_version, type, score "
        "FROM feedback_events) AS e "
        f"GROUP BY {KEYS}"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_event_rollups_offer_key"), table_name="event_rollups")
    op.drop_index(op.f("ix_event_rollups_day"), table_name="event_rollups")
    op.drop_table("event_rollups")
