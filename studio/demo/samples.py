"""Demo sample interactions: the white paper's situations, to preview offers and rules on.

Each one is a contact where the right answer differs: a stolen card in distress (no
offer, a card-protection follow-up a week later), a checkbook order (overdraft
protection), an online-banking problem by email (check in first, offer once the fix is
confirmed: a confirming reply and one saying the fix failed share the first contact's
thread id), a platinum customer, fund advice, an anonymous web question, a magazine
cancellation, a pharmacy refill at 3% and at 8% savings, a hotel complaint and a
product return that turned into a fix. They carry text but no tone, so the studio
infers it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.models import SampleInteraction, User

SOURCE = Path(__file__).with_name("interactions.json")
OWNER = "sam@demo.studio"


def demo_samples() -> list[dict[str, Any]]:
    return json.loads(SOURCE.read_text(encoding="utf-8"))


def seed(session: Session, people: dict[str, User]) -> list[str]:
    """Add the demo samples that are missing; return what was created."""
    existing = set(session.scalars(select(SampleInteraction.key)))
    owner = people.get(OWNER)
    created = []
    for entry in demo_samples():
        if entry["key"] in existing:
            continue
        session.add(
            SampleInteraction(
                key=entry["key"],
                name=entry["name"],
                tags=list(entry["tags"]),
                body=entry["interaction"],
                created_by=owner.id if owner else None,
            )
        )
        created.append(f"sample {entry['key']}")
    return created
