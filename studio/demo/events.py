"""A month of made-up feedback so the analytics page has something to show in the demo.

Deterministic (a fixed random seed, days counted back from today), idempotent (event ids
are fixed), and clearly demo data: every event id starts with `demo-`.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.models import FeedbackEvent, User
from studio.services import event_rollups

SEED_ORDER = 95

# offer, inquiry category, channel, daily shows, accept rate, complaint rate
PROFILES: tuple[tuple[str, str, str, int, float, float], ...] = (
    ("overdraft_protection", "transactional", "chat", 6, 0.18, 0.004),
    ("overdraft_protection", "transactional", "email", 4, 0.11, 0.006),
    ("realtime_contact", "informational", "chat", 3, 0.42, 0.0),
    ("refill_savings", "transactional", "sms", 7, 0.27, 0.002),
    ("hotel_restaurant_coupon", "feedback", "chat", 2, 0.35, 0.01),
    ("retention_discount", "transactional", "email", 3, 0.22, 0.03),
    ("click_to_chat", "informational", "web", 5, 0.09, 0.0),
    ("extended_warranty", "diagnostic", "chat", 2, 0.06, 0.08),
)
DAYS = 30


def seed(session: Session, people: dict[str, User]) -> list[str]:
    if (
        session.scalar(
            select(FeedbackEvent.id).where(FeedbackEvent.event_id.like("demo-%")).limit(1)
        )
        is not None
    ):
        return []
    rng = random.Random(2026)
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    events: list[FeedbackEvent] = []
    for offer, category, channel, per_day, accept, complaint in PROFILES:
        for day in range(DAYS):
            at = today - timedelta(days=day)
            for n in range(rng.randint(max(1, per_day - 2), per_day + 2)):
                base = f"demo-{offer}-{channel}-{day}-{n}"
                customer = f"c-{rng.randint(1000, 9999)}"
                common = {
                    "offer_key": offer,
                    "category": category,
                    "channel": channel,
                    "bundle_version": 1,
                    "customer_id": customer,
                    "at": at,
                }
                events.append(FeedbackEvent(event_id=f"{base}-shown", type="shown", **common))
                roll = rng.random()
                outcome = (
                    "accepted"
                    if roll < accept
                    else "complaint"
                    if roll < accept + complaint
                    else "declined"
                    if roll < accept + complaint + 0.25
                    else None
                )
                if outcome:
                    events.append(
                        FeedbackEvent(event_id=f"{base}-{outcome}", type=outcome, **common)
                    )
                if rng.random() < 0.15:
                    score = min(
                        10, max(0, round(rng.gauss(8 if outcome == "accepted" else 6.5, 2)))
                    )
                    events.append(
                        FeedbackEvent(event_id=f"{base}-nps", type="nps", score=score, **common)
                    )
    session.add_all(events)
    event_rollups.events_stored(session, events)
    return [f"{len(events)} demo feedback events"]
