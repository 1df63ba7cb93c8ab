"""Complaints through the API: the owner is told, and a threshold pauses the offer.

Jobs run immediately in test apps (the real-consumer path with a restart is in
tests/studio/test_auto_pause_restart.py).
"""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from studio.errors import ValidationFailed
from studio.models import AuditEvent, Bundle, Notification, OfferPause
from studio.roles import MARKETER, REVIEWER
from studio.services import auto_pause, bundles, publish, signing
from tests.api.conftest import CHECKBOOK
from tests.factories import make_user, post, sign_in_as
from tests.factories.offers import make_offer

OFFER = "overdraft_protection"


def _events(client: FlaskClient, auth, kind: str, count: int, start: int = 0):
    batch = [
        {
            "event_id": f"{kind}-{start + n}",
            "type": kind,
            "offer_key": OFFER,
            "channel": "email",
            "category": "transactional",
        }
        for n in range(count)
    ]
    answer = client.post("/api/v1/events", json={"events": batch}, headers=auth)
    assert answer.status_code == 200
    return answer.get_json()


def _offers_decided(client: FlaskClient, auth) -> list[str]:
    answer = client.post("/api/v1/decide", json={"interaction": CHECKBOOK}, headers=auth)
    return [o["offer"] for o in answer.get_json()["offers"]]


def _current_offer_keys(session) -> set[str]:
    current = bundles.current(session)
    return {o["key"] for o in json.loads(current.body)["offers"]}


@pytest.fixture
def owner(session):
    marketer = make_user(session, MARKETER, email="owner@example.com")
    make_offer(session, marketer, OFFER)
    auto_pause.set_threshold(session, OFFER, "10", "20", actor=marketer)
    session.commit()
    return marketer


def test_a_complaint_reaches_the_owners_inbox_at_once(
    client, session, published: Bundle, auth, owner
) -> None:
    _events(client, auth, "complaint", 1)
    [note] = session.scalars(select(Notification).where(Notification.user_id == owner.id))
    assert note.kind == "complaint" and OFFER in note.message


def test_crossing_the_threshold_publishes_an_emergency_bundle_without_the_offer(
    app: Flask, client, session, published: Bundle, auth, owner
) -> None:
    reviewer = make_user(session, REVIEWER)
    assert _offers_decided(client, auth) == [OFFER]
    _events(client, auth, "shown", 20)
    _events(client, auth, "complaint", 2)  # 10%: not above the threshold
    assert session.scalars(select(OfferPause)).all() == []
    _events(client, auth, "complaint", 1, start=2)  # 15%
    session.expire_all()
    [pause] = session.scalars(select(OfferPause)).all()
    assert pause.status == "paused" and pause.evidence["complaints"] == 3
    current = bundles.current(session)
    assert current.version == published.version + 1 and current.published_by is None
    assert OFFER not in _current_offer_keys(session)
    assert _offers_decided(client, auth) == []
    [entry] = session.scalars(select(AuditEvent).where(AuditEvent.action == "offer.auto_pause"))
    assert entry.actor_id is None and entry.detail["system"] is True
    assert entry.detail["evidence"]["shown"] == 20
    told = {
        n.user_id
        for n in session.scalars(select(Notification).where(Notification.kind == "auto_pause"))
    }
    assert told == {owner.id, reviewer.id}
    # More complaints do not pause it twice.
    _events(client, auth, "complaint", 3, start=3)
    assert len(session.scalars(select(OfferPause)).all()) == 1

    ring = signing.load_or_create_keys(app.instance_path)
    auto_pause.review(session, pause.id, "undo", actor=reviewer, ring=ring)
    session.commit()
    assert pause.status == "undone" and OFFER in _current_offer_keys(session)
    assert _offers_decided(client, auth) == [OFFER]


def test_publishing_leaves_a_paused_offer_out_until_the_pause_is_undone(
    app: Flask, client, session, published: Bundle, auth, owner
) -> None:
    _events(client, auth, "shown", 20)
    _events(client, auth, "complaint", 3)
    assert OFFER not in {o["key"] for o in publish.prepare(session).body["offers"]}


def test_an_undone_pause_stays_undone_until_new_complaints_cross_the_threshold(
    app: Flask, client, session, published: Bundle, auth, owner
) -> None:
    """The sweep counted every event of all time, so the evidence the reviewer had judged
    paused the offer again within a minute of the undo."""
    reviewer = make_user(session, REVIEWER)
    ring = signing.load_or_create_keys(app.instance_path)
    _events(client, auth, "shown", 20)
    _events(client, auth, "complaint", 3)
    [first] = session.scalars(select(OfferPause)).all()
    auto_pause.review(session, first.id, "undo", actor=reviewer, ring=ring)
    session.commit()
    assert auto_pause.sweep(session, ring) == []  # the periodic check, a minute later
    _events(client, auth, "complaint", 1, start=3)  # one more, but no new exposures yet
    session.expire_all()
    assert len(session.scalars(select(OfferPause)).all()) == 1
    assert OFFER in _current_offer_keys(session)
    _events(client, auth, "shown", 20, start=20)
    _events(client, auth, "complaint", 2, start=4)  # 3 in the 20 shown since the undo
    session.expire_all()
    second = session.scalars(select(OfferPause).where(OfferPause.id != first.id)).one()
    assert second.status == "paused" and second.evidence["shown"] == 20
    assert second.evidence["complaints"] == 3 and "since" in second.evidence
    assert OFFER not in _current_offer_keys(session)


def test_rolling_back_to_a_bundle_from_before_a_pause_leaves_the_paused_offer_out(
    app: Flask, client, session, published: Bundle, auth, owner
) -> None:
    reviewer = make_user(session, REVIEWER)
    ring = signing.load_or_create_keys(app.instance_path)
    _events(client, auth, "shown", 20)
    _events(client, auth, "complaint", 3)
    assert OFFER not in _current_offer_keys(session)
    publish.rollback(session, actor=reviewer, version=published.version, ring=ring)
    session.commit()
    current = bundles.current(session)
    assert current.rollback_of == published.version
    assert OFFER not in _current_offer_keys(session)
    assert f"offer:{OFFER}" not in json.loads(current.body)["revisions"]
    assert _offers_decided(client, auth) == []


@pytest.mark.parametrize(
    ("rate", "minimum", "field"),
    [
        ("0", "20", "rate"),
        ("lots", "20", "rate"),
        ("101", "20", "rate"),
        ("5", "0", "min_exposures"),
        ("5", "many", "min_exposures"),
    ],
)
def test_a_bad_threshold_is_refused_with_its_field(session, owner, rate, minimum, field) -> None:
    with pytest.raises(ValidationFailed) as refused:
        auto_pause.set_threshold(session, OFFER, rate, minimum, actor=owner)
    assert refused.value.errors[0].field == field
    assert auto_pause.thresholds(session)[OFFER].rate == pytest.approx(0.10)


def test_the_rollback_page_says_a_paused_offer_stays_out(
    app: Flask, client, session, published: Bundle, auth, owner
) -> None:
    _events(client, auth, "shown", 20)
    _events(client, auth, "complaint", 3)
    [pause] = session.scalars(select(OfferPause)).all()
    sign_in_as(client, make_user(session, REVIEWER))
    page = client.get(f"/bundles/{published.version}/rollback").get_data(as_text=True)
    assert "Offers paused for complaints stay out of the rolled-back bundle" in page
    assert f'href="/pauses/{pause.id}">{OFFER}</a> (paused)' in page


def test_the_offer_pages_say_an_offer_is_paused_for_complaints_and_link_its_review(
    app: Flask, client, session, published: Bundle, auth, owner
) -> None:
    _events(client, auth, "shown", 20)
    _events(client, auth, "complaint", 3)
    [pause] = session.scalars(select(OfferPause)).all()
    sign_in_as(client, owner)
    link = f'href="/pauses/{pause.id}"'
    for path in ("/offers/", f"/offers/{OFFER}"):
        page = client.get(path).get_data(as_text=True)
        assert link in page and "paused for complaints</a>" in page, path


def test_the_rollback_page_of_the_current_bundle_says_there_is_nothing_to_roll_back(
    client, session, published: Bundle
) -> None:
    sign_in_as(client, make_user(session, REVIEWER))
    answer = client.get(f"/bundles/{published.version}/rollback")
    page = answer.get_data(as_text=True)
    assert f"v{published.version} is already current: there is nothing to roll back." in page
    assert "<button" not in page.split("<main", 1)[-1].split("</main>", 1)[0]


def test_the_pause_page_shows_its_complaints_and_who_undid_it_after_a_confirmation(
    app: Flask, client, session, published: Bundle, auth, owner
) -> None:
    reviewer = make_user(session, REVIEWER, name="Rita Reviewer")
    answer = client.post("/api/v1/decide", json={"interaction": CHECKBOOK}, headers=auth)
    decision_id = answer.get_json()["decision_id"]
    _events(client, auth, "shown", 20)
    complaint = {
        "event_id": "c-1",
        "type": "complaint",
        "offer_key": OFFER,
        "decision_id": decision_id,
    }
    client.post("/api/v1/events", json={"events": [complaint]}, headers=auth)
    _events(client, auth, "complaint", 2, start=5)
    [pause] = session.scalars(select(OfferPause)).all()
    sign_in_as(client, reviewer)
    page = client.get(f"/pauses/{pause.id}").get_data(as_text=True)
    assert "The complaints before the pause" in page
    assert f'href="/decisions/{decision_id}">decision {decision_id}</a>' in page
    assert f'href="/bundles/{pause.paused_version}"' in page
    assert 'value="keep" class="btn btn-primary">Keep paused' in page
    assert f'href="/pauses/{pause.id}/undo">Undo the pause…</a>' in page
    asked = client.get(f"/pauses/{pause.id}/undo").get_data(as_text=True)
    assert "will not pause it again" in asked and 'value="undo"' in asked
    assert post(client, f"/pauses/{pause.id}/review", {"verdict": "undo"}).status_code == 302
    page = client.get(f"/pauses/{pause.id}").get_data(as_text=True)
    assert "Undone by Rita Reviewer on " in page and "Undo the pause…" not in page
