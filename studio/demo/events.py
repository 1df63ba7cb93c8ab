"""A month of made-up decisions and feedback so the analytics pages have something to show.

Every made-up interaction gets a logged decision, and its events (shown, the answer, a
complaint, an NPS score) name that decision, so `/analytics/` (the events),
`/analytics/lift` (treatment against holdout), `/analytics/harm` (what the guards and
the contact policy withheld), the decision log and its rollups all read the same month.
The decisions name the demo rulesets' real rules (`studio/demo/rules.py`): the retail
banking pilot `offer extended_warranty to 10% of customers` holds one customer in ten
out, and some customers are stopped by a guard (a distressed or unknown tone, a stolen
card) or by a contact-policy line, so nothing is offered to them.

The decisions are stored as a client's report is (`decision_log.ingest`: the log, the
decision rollups and the harm rollups); the events as ingest stores them, counted in the
event rollups and on their decisions' rollup rows.

Deterministic (fixed random seeds, days counted back from today), idempotent (fixed ids;
nothing is added once any demo event or decision exists), and clearly demo data: every
event and decision id starts with `demo-`.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from bundle.decision_record import decision_record
from studio.demo.rules import DEMO_RULESETS
from studio.models import Decision, FeedbackEvent, User
from studio.services import bundles, decision_log, event_rollups, rollups

SEED_ORDER = 95  # after the publish (review.py, 90): the decisions name bundle v1
DAYS = 30
BUNDLE_VERSION: Final = 1
BATCH: Final = decision_log.MAX_DECISIONS


@dataclass(frozen=True)
class Profile:
    """One kind of made-up interaction and the rule that makes its offer."""

    offer: str
    category: str
    channel: str
    per_day: int  # interactions the rule matches per day (about)
    accept: float  # accepted per shown
    complaint: float  # complaints per shown
    ruleset: str
    rule: str
    holdout: float = 0.0  # the share held out: a rule `... to P% of customers`


PROFILES: tuple[Profile, ...] = (
    Profile(
        "overdraft_protection",
        "transactional",
        "chat",
        6,
        0.18,
        0.004,
        "retail_banking",
        "Overdraft protection with a checkbook order",
    ),
    Profile(
        "overdraft_protection",
        "transactional",
        "email",
        4,
        0.11,
        0.006,
        "retail_banking",
        "Overdraft protection with a checkbook order",
    ),
    Profile(
        "realtime_contact",
        "informational",
        "chat",
        3,
        0.42,
        0.0,
        "retail_banking",
        "Platinum customers can always reach a person",
    ),
    Profile(
        "refill_savings",
        "transactional",
        "sms",
        7,
        0.27,
        0.002,
        "pharmacy",
        "Refill savings when a refill is sorted out",
    ),
    Profile(
        "hotel_restaurant_coupon",
        "feedback",
        "chat",
        2,
        0.35,
        0.01,
        "hospitality",
        "Make amends after a room complaint is fixed",
    ),
    Profile(
        "retention_discount",
        "transactional",
        "email",
        3,
        0.22,
        0.03,
        "retail_and_media",
        "Keep a subscriber who wants to cancel",
    ),
    Profile(
        "click_to_chat",
        "informational",
        "web",
        5,
        0.09,
        0.0,
        "retail_and_media",
        "Chat with a person when a web question is not answered",
    ),
    # The pilot: enough customers a day that its holdout arm (one in ten) has a month's
    # sample worth comparing.
    Profile(
        "extended_warranty",
        "diagnostic",
        "chat",
        12,
        0.06,
        0.08,
        "retail_banking",
        "Pilot: extended warranty after a fixed chat",
        holdout=0.10,
    ),
)
#: Customers held out of the pilot who bought the warranty anyway, per decision.
UNASKED_ACCEPT: Final = 0.02

#: Every demo ruleset: each carries `never offer when tone is distressed / unknown`.
RULESETS: Final = tuple(sorted(key for key, _name, _path in DEMO_RULESETS))
STOLEN_CARD: Final = 'inquiry.intent in ["report_stolen_card", "fraud_claim", "bereavement"]'
#: Where guarded customers wrote in from: (category, channel), one drawn per decision.
GUARDED_FROM: Final = (
    ("transactional", "chat"),
    ("transactional", "email"),
    ("transactional", "sms"),
    ("feedback", "chat"),
    ("diagnostic", "chat"),
    ("informational", "web"),
)

# The contact policy's statements (studio/demo/contact_policy.policy), with the reason a
# removal by each gives; their lines are read from the policy (`_policy_line`).
ONE_PER_RESPONSE: Final = ("at most 1 offer per response", "over at most 1 per response")
AFTER_COMPLAINT: Final = (
    "never offer anything again after complaint within 180 days",
    "suppressed: complaint within the window",
)
REFILL_WEEKLY: Final = (
    "limit refill_savings to 1 per customer per 7 days",
    "over the limit: 1 of 1",
)
SMS_MONTHLY: Final = (
    "limit offers by sms to 2 per customer per 30 days",
    "over the limit: 2 of 2",
)
REMINDER: Final = ("pharmacy_reminders", "mobile_alerts", "Text reminders after a refill by SMS")


def seed(session: Session, people: dict[str, User]) -> list[str]:
    if _seeded(session):
        return []
    made = _Month(_bundle(session))
    made.build()
    stored = 0
    for start in range(0, len(made.records), BATCH):
        report = decision_log.ingest(session, {"decisions": made.records[start : start + BATCH]})
        if not isinstance(report, decision_log.DecisionReport) or report.count("rejected"):
            raise ValueError(f"demo decisions refused: {report}")
        stored += report.count("stored")
    # As event ingest stores them: the rows, then their counts in the event rollups and
    # on their decisions' rows (`rollups.events_stored`, from the logged decisions).
    session.add_all(made.events)
    session.flush()
    event_rollups.events_stored(session, made.events)
    logged = rollups.logged_decisions(
        session, {e.decision_id for e in made.events if e.decision_id}
    )
    rollups.events_stored(session, made.events, logged)
    return [f"{stored} demo decisions", f"{len(made.events)} demo feedback events"]


def _seeded(session: Session) -> bool:
    event = select(FeedbackEvent.id).where(FeedbackEvent.event_id.like("demo-%")).limit(1)
    decision = select(Decision.id).where(Decision.id.like("demo-%")).limit(1)
    return any(session.scalar(q) is not None for q in (event, decision))


def _bundle(session: Session) -> dict[str, Any]:
    found = bundles.get(session, BUNDLE_VERSION)
    return {"version": BUNDLE_VERSION, "digest": found.digest if found is not None else ""}


class _Month:
    """The month's decision records (as a client reports them) and events."""

    def __init__(self, bundle: dict[str, Any]) -> None:
        self.bundle = bundle
        self.records: list[dict[str, Any]] = []
        self.events: list[FeedbackEvent] = []
        self.matched: dict[Profile, int] = {}
        # Hour 12 (or earlier today, so that nothing is dated in the future).
        now = datetime.now(UTC)
        self.today = now.replace(hour=min(12, now.hour), minute=0, second=0, microsecond=0)

    def build(self) -> None:
        rng = random.Random(2026)  # the events (as the demo always drew them)
        extra = random.Random(2027)  # what only the decisions need: tone, arm, guards
        for profile in PROFILES:
            for day in range(DAYS):
                at = self.today - timedelta(days=day)
                for n in range(rng.randint(max(1, profile.per_day - 2), profile.per_day + 2)):
                    self._interaction(rng, extra, profile, day, n, at)
        for day in range(DAYS):
            at = self.today - timedelta(days=day)
            self._guarded(extra, day, at)
            self._withheld(extra, day, at)

    def _record(
        self,
        decision_id: str,
        at: datetime,
        *,
        category: str,
        channel: str,
        tone: str,
        customer: str,
        intent: str = "",
        rulesets: Mapping[str, dict[str, list[dict[str, Any]]]] | None = None,
        removed: list[dict[str, Any]] | None = None,
    ) -> None:
        """Add the log record of a decision shaped as the runtime answers one."""
        answer: dict[str, Any] = {
            "bundle": self.bundle,
            "rulesets": [{"key": key, **found} for key, found in (rulesets or {}).items()],
            "offers": [
                {"ruleset": key, **made}
                for key, found in (rulesets or {}).items()
                for made in found.get("offers", ())
            ],
            "policy": {"removed": removed or []},
        }
        interaction = {
            "inquiry": {"category": category, "channel": channel, "intent": intent},
            "tone": tone,
            "customer": {"id": customer},
        }
        record = decision_record(answer, interaction, decision_id=decision_id, decided_at=at)
        # The rules whose offers the policy withheld matched too (the runtime's record
        # names them from the rulesets' proposals).
        for entry in removed or ():
            matched = {"ruleset": entry["ruleset"], "rule": entry["rule"]}
            if matched not in record["rules"]:
                record["rules"].append(matched)
        self.records.append(record)

    def _interaction(
        self,
        rng: random.Random,
        extra: random.Random,
        profile: Profile,
        day: int,
        n: int,
        at: datetime,
    ) -> None:
        base = f"demo-{profile.offer}-{profile.channel}-{day}-{n}"
        customer = f"c-{rng.randint(1000, 9999)}"
        # The runtime holds out a share of customers by a hash of their id; here exactly
        # that share of the rule's matches, in turn.
        matched = self.matched[profile] = self.matched.get(profile, 0) + 1
        held_out = int(matched * profile.holdout) > int((matched - 1) * profile.holdout)
        entry = {"offer": profile.offer, "rule": profile.rule}
        removed = []
        if profile.offer == "refill_savings":
            # The refill reminders ruleset proposes mobile alerts on the same SMS; the
            # contact policy keeps one offer per response.
            removed.append(_removal(REMINDER, ONE_PER_RESPONSE))
        self._record(
            base,
            at,
            category=profile.category,
            channel=profile.channel,
            tone=extra.choice(("positive", "positive", "neutral")),
            customer=customer,
            rulesets={profile.ruleset: {"holdouts" if held_out else "offers": [entry]}},
            removed=removed,
        )
        common = {
            "offer_key": profile.offer,
            "category": profile.category,
            "channel": profile.channel,
            "bundle_version": self.bundle["version"],
            "customer_id": customer,
            "at": at,
            "decision_id": base,
        }
        if held_out:
            # Not offered: the only outcome is a customer who took the product unasked.
            if extra.random() < UNASKED_ACCEPT:
                self.events.append(
                    FeedbackEvent(event_id=f"{base}-accepted", type="accepted", **common)
                )
            return
        self.events.append(FeedbackEvent(event_id=f"{base}-shown", type="shown", **common))
        roll = rng.random()
        outcome = (
            "accepted"
            if roll < profile.accept
            else "complaint"
            if roll < profile.accept + profile.complaint
            else "declined"
            if roll < profile.accept + profile.complaint + 0.25
            else None
        )
        if outcome:
            self.events.append(FeedbackEvent(event_id=f"{base}-{outcome}", type=outcome, **common))
        if rng.random() < 0.15:
            score = min(10, max(0, round(rng.gauss(8 if outcome == "accepted" else 6.5, 2))))
            self.events.append(
                FeedbackEvent(event_id=f"{base}-nps", type="nps", score=score, **common)
            )

    def _guarded(self, extra: random.Random, day: int, at: datetime) -> None:
        """Customers a ruleset guard stopped: every ruleset's tone guard, or the stolen
        card guard of retail banking."""
        for n in range(extra.randint(2, 6)):
            category, channel = extra.choice(GUARDED_FROM)
            customer = f"c-{extra.randint(1000, 9999)}"
            roll = extra.random()
            if roll < 0.12:
                text = STOLEN_CARD
                line = _guard_line("retail_banking", text)
                self._record(
                    f"demo-guard-{day}-{n}",
                    at,
                    category="transactional",
                    channel="phone",
                    tone="negative",
                    customer=customer,
                    intent="report_stolen_card",
                    rulesets={"retail_banking": {"guards": [{"line": line, "text": text}]}},
                )
                continue
            tone = "distressed" if roll < 0.8 else "unknown"
            self._record(
                f"demo-guard-{day}-{n}",
                at,
                category=category,
                channel=channel,
                tone=tone,
                customer=customer,
                rulesets={
                    key: {
                        "guards": [
                            {"line": _guard_line(key, f"tone is {tone}"), "text": f"tone is {tone}"}
                        ]
                    }
                    for key in RULESETS
                },
            )

    def _withheld(self, extra: random.Random, day: int, at: datetime) -> None:
        """Customers the contact policy kept every offer from: a complaint not long ago,
        or a refill savings offer this week and two texts this month."""
        for n in range(extra.randint(0, 3)):
            customer = f"c-{extra.randint(1000, 9999)}"
            if extra.random() < 0.5:
                proposed = PROFILES[5]  # retention_discount by email
                removed = [
                    _removal((proposed.ruleset, proposed.offer, proposed.rule), AFTER_COMPLAINT)
                ]
            else:
                proposed = PROFILES[3]  # refill_savings by SMS
                removed = [
                    _removal((proposed.ruleset, proposed.offer, proposed.rule), REFILL_WEEKLY),
                    _removal(REMINDER, SMS_MONTHLY),
                ]
            self._record(
                f"demo-policy-{day}-{n}",
                at,
                category=proposed.category,
                channel=proposed.channel,
                tone=extra.choice(("positive", "neutral", "negative")),
                customer=customer,
                removed=removed,
            )


def _removal(proposal: tuple[str, str, str], statement: tuple[str, str]) -> dict[str, Any]:
    """An offer the contact policy removed, as the policy reports it."""
    ruleset, offer, rule = proposal
    text, reason = statement
    number = _policy_line(text)
    return {
        "offer": offer,
        "ruleset": ruleset,
        "rule": rule,
        "line": number,
        "text": text,
        "reason": reason,
    }


def _line_of(path: Path, statement: str) -> int:
    """The line of `statement` in a demo source, as a decision names it: read from the
    source, so the demo's decisions stay right when a demo ruleset or policy changes."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() == statement:
            return number
    raise ValueError(f"{path.name} has no line `{statement}`")


@functools.cache
def _guard_line(ruleset: str, condition: str) -> int:
    path = next(p for key, _name, p in DEMO_RULESETS if key == ruleset)
    return _line_of(path, f"never offer when {condition}")


@functools.cache
def _policy_line(statement: str) -> int:
    return _line_of(Path(__file__).parent / "contact_policy.policy", statement)
