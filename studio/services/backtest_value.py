"""A backtest's expected value, from the acceptance observed in the closed loop.

Each side of a backtest makes some number of each offer. Where the decision log and its
events have measured an offer (the treatment arm of `decision_rollups` over the last
`WINDOW_DAYS` days: decisions that made it, accepted events about them), the side's
expected value is, summed over offers, offers made x observed acceptance rate x the
offer's value in that side's bundle. An offer with fewer than `MIN_DECISIONS` observed
decisions has no rate worth using: it is listed as unmeasured and left out of the sum,
never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.models import DecisionRollup

WINDOW_DAYS: Final = 90
MIN_DECISIONS: Final = 20


def observed_rates(
    session: Session, offers: Iterable[str], *, now: datetime | None = None
) -> dict[str, tuple[int, int]]:
    """{offer: (decisions, accepted)} in the treatment arm over the window."""
    keys = sorted(set(offers))
    if not keys:
        return {}
    start = ((now or datetime.now(UTC)) - timedelta(days=WINDOW_DAYS)).date()
    rows = session.execute(
        select(
            DecisionRollup.offer_key,
            func.sum(DecisionRollup.decisions),
            func.sum(DecisionRollup.accepted),
        )
        .where(
            DecisionRollup.offer_key.in_(keys),
            DecisionRollup.arm == "treatment",
            DecisionRollup.day >= start,
        )
        .group_by(DecisionRollup.offer_key)
    )
    return {key: (int(d or 0), int(a or 0)) for key, d, a in rows}


def _values(bundle: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for offer in bundle.get("offers") or ():
        value = offer.get("value") if isinstance(offer, Mapping) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[str(offer.get("key"))] = float(value)
    return out


def expected_value(
    session: Session,
    result: Mapping[str, Any],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """What the result's `value` holds: each side's expected value, the rates used and
    the offers left out for want of closed-loop data."""
    made = {side: dict(result[side]["offers"]) for side in ("before", "after")}
    rates = observed_rates(session, [*made["before"], *made["after"]], now=now)
    measured = {k: v for k, v in rates.items() if v[0] >= MIN_DECISIONS}
    out: dict[str, Any] = {
        "window_days": WINDOW_DAYS,
        "rates": {k: {"decisions": d, "accepted": a} for k, (d, a) in sorted(measured.items())},
        "unmeasured": sorted((set(made["before"]) | set(made["after"])) - set(measured)),
    }
    for side, bundle in (("before", before), ("after", after)):
        values = _values(bundle)
        out[side] = round(
            sum(
                n * measured[key][1] / measured[key][0] * values.get(key, 0.0)
                for key, n in made[side].items()
                if key in measured
            ),
            2,
        )
    return out
