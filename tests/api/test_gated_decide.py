"""`/api/v1/decide` with resolution-gated offers: the demo's bank example, in order.

The demo's retail banking ruleset checks in after a proposed fix and offers
`mobile_alerts` only when the reply on the same thread confirms it (docs/rules.md,
"Resolution-gated offers"). The studio keeps the pending offer in `gated_offers`.
"""

from __future__ import annotations

import copy
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.demo.samples import demo_samples
from studio.models import Bundle, Decision, GatedOffer


def _sample(key: str, tone: str | None = "positive", **inquiry: Any) -> dict[str, Any]:
    """A demo sample as a downstream system sends it: with the tone it measured (the
    samples carry only text, and the ruleset never offers when tone is unknown)."""
    body = copy.deepcopy(next(s for s in demo_samples() if s["key"] == key)["interaction"])
    body["inquiry"].update(inquiry)
    if tone is not None:
        body["tone"] = tone
    return body


def _decide(client: FlaskClient, auth: dict[str, str], interaction: dict[str, Any]) -> Any:
    response = client.post("/api/v1/decide", json={"interaction": interaction}, headers=auth)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _banking_offers(decision: dict[str, Any]) -> list[str]:
    return [o["offer"] for o in decision["offers"] if o["ruleset"] == "retail_banking"]


def test_a_confirming_reply_on_the_same_thread_gets_the_gated_offer(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session: Session
) -> None:
    first = _decide(client, auth, _sample("online-banking-fix-proposed"))
    assert _banking_offers(first) == []
    (scheduled,) = first["gating"]["scheduled"]
    assert (scheduled["offer"], scheduled["thread"], scheduled["recorded"]) == (
        "mobile_alerts",
        "ob-3300-1",
        True,
    )
    waiting = session.scalars(select(GatedOffer)).all()
    assert [(w.offer_key, w.thread, w.status) for w in waiting] == [
        ("mobile_alerts", "ob-3300-1", "pending")
    ]

    reply = _decide(client, auth, _sample("online-banking-fix-confirmed"))
    assert _banking_offers(reply) == ["mobile_alerts"]
    made = next(o for o in reply["offers"] if o["offer"] == "mobile_alerts")
    assert made["gated"]["thread"] == "ob-3300-1"
    assert made["variants"], "the released offer is rendered like any other"
    session.expire_all()
    assert session.scalars(select(GatedOffer.status)).all() == ["released"]

    logged = session.get(Decision, reply["decision_id"])
    assert logged is not None and logged.gating["settled"][0]["outcome"] == "released"
    assert {"offer": "mobile_alerts", "gated_thread": "ob-3300-1"}.items() <= next(
        o for o in logged.offers if o["offer"] == "mobile_alerts"
    ).items()


def test_a_confirming_reply_without_a_tone_is_stopped_by_the_unknown_tone_guard(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session: Session
) -> None:
    _decide(client, auth, _sample("online-banking-fix-proposed"))
    reply = _decide(client, auth, _sample("online-banking-fix-confirmed", tone=None))
    assert _banking_offers(reply) == []
    (settled,) = reply["gating"]["settled"]
    assert settled["outcome"] == "released"
    assert settled["stopped"] == "stopped by a guard (line 4: tone is unknown)"


def test_a_reply_on_another_thread_releases_nothing(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session: Session
) -> None:
    _decide(client, auth, _sample("online-banking-fix-proposed"))
    other = _decide(client, auth, _sample("online-banking-fix-confirmed", thread_id="ob-3300-2"))
    assert _banking_offers(other) == []
    session.expire_all()
    assert session.scalars(select(GatedOffer.status)).all() == ["pending"]


def test_a_reply_saying_the_fix_failed_reopens_the_thread(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session: Session
) -> None:
    _decide(client, auth, _sample("online-banking-fix-proposed"))
    failed = _decide(client, auth, _sample("online-banking-still-broken"))
    assert _banking_offers(failed) == []
    assert failed["gating"]["settled"][0]["outcome"] == "reopened"
    session.expire_all()
    assert session.scalars(select(GatedOffer.status)).all() == ["reopened"]
