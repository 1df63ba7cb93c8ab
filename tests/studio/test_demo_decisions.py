"""The demo's month of analytics: logged decisions its events belong to, so the lift,
harm and export pages show something on a fresh install, seeded once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.demo import seed_demo
from studio.demo.rules import DEMO_RULESETS
from studio.models import (
    Decision,
    DecisionRollup,
    EventRollup,
    FeedbackEvent,
    HarmRollup,
    OfferRollup,
)
from studio.services import attribution, event_rollups, harm, rollups
from studio.services.analytics import Window
from tests.factories import make_user, sign_in_as

OUTCOME_TYPES = ("shown", "accepted", "declined", "complaint")


def _month() -> Window:
    today = datetime.now(UTC).date()
    return Window(today - timedelta(days=29), today)


def _rows(session: Session) -> dict[str, int]:
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Decision, FeedbackEvent, DecisionRollup, OfferRollup, HarmRollup, EventRollup)
    } | {
        "decisions counted": session.scalar(select(func.sum(OfferRollup.decisions))) or 0,
        "events counted": session.scalar(select(func.sum(EventRollup.events))) or 0,
    }


def test_the_demo_logs_a_month_of_decisions_for_lift_harm_and_exports_once(
    app: Flask, session: Session
) -> None:
    with app.app_context():
        seed_demo(session)
    window, everything = _month(), attribution.Filters()

    # Lift: a rule with a rollout compares its treatment arm with its holdout arm, under
    # the demo ruleset's real names; every rule the log names is in its ruleset.
    sources = {key: path.read_text(encoding="utf-8") for key, _, path in DEMO_RULESETS}
    found = attribution.attribution(session, window, everything)
    both = [line for line in found.rules if line.treatment.decisions and line.holdout.decisions]
    assert both, [(line.rule, line.holdout.decisions) for line in found.rules]
    for line in found.rules:
        assert f'rule "{line.rule}"' in sources[line.ruleset], line
    for line in both:
        rule_text = sources[line.ruleset].split(f'rule "{line.rule}"')[1].split("\nrule ")[0]
        assert re.search(rf"offer {line.offer_key} to \d+% of customers", rule_text), line
        assert line.treatment.shown > 0 and line.holdout.shown == 0
        assert line.holdout.decisions >= 30  # enough for rates, not "3 of 5"

    # Harm: guards fired and the contact policy withheld offers.
    withheld = harm.report(session, window)
    assert withheld.guarded > 0 and withheld.by_guard
    assert withheld.policy_withheld > 0 and withheld.by_policy_line
    assert withheld.offered > 0 and withheld.complaints > 0

    # The decision log and the rolled-up table export rows; the events name decisions.
    assert next(attribution.export(session, "decisions", window, everything).rows, None)
    assert next(attribution.export(session, "rollups", window, everything).rows, None)
    logged = set(session.scalars(select(Decision.id)))
    assert logged and all(key.startswith("demo-") for key in logged)
    outcomes = session.execute(
        select(FeedbackEvent.event_id, FeedbackEvent.decision_id).where(
            FeedbackEvent.type.in_(OUTCOME_TYPES)
        )
    ).all()
    assert outcomes and all(decision in logged for _, decision in outcomes), [
        event for event, decision in outcomes if decision not in logged
    ][:5]

    # Counted as ingest counts them: the rollups equal their recounts from the raw rows.
    assert rollups.stored(session) == rollups.recount(session)
    assert rollups.offer_stored(session) == rollups.offer_recount(rollups.recount(session))
    assert rollups.harm_stored(session) == rollups.harm_recount(session)
    assert event_rollups.stored(session) == event_rollups.recount(session)

    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    session.commit()
    lift_page = client.get("/analytics/lift").get_data(as_text=True)
    assert "No logged decisions in this window." not in lift_page
    assert "Pilot: extended warranty after a fixed chat" in lift_page
    csv = client.get("/analytics/export.csv?table=decisions").get_data(as_text=True)
    assert len(csv.splitlines()) == len(logged) + 1

    # A second seeding adds nothing.
    before = _rows(session)
    with app.app_context():
        again = seed_demo(session)
    assert not [item for item in again.created if "demo" in item]
    assert _rows(session) == before
