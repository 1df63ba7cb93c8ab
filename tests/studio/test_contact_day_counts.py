"""The studio's contact history keeps per-day offer counters that equal a recount.

Daily caps read `contact_day_counts` instead of counting the day's rows, so the
counters must always equal the history's rows (whatever mix of decisions, retries and
client reports made them), a daily cap must hold across customers, and a retried
decision must record nothing twice.
"""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from bundle.history import accept
from dsl.policy import Cap, Contact, Outcome, Plan
from studio.db import get_database
from studio.models import ContactDayCount, ContactHistory
from studio.services import contact_history
from studio.services.contact_history import DatabaseHistory

OFFERS = ("refill_generic", "advisor_consultation")
DAY_CAP = Cap(
    1, "limit advisor_consultation to 3 per day", "day", "advisor_consultation", None, 3, 0
)
WEEK_CAP = Cap(
    2,
    "limit refill_generic to 1 per customer per 7 days",
    "customer",
    "refill_generic",
    None,
    1,
    604800,
)
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC).timestamp()

step_st = st.fixed_dictionaries(
    {
        "customer": st.sampled_from(("c-1", "c-2", "c-3", "c-4")),
        "decision": st.integers(0, 12),  # repeated numbers are retries
        "offers": st.lists(st.sampled_from(OFFERS), min_size=1, max_size=2, unique=True),
        "hour": st.integers(0, 60),  # spans three days
        "report": st.booleans(),  # a client's report instead of a /decide
    }
)


def _run(session, steps) -> None:
    store = DatabaseHistory(session)
    for step in steps:
        at = START + step["hour"] * 3600
        if step["report"]:
            contact_history.ingest_reports(
                session,
                {
                    "contacts": [
                        {
                            "decision_id": f"client-{step['decision']}",
                            "customer_id": step["customer"],
                            "offer_key": offer,
                            "at": datetime.fromtimestamp(at, UTC).isoformat(),
                        }
                        for offer in step["offers"]
                    ]
                },
                now=datetime.fromtimestamp(START + 70 * 3600, UTC),
            )
        else:
            contacts = [Contact(offer, "chat", at) for offer in step["offers"]]
            store.record(
                step["customer"], f"d-{step['decision']}", contacts, [DAY_CAP, WEEK_CAP], at
            )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step_st, max_size=25))
def test_the_day_counters_equal_a_recount_of_the_history_after_any_decisions_and_reports(
    session, steps
) -> None:
    session.execute(delete(ContactHistory))
    session.execute(delete(ContactDayCount))
    _run(session, steps)
    assert contact_history.stored_days(session) == contact_history.recount_days(session)


def test_a_daily_cap_holds_across_customers_and_reads_the_counters(session) -> None:
    store = DatabaseHistory(session)
    made = [
        store.record(
            f"c-{n}", f"d-{n}", [Contact("advisor_consultation", "chat", START)], [DAY_CAP], START
        )
        for n in range(5)
    ]
    assert made == [[True], [True], [True], [False], [False]]
    history = store.read(
        "c-9", since=START - 86400, now=START, daily_offers=["advisor_consultation"]
    )
    assert history.day_totals == {"advisor_consultation": 3}
    next_day = START + 86400
    assert store.record(
        "c-9", "d-9", [Contact("advisor_consultation", "chat", next_day)], [DAY_CAP], next_day
    ) == [True]


def test_one_read_gives_the_customers_contacts_outcomes_and_todays_totals_apart(
    session,
) -> None:
    """The window and today's totals come back in one statement: a total's row is never
    taken for a contact or an outcome, and an offer nobody was made today counts 0."""
    store = DatabaseHistory(session)
    store.record("c-1", "d-1", [Contact("advisor_consultation", "chat", START)], [DAY_CAP], START)
    store.record("c-2", "d-2", [Contact("advisor_consultation", "sms", START)], [DAY_CAP], START)
    store.record_outcome("c-1", "e-1", Outcome("advisor_consultation", "declined", START + 60))
    history = store.read(
        "c-1",
        since=START - 86400,
        now=START + 120,
        daily_offers=["advisor_consultation", "mobile_alerts"],
    )
    assert history.contacts == (Contact("advisor_consultation", "chat", START),)
    assert history.outcomes == (Outcome("advisor_consultation", "declined", START + 60),)
    assert history.day_totals == {"advisor_consultation": 2, "mobile_alerts": 0}


def test_a_retried_decision_is_recorded_and_counted_once(session) -> None:
    store = DatabaseHistory(session)
    contacts = [
        Contact("refill_generic", "chat", START),
        Contact("advisor_consultation", "chat", START),
    ]
    assert store.record("c-1", "d-retry", contacts, [], START) == [True, True]
    assert store.record("c-1", "d-retry", contacts, [], START) == [False, False]
    assert session.scalar(select(func.count()).select_from(ContactHistory)) == 2
    assert contact_history.stored_days(session) == contact_history.recount_days(session)
    assert sum(contact_history.stored_days(session).values()) == 2


@pytest.mark.committed
def test_workers_deciding_for_different_customers_at_once_never_exceed_a_daily_cap(app) -> None:
    database = get_database(app)
    start = threading.Barrier(6)
    made: list[bool] = []

    def decide(n: int) -> None:
        own = database.session()
        try:
            start.wait()
            contact = Contact("advisor_consultation", "chat", START)
            made.extend(
                DatabaseHistory(own).record(f"c-{n}", f"d-{n}", [contact], [DAY_CAP], START)
            )
            own.commit()
        except Exception:  # noqa: BLE001 - a worker that fails records nothing
            own.rollback()
        finally:
            own.close()

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    check = database.session()
    try:
        stored = contact_history.stored_days(check)
        assert stored == contact_history.recount_days(check)
        assert sum(stored.values()) == sum(made) <= DAY_CAP.count
        if check.get_bind().dialect.name == "postgresql":
            assert sum(made) == DAY_CAP.count  # they wait for each other, none fails
    finally:
        check.close()


def _one_visit(
    store: DatabaseHistory, customer: str, decision: str, offers, at: float, *, plan: bool = True
) -> list:
    """A decision through the one visit `/api/v1/decide` makes: lock, read, choose what
    fits the caps on the history read, record it (with the policy's plan, as `dispose`
    gives it, or without)."""
    contacts = [Contact(offer, "chat", at) for offer in offers]

    def choose(history):
        fits = accept(contacts, [DAY_CAP, WEEK_CAP], history, history.day_totals, at)
        return [c for c, ok in zip(contacts, fits, strict=True) if ok]

    _, recorded = store.read_and_record(
        customer,
        since=at - WEEK_CAP.seconds,
        now=at,
        daily_offers=["advisor_consultation"],
        decision_id=decision,
        choose=choose,
        plan=Plan("chat", tuple(offers), None, None, (DAY_CAP, WEEK_CAP), ()) if plan else None,
    )
    return recorded


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step_st, max_size=25))
def test_decisions_read_and_recorded_in_one_visit_never_exceed_a_cap_and_keep_the_counters_true(
    session, steps
) -> None:
    session.execute(delete(ContactHistory))
    session.execute(delete(ContactDayCount))
    store = DatabaseHistory(session)
    for n, step in enumerate(steps):
        at = START + step["hour"] * 3600
        _one_visit(store, step["customer"], f"d-{n}", step["offers"], at)
    assert contact_history.stored_days(session) == contact_history.recount_days(session)
    assert all(
        n <= DAY_CAP.count
        for (_, offer), n in contact_history.stored_days(session).items()
        if offer == "advisor_consultation"
    )
    refills: dict[str, list[float]] = {}
    for customer, at in session.execute(
        select(ContactHistory.customer_id, ContactHistory.at).where(
            ContactHistory.offer_key == "refill_generic"
        )
    ):
        refills.setdefault(customer, []).append(contact_history._seconds(at))
    for moments in refills.values():
        moments.sort()
        assert all(b - a >= WEEK_CAP.seconds for a, b in itertools.pairwise(moments))


def test_a_retried_decision_in_one_visit_records_nothing_twice(session) -> None:
    store = DatabaseHistory(session)
    first = _one_visit(store, "c-1", "d-again", ["advisor_consultation"], START)
    again = _one_visit(store, "c-1", "d-again", ["advisor_consultation"], START + 1)
    assert (first, again) == ([True], [False])
    assert session.scalar(select(func.count()).select_from(ContactHistory)) == 1
    assert sum(contact_history.stored_days(session).values()) == 1


@pytest.mark.committed
@pytest.mark.parametrize("plan", [True, False], ids=["with-plan", "without-plan"])
def test_workers_deciding_in_one_visit_at_once_wait_for_each_other_and_never_exceed_a_cap(
    app, plan: bool
) -> None:
    """Eight threads decide at once for different customers against a cap of 3 a day:
    exactly 3 offers are made, and no decision fails (on SQLite the writers queue at
    the studio's write gate; on PostgreSQL at the advisory lock)."""
    database = get_database(app)
    start = threading.Barrier(8)
    made: list[bool] = []
    failed: list[BaseException] = []

    def decide(n: int) -> None:
        own = database.session()
        try:
            start.wait()
            made.extend(
                _one_visit(
                    DatabaseHistory(own),
                    f"c-{n}",
                    f"d-{n}",
                    ["advisor_consultation"],
                    START,
                    plan=plan,
                )
            )
            own.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            failed.append(exc)
            own.rollback()
        finally:
            own.close()

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failed == []
    check = database.session()
    try:
        stored = contact_history.stored_days(check)
        assert stored == contact_history.recount_days(check)
        assert sum(made) == sum(stored.values()) == DAY_CAP.count
    finally:
        check.close()
