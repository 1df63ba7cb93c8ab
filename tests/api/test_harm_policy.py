"""The harm report counts what the contact policy withheld from real decisions."""

from __future__ import annotations

from flask.testing import FlaskClient

from studio.models import Bundle, Decision
from studio.services import analytics, harm, rollups
from tests.api.test_contact_history import REFILL, _decide

CAP = "limit refill_savings to 1 per customer per 7 days"


def test_an_offer_the_weekly_cap_withheld_is_in_the_decision_log_and_the_harm_report(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session
) -> None:
    _decide(client, auth, REFILL)
    second = _decide(client, auth, {**REFILL, "at": "2026-03-04T10:15:00Z"})
    logged = session.get(Decision, second["decision_id"])
    assert [(w["offer"], w["text"]) for w in logged.withheld] == [("refill_savings", CAP)]
    # Withheld is not offered: the log's offers (the lift's exposures) are what was made.
    assert "refill_savings" not in [o["offer"] for o in logged.offers]
    assert [o["offer"] for o in logged.offers] == [o["offer"] for o in second["offers"]]

    day = logged.decided_at.date()  # the log keeps when the studio decided
    found = harm.report(session, analytics.Window(day, day))
    assert found.policy_withheld == 1
    [(line, text, decisions, offers)] = found.by_policy_line
    assert (text, decisions, offers) == (CAP, 1, 1) and line > 0
    assert found.policy_by_tone == (("positive", 1),)
    assert rollups.harm_stored(session) == rollups.harm_recount(session)
