"""what the contact policy withheld, per decision; harm rollups; offer rollups

Revision ID: 0011_loop_speed_harm
Revises: 0010_history_speed_bulk_search
Create Date: 2026-12-02 06:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_loop_speed_harm"
down_revision = "0010_history_speed_bulk_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("withheld", sa.JSON(), nullable=True))
    op.create_table(
        "harm_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ruleset", sa.String(length=64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("tone", sa.String(length=32), nullable=False),
        sa.Column("decisions", sa.Integer(), nullable=False),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harm_rollups")),
        sa.UniqueConstraint(
            "day", "kind", "ruleset", "line", "text", "tone", name="uq_harm_rollups_key"
        ),
    )
    op.create_index(op.f("ix_harm_rollups_day"), "harm_rollups", ["day"])
    _backfill_guards()
    measures = ("decisions", "shown", "accepted", "declined", "complaints", "value_cents")
    op.create_table(
        "offer_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("offer_key", sa.String(length=64), nullable=False),
        sa.Column("ruleset", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("arm", sa.String(length=16), nullable=False),
        *(sa.Column(m, sa.Integer(), nullable=False) for m in measures),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_rollups")),
        sa.UniqueConstraint(
            "day", "offer_key", "ruleset", "rule", "arm", name="uq_offer_rollups_key"
        ),
    )
    op.create_index(op.f("ix_offer_rollups_day"), "offer_rollups", ["day"])
    keys = "day, offer_key, ruleset, rule, arm"
    op.execute(
        f"INSERT INTO offer_rollups ({keys}, {', '.join(measures)}) "
        f"SELECT {keys}, {', '.join(f'SUM({m})' for m in measures)} "
        f"FROM decision_rollups GROUP BY {keys}"
    )


def _backfill_guards() -> None:
    """Count the guards of decisions logged before this revision (policy refusals were
    not kept then, so there is nothing to count for them)."""
    connection = op.get_bind()
    decisions = sa.table(
        "decisions",
        sa.column("decided_at", sa.DateTime()),
        sa.column("tone", sa.String()),
        sa.column("guards", sa.JSON()),
    )
    counts: dict[tuple, int] = {}
    rows = connection.execute(
        sa.select(decisions.c.decided_at, decisions.c.tone, decisions.c.guards).execution_options(
            yield_per=5000
        )
    )
    for decided_at, tone, guards in rows:
        if not guards:
            continue
        day = decided_at.date() if hasattr(decided_at, "date") else decided_at
        tone = (tone or "")[:32]
        counts[(day, "guard:any", "", 0, "", tone)] = (
            counts.get((day, "guard:any", "", 0, "", tone), 0) + 1
        )
        seen = {
            (
                str(g.get("ruleset") or "")[:64],
                int(g.get("line") or 0),
                str(g.get("text") or "")[:200],
            )
            for g in guards
            if isinstance(g, dict)
        }
        for ruleset, line, text in seen:
            key = (day, "guard", ruleset, line, text, tone)
            counts[key] = counts.get(key, 0) + 1
    harm = sa.table(
        "harm_rollups",
        *(
            sa.column(c)
            for c in ("day", "kind", "ruleset", "line", "text", "tone", "decisions", "offers")
        ),
    )
    rows_out = [
        dict(
            zip(("day", "kind", "ruleset", "line", "text", "tone"), key, strict=True),
            decisions=n,
            offers=0,
        )
        for key, n in counts.items()
    ]
    for start in range(0, len(rows_out), 5000):
        connection.execute(harm.insert(), rows_out[start : start + 5000])


def downgrade() -> None:
    op.drop_index(op.f("ix_offer_rollups_day"), table_name="offer_rollups")
    op.drop_table("offer_rollups")
    op.drop_index(op.f("ix_harm_rollups_day"), table_name="harm_rollups")
    op.drop_table("harm_rollups")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("withheld")
