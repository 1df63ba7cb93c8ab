"""Harm avoided: what the guards and the contact policy withheld, by line and by tone.

Read from the harm rollups for a window (`studio.services.rollups`, kept as decisions
arrive; never a scan of the decision log): the decisions in which a ruleset guard fired,
per guard (ruleset and line, with its text), and the decisions in which the contact
policy withheld offers, per policy line (with the offers it withheld), each by the
interaction's tone; beside the complaint rate per decision of the offers that were made
(from the decision rollups). Evidence a service lead can show marketing: "the
distressed-customer guard withheld offers 412 times; the weekly cap held back 96 offers;
where offers were made, 0.6% drew a complaint".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.models import HarmRollup, OfferRollup
from studio.services.analytics import Window


@dataclass(frozen=True)
class HarmReport:
    guarded: int
    by_guard: list[tuple[str, str, int]]  # (guard "ruleset:line", text, decisions)
    by_tone: list[tuple[str, int]]  # decisions a guard fired in, per tone
    offered: int
    complaints: int
    policy_withheld: int = 0  # decisions in which the policy withheld an offer
    by_policy_line: tuple[tuple[int, str, int, int], ...] = ()  # (line, text, decisions, offers)
    policy_by_tone: tuple[tuple[str, int], ...] = ()

    @property
    def complaint_rate(self) -> float | None:
        return self.complaints / self.offered if self.offered else None


def report(session: Session, window: Window) -> HarmReport:
    lines = session.execute(
        select(
            HarmRollup.kind,
            HarmRollup.ruleset,
            HarmRollup.line,
            HarmRollup.text,
            HarmRollup.tone,
            func.sum(HarmRollup.decisions),
            func.sum(HarmRollup.offers),
        )
        .where(HarmRollup.day >= window.start, HarmRollup.day <= window.end)
        .group_by(
            HarmRollup.kind, HarmRollup.ruleset, HarmRollup.line, HarmRollup.text, HarmRollup.tone
        )
    )
    guards: Counter[tuple[str, str]] = Counter()
    policy: Counter[tuple[int, str]] = Counter()
    policy_offers: Counter[tuple[int, str]] = Counter()
    tones = {"guard:any": Counter[str](), "policy:any": Counter[str]()}
    for kind, ruleset, line, text, tone, decisions, offers in lines:
        if kind == "guard":
            guards[(f"{ruleset}:{line}", text)] += int(decisions)
        elif kind == "policy":
            policy[(line, text)] += int(decisions)
            policy_offers[(line, text)] += int(offers)
        elif kind in tones:
            tones[kind][tone or "–"] += int(decisions)
    offered, complaints = session.execute(
        select(
            func.coalesce(func.sum(OfferRollup.decisions), 0),
            func.coalesce(func.sum(OfferRollup.complaints), 0),
        ).where(
            OfferRollup.day >= window.start,
            OfferRollup.day <= window.end,
            OfferRollup.arm == "treatment",
        )
    ).one()
    return HarmReport(
        guarded=sum(tones["guard:any"].values()),
        by_guard=[(k, t, n) for (k, t), n in guards.most_common()],
        by_tone=tones["guard:any"].most_common(),
        offered=int(offered),
        complaints=int(complaints),
        policy_withheld=sum(tones["policy:any"].values()),
        by_policy_line=tuple(
            (line, text, n, policy_offers[(line, text)]) for (line, text), n in policy.most_common()
        ),
        policy_by_tone=tuple(tones["policy:any"].most_common()),
    )
