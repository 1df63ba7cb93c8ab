"""Rollups kept as decisions and events arrive equal a recount of the raw rows.

Hypothesis sends decisions and events in any order, in batches, with duplicates,
events for decisions never reported, and events about offers the decision did not
involve; the rollup table must equal both the raw recount and a count made here from
the generated data alone, the offer rollups the recount summed over channel, category
and bundle, and the harm rollups a recount of the guards and policy refusals logged.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from studio.models import (
    Decision,
    DecisionRollup,
    EventRollup,
    FeedbackEvent,
    HarmRollup,
    OfferRollup,
)
from studio.services import analytics, decision_log, event_rollups, events, rollups

OFFERS = ("card_plan", "autopay", "savings")
KINDS = ("shown", "accepted", "declined", "complaint", "clicked", "nps")

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
        "score": st.one_of(st.none(), st.integers(0, 10)),
        "day": st.integers(1, 3),
        "hour": st.sampled_from((0, 12, 23)),
        "channel": st.sampled_from(("email", "chat")),
        "bundle": st.sampled_from((None, 1, 2)),
        "with_offer": st.booleans(),
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
    """An event; NPS answers may name no offer and no score, any event no bundle."""
    nps = item["type"] == "nps"
    out = {
        "event_id": f"event-{item['n']}",
        "type": item["type"],
        "decision_id": f"decision-{item['decision']}",
        "at": f"2026-11-0{item['day']}T{item['hour']:02d}:30:00Z",
        "channel": item["channel"],
        "category": "billing",
    }
    if not nps or item["with_offer"]:
        out["offer_key"] = item["offer"]
    if nps and item["score"] is not None:
        out["score"] = item["score"]
    if item["bundle"] is not None:
        out["bundle_version"] = item["bundle"]
    return out


_DECISION = {
    "n": 0,
    "offers": [],
    "holdouts": [],
    "day": 1,
    "channel": "email",
    "tone": "calm",
    "guarded": False,
    "withheld": [],
}
_EVENT = {
    "n": 5,
    "decision": 0,
    "offer": "card_plan",
    "type": "shown",
    "score": None,
    "day": 1,
    "hour": 0,
    "channel": "email",
    "bundle": None,
    "with_offer": False,
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps_st, batch=st.integers(1, 5))
@example(  # a refused answer (no score) does not claim its id: the next event keeps it
    steps=[
        ("decision", {**_DECISION, "holdouts": ["card_plan"]}),
        ("event", {**_EVENT, "type": "nps", "score": None}),
        ("event", {**_EVENT, "type": "shown"}),
    ],
    batch=1,
)
def test_rollups_equal_a_raw_recount_whatever_the_order(session, steps, batch) -> None:
    for table in (DecisionRollup, OfferRollup, HarmRollup, EventRollup, FeedbackEvent, Decision):
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
    assert event_rollups.stored(session) == event_rollups.recount(session)
    for window in (WHOLE, analytics.Window(date(2026, 11, 2), date(2026, 11, 2))):
        for offer in ("", "autopay"):
            assert _answers(analytics.report(session, window, offer_key=offer)) == _answers(
                _raw_report(session, window, offer)
            )

    # An independent count from the generated data: the first accepted arrival of each
    # id wins (an NPS answer without a score is refused, so it claims no id).
    decisions: dict[str, dict] = {}
    outcomes: dict[str, dict] = {}
    for kind, item in steps:
        if kind == "decision":
            decisions.setdefault(f"decision-{item['n']}", _record(item))
        elif item["type"] != "nps" or item["score"] is not None:
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


WHOLE = analytics.Window(date(2026, 11, 1), date(2026, 11, 3))


def _answers(report: analytics.Report) -> dict:
    """What `/analytics/`, its chart and the offer list show, as plain values."""

    def figures(row: analytics.Row) -> tuple:
        return (dict(row.counts), row.promoters, row.detractors, row.answers)

    return {
        "rows": [
            (r.offer_key, r.category, r.channel, r.bundle_version, figures(r)) for r in report.rows
        ],
        "offers": [(r.offer_key, figures(r)) for r in report.offers],
        "total": report.total_events,
        "nps": (report.overall_nps, report.nps_answers),
        "keys": report.offer_keys,
    }


def _raw_report(session, window: analytics.Window, offer: str) -> analytics.Report:
    """The page's answer counted from the raw event log, as it was before the rollup."""
    start = datetime.combine(window.start, time.min, tzinfo=UTC)
    end = datetime.combine(window.end + timedelta(days=1), time.min, tzinfo=UTC)
    found = session.scalars(
        select(FeedbackEvent).where(FeedbackEvent.at >= start, FeedbackEvent.at < end)
    ).all()
    groups: dict[tuple, analytics.Row] = {}
    by_offer: dict[str, analytics.Row] = {}
    overall = analytics.Row("", "", "", None)
    total = 0
    for e in found:
        if offer and e.offer_key != offer:
            continue
        total += 1
        targets = [overall] if e.type == "nps" else []
        if e.offer_key:
            key = (e.offer_key, e.category, e.channel, e.bundle_version)
            row = groups.setdefault(key, analytics.Row(*key))
            mine = by_offer.setdefault(e.offer_key, analytics.Row(e.offer_key, "", "", None))
            if e.type in analytics.COUNTED:
                row.counts[e.type] += 1
                mine.counts[e.type] += 1
            elif e.type == "nps":
                targets += [row, mine]
        for target in targets:
            if e.score is not None:
                target.answers += 1
                target.promoters += e.score >= 9
                target.detractors += e.score <= 6
    keys = sorted({e for e in session.scalars(select(FeedbackEvent.offer_key)) if e})
    return analytics.Report(
        window=window,
        rows=sorted(
            groups.values(),
            key=lambda r: (r.offer_key, r.category, r.channel, r.bundle_version or 0),
        ),
        offers=sorted(by_offer.values(), key=lambda r: (-r.counts["shown"], r.offer_key)),
        total_events=total,
        overall_nps=overall.nps,
        nps_answers=overall.answers,
        offer_keys=keys,
    )


def test_a_decision_reported_while_its_events_are_stored_is_counted_once(
    session, monkeypatch
) -> None:
    """Ingest reads the events' decisions before it inserts them; a decision stored in
    between (another request) must still get the events' outcomes, once."""
    from studio.services import outcomes

    for table in (DecisionRollup, OfferRollup, HarmRollup, EventRollup, FeedbackEvent, Decision):
        session.execute(delete(table))
    look_up = outcomes.look_up

    def decision_arrives(session_, rows):
        known = look_up(session_, rows)
        decision_log.ingest(
            session_, {"decisions": [_record({**_DECISION, "offers": ["autopay"]})]}
        )
        return known

    monkeypatch.setattr(outcomes, "look_up", decision_arrives)
    report = events.ingest(
        session,
        {"events": [_event({**_EVENT, "offer": "autopay", "with_offer": True})]},
    )
    session.flush()

    assert isinstance(report, events.IngestReport)
    assert [r.status for r in report.results] == ["stored"]
    assert rollups.stored(session) == rollups.recount(session)
    (counts,) = rollups.stored(session).values()
    assert (counts["decisions"], counts["shown"]) == (1, 1)


def test_logged_decisions_key_each_offer_as_arm_of_does(session) -> None:
    """Ingest reads its events' decisions on the driver's cursor (`logged_decisions`);
    the key of each offer must be the one `arm_of` gives for the stored decision, for
    odd offers lists and a time near midnight in another zone too."""
    from zoneinfo import ZoneInfo

    session.execute(delete(Decision))
    entries = [
        {"ruleset": "r", "offer": "card_plan", "rule": "Rule A"},
        "not an entry",
        {"ruleset": "r", "offer": 7, "rule": "Rule B"},
        {"ruleset": "r", "offer": "card_plan", "rule": "Rule C"},  # the first one counts
        {"offer": "autopay", "rule": "x" * 250},
    ]
    moments = (
        datetime(2026, 11, 2, 23, 30, tzinfo=UTC),
        datetime(2026, 11, 3, 0, 30, tzinfo=ZoneInfo("Europe/Berlin")),
        datetime(2026, 11, 2, 20, 30, tzinfo=ZoneInfo("America/New_York")),
    )
    for n, moment in enumerate(moments):
        session.add(
            Decision(
                id=f"odd-{n}",
                source="client",
                bundle_version=None if n else 3,
                channel="email" if n else "",
                category="billing",
                offers=entries if n != 1 else [],
                holdouts=[{"ruleset": "r", "offer": "savings", "rule": "Hold"}, *entries],
                decided_at=moment,
            )
        )
    session.commit()
    session.expire_all()

    found = rollups.logged_decisions(session, ["odd-0", "odd-1", "odd-2", "odd-none"])

    assert set(found) == {"odd-0", "odd-1", "odd-2"}
    for decision_id, arms in found.items():
        decision = session.get(Decision, decision_id)
        assert decision is not None
        assert set(arms) == {"card_plan", "autopay", "savings"}
        for offer in (*arms, "unknown", ""):
            assert arms.get(offer) == rollups.arm_of(decision, offer)
