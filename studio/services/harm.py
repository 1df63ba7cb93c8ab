"""Harm avoided: what the guards withheld, by guard and by tone.

Read from the decision log for a window (one grouped query over `decisions`): every
decision in which a guard fired, counted per guard (ruleset and line, with its text) and
per the interaction's tone, beside the complaint rate per decision of the offers that
were made where no guard fired (from the rollups). Evidence a service lead can show
marketing: "the distressed-customer guard withheld offers 412 times; where offers were
made, 0.6% drew a complaint".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from studio.models import Decision, DecisionRollup
from studio.services.analytics import Window


@dataclass(frozen=True)
class HarmReport:
    guarded: int
    by_guard: list[tuple[str, str, int]]  # (guard "ruleset:line", text, decisions)
    by_tone: list[tuple[str, int]]
    offered: int
    complaints: int

    @property
    def complaint_rate(self) -> float | None:
        return self.complaints / self.offered if self.offered else None


def report(session: Session, window: Window) -> HarmReport:
    start = datetime.combine(window.start, time.min, tzinfo=UTC)
    end = datetime.combine(window.end + timedelta(days=1), time.min, tzinfo=UTC)
    guards: Counter[tuple[str, str]] = Counter()
    tones: Counter[str] = Counter()
    guarded = 0
    stmt = (
        select(Decision.guards, Decision.tone)
        .where(
            Decision.decided_at >= start,
            Decision.decided_at < end,
            cast(Decision.guards, Text) != "[]",
        )
        .execution_options(yield_per=2000)
    )
    for fired, tone in session.execute(stmt):
        if not fired:
            continue
        guarded += 1
        tones[tone or "–"] += 1
        for guard in {
            (f"{g.get('ruleset')}:{g.get('line')}", str(g.get("text") or "")) for g in fired
        }:
            guards[guard] += 1
    offered, complaints = session.execute(
        select(
            func.coalesce(func.sum(DecisionRollup.decisions), 0),
            func.coalesce(func.sum(DecisionRollup.complaints), 0),
        ).where(
            DecisionRollup.day >= window.start,
            DecisionRollup.day <= window.end,
            DecisionRollup.arm == "treatment",
        )
    ).one()
    return HarmReport(
        guarded,
        [(k, t, n) for (k, t), n in guards.most_common()],
        tones.most_common(),
        int(offered),
        int(complaints),
    )
