"""Rollups kept as decisions and events arrive equal a recount of the raw rows.

Hypothesis sends decisions and events in any order, in batches, with duplicates,
events for decisions never reported, and events about offers the decision did not
involve; the rollup table must equal both the raw recount and a count made here from
the generated data alone, the offer rollups the recount summed over channel, category
and bundle, and the harm rollups a recount of the guards and policy refusals logged.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from studio.models import Decision, DecisionRollup, FeedbackEvent, HarmRollup, OfferRollup
from studio.services import decision_log, events, rollups

OFFERS = ("card_plan", "autopay", "savings")
KINDS = ("shown", "accepted", "declined", "complaint", "clicked")

decision_st = st.fixed_dictionaries(
    {
        "n": st.integers(0, 7),
        "offers": st.lists(st.sampled_from(OFFERS), max_size=2, unique=True),
        "holdouts": st.lists(st.sampled_from(OFFERS), max_size=2, unique=True),
        "day": st.integers(1, 3),
        "channel": st.sampled_from(("email", "chat")),
        "tone": st.sampled_from(("calm", "angry")),
        "guarded": st.booleans(),
        "withheld": st.lists(st.sampled_from((4, 5, 0)), max_size=3),
    }
)
event_st = st.fixed_dictionaries(
    {
        "n": st.integers(0, 30),
        "decision": st.integers(0, 9),  # 8 and 9 are never reported
        "offer": st.sampled_from(OFFERS),
        "type": st.sampled_from(KINDS),
    }
)
steps_st = st.lists(
    st.one_of(st.tuples(st.just("decision"), decision_st), st.tuples(st.just("event"), event_st)),
    max_size=40,
)


def _record(item: dict) -> dict:
    offers = [o for o in item["offers"] if o not in item["holdouts"]]
    return {
        "decision_id": f"decision-{item['n']}",
        "bundle_version": 1,
        "decided_at": f"2026-11-0{item['day']}T10:00:00Z",
        "channel": item["channel"],
        "category": "billing",
        "offers": [{"ruleset": "r", "offer": o, "rule": "Rule A"} for o in offers],
        "holdouts": [{"ruleset": "r", "offer": o, "rule": "Rule B"} for o in item["holdouts"]],
        "tone": item["tone"],
        "guards": [{"ruleset": "r", "line": 2, "text": "tone is angry"}] if item["guarded"] else [],
        "withheld": [
            {"offer": "savings", "line": line, "text": f"line {line}", "reason": "capped"}
            for line in item["withheld"]
        ],
    }


def _event(item: dict) -> dict:
    return {
        "event_id": f"event-{item['n']}",
        "type": item["type"],
        "offer_key": item["offer"],
        "decision_id": f"decision-{item['decision']}",
    }


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps_st, batch=st.integers(1, 5))
def test_rollups_equal_a_raw_recount_whatever_the_order(session, steps, batch) -> None:
    for table in (DecisionRollup, OfferRollup, HarmRollup, FeedbackEvent, Decision):
        session.execute(delete(table))
    pending: dict[str, list] = {"decision": [], "event": []}

    def flush(kind: str) -> None:
        if pending[kind]:
            if kind == "decision":
                decision_log.ingest(session, {"decisions": pending[kind]})
            else:
                events.ingest(session, {"events": pending[kind]})
            pending[kind] = []

    for kind, item in steps:
        other = "event" if kind == "decision" else "decision"
        flush(other)  # keep the arrival order across the two endpoints
        pending[kind].append(_record(item) if kind == "decision" else _event(item))
        if len(pending[kind]) >= batch:
            flush(kind)
    flush("decision")
    flush("event")
    session.flush()

    assert rollups.stored(session) == rollups.recount(session)
    assert rollups.offer_stored(session) == rollups.offer_recount(rollups.recount(session))
    assert rollups.harm_stored(session) == rollups.harm_recount(session)

    # An independent count from the generated data: first arrival of each id wins.
    decisions: dict[str, dict] = {}
    outcomes: dict[str, dict] = {}
    for kind, item in steps:
        if kind == "decision":
            decisions.setdefault(f"decision-{item['n']}", _record(item))
        else:
            outcomes.setdefault(f"event-{item['n']}", _event(item))
    expected: Counter = Counter()
    for record in decisions.values():
        for arm in ("offers", "holdouts"):
            for entry in record[arm]:
                expected[(entry["offer"], arm, "decisions")] += 1
    column = {
        "shown": "shown",
        "accepted": "accepted",
        "declined": "declined",
        "complaint": "complaints",
    }
    for event in outcomes.values():
        record = decisions.get(event["decision_id"])
        if record is None or event["type"] not in column:
            continue
        for arm in ("offers", "holdouts"):
            if any(e["offer"] == event["offer_key"] for e in record[arm]):
                expected[(event["offer_key"], arm, column[event["type"]])] += 1
                break
    got: Counter = Counter()
    for key, counts in rollups.stored(session).items():
        arm = "offers" if key[7] == "treatment" else "holdouts"
        for name, n in counts.items():
            if n and name != "value_cents":
                got[(key[1], arm, name)] += n
    assert got == +expected
