"""Offers that do clearly better than their holdout are flagged to their owner, once.

`flag` reads the last 30 days of rollups (`attribution`); an offer whose acceptance is
"better than holdout" (the 95% interval of the difference above zero) and whose
complaints are not worse gets an inbox note (and email) to its owner, or to every
marketer when it has none. Setting "scale_up_flagged" remembers which offers were
flagged, so a note is sent once per offer until it stops qualifying. The periodic job
`loop.scale_up` runs it hourly (`studio.loop_jobs`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.models import Artifact, Setting, utcnow
from studio.roles import MARKETER
from studio.services import attribution, notifications
from studio.services.analytics import Window

SETTING: Final = "scale_up_flagged"


def flag(session: Session, *, today: datetime | None = None) -> list[str]:
    """Tell owners about offers newly qualifying to scale up; return their keys."""
    end = (today or datetime.now(UTC)).date()
    found = attribution.attribution(
        session, Window(end - timedelta(days=29), end), attribution.Filters()
    )
    qualifying = {line.offer_key: line for line in found.offers if line.scale_up}
    row = session.get(Setting, SETTING)
    before = set(row.value) if row is not None and isinstance(row.value, list) else set()
    fresh = sorted(set(qualifying) - before)
    for key in fresh:
        line = qualifying[key]
        diff = line.acceptance.difference
        if diff is None:
            continue
        offer = session.scalar(
            select(Artifact).where(Artifact.kind == "offer", Artifact.key == key)
        )
        people = (
            [offer.owner]
            if offer is not None and offer.owner is not None
            else notifications.people_with_roles(session, [MARKETER])
        )
        notifications.notify(
            session,
            people,
            kind="scale_up",
            link=f"/analytics/lift?offer={key}",
            message=f"Offer {key} does better than its holdout: acceptance "
            f"{diff.estimate * 100:+.1f} points (95% interval {diff.low * 100:+.1f} "
            f"to {diff.high * 100:+.1f}) over {line.treatment.decisions} decisions. "
            "Consider offering it to more customers.",
        )
    value = sorted(set(qualifying))
    if row is None:
        session.add(Setting(key=SETTING, value=value))
    elif row.value != value:
        row.value = value
        row.updated_at = utcnow()
    session.flush()
    return fresh
