"""`/m/<token>`: what a customer sees and does, and what each action records."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from studio.models import FeedbackEvent, Message, Notification
from studio.services import analytics, attribution, messages, surveys
from tests.factories import make_user, sign_in_as
from tests.factories.offers import make_offer
from tests.studio.customer.conftest import OpenMessage


def _events(session: Session, kind: str | None = None) -> list[FeedbackEvent]:
    session.expire_all()
    query = select(FeedbackEvent).order_by(FeedbackEvent.id)
    if kind:
        query = query.where(FeedbackEvent.type == kind)
    return list(session.scalars(query))


def test_first_open_shows_response_and_offer_and_records_shown_once(
    client: FlaskClient, open_message: OpenMessage, session: Session
) -> None:
    opened = open_message(text="Your checks are ordered.")
    for _ in range(3):
        response = client.get(opened["path"])
        assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Your checks are ordered." in html
    assert "Accept" in html and "Not for me" in html and "This offer was not welcome" in html
    assert "How likely are you to recommend us" in html
    [shown] = _events(session, "shown")
    assert shown.offer_key == "overdraft_protection" and shown.rule
    assert shown.bundle_version == opened["bundle"]["version"]
    assert shown.customer_id == "c-1001" and shown.payload["message_id"] == opened["message"]["id"]


def test_an_address_in_a_plain_text_answer_is_a_link_the_customer_can_open(
    client: FlaskClient, open_message: OpenMessage
) -> None:
    opened = open_message(
        text="Reset it at https://bank.example/reset?step=1&x=2. "
        "Not javascript:alert(1) <b>nor</b> this."
    )
    html = client.get(opened["path"]).get_data(as_text=True)
    assert (
        '<a href="https://bank.example/reset?step=1&amp;x=2" rel="noopener noreferrer '
        'nofollow">https://bank.example/reset?step=1&amp;x=2</a>. Not' in html
    )
    assert "javascript:alert(1) &lt;b&gt;nor&lt;/b&gt; this." in html


def test_the_page_says_until_when_it_stays_the_way_offers_write_dates(
    client: FlaskClient, open_message: OpenMessage, session: Session
) -> None:
    opened = open_message()
    stored = session.get(Message, opened["message"]["id"])
    assert stored is not None
    expires = stored.expires_at
    html = client.get(opened["path"]).get_data(as_text=True)
    assert f"stays available until {expires:%B} {expires.day}, {expires:%Y}." in html
    assert 'rel="icon"' in html  # no 404 for /favicon.ico on every customer visit


def test_customer_page_has_no_script_no_cookie_and_keeps_the_token_from_referrers(
    client: FlaskClient, open_message: OpenMessage
) -> None:
    response = client.get(open_message()["path"])
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert "<script" not in response.get_data(as_text=True)


def test_accept_records_once_and_a_later_decline_does_not_change_the_answer(
    client: FlaskClient, open_message: OpenMessage, session: Session
) -> None:
    path = open_message()["path"]
    client.get(path)
    for _ in range(2):
        response = client.post(f"{path}/offers/overdraft_protection/accept")
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"{path}#offer-overdraft_protection")
    client.post(f"{path}/offers/overdraft_protection/decline")
    assert [e.type for e in _events(session) if e.type in ("accepted", "declined")] == ["accepted"]
    assert "You accepted this offer" in client.get(path).get_data(as_text=True)


def test_decline_is_recorded_with_the_decision_it_answers(
    client: FlaskClient, open_message: OpenMessage, session: Session
) -> None:
    opened = open_message()
    client.post(f"{opened['path']}/offers/overdraft_protection/decline")
    [declined] = _events(session, "declined")
    assert declined.offer_key == "overdraft_protection"
    assert declined.rule == opened["offers"][0]["rule"]
    assert declined.bundle_version == opened["bundle"]["version"]
    assert declined.event_id == f"msg-{opened['message']['id']}-answer-overdraft_protection"


def test_complaint_asks_then_records_once_and_tells_marketing(
    client: FlaskClient, open_message: OpenMessage, session: Session
) -> None:
    marketer = make_user(session, "marketer")
    opened = open_message()
    path = opened["path"]
    page = client.get(f"{path}/offers/overdraft_protection/not-welcome")
    assert page.status_code == 200 and "Tell them" in page.get_data(as_text=True)
    assert _events(session, "complaint") == []
    for _ in range(2):
        done = client.post(f"{path}/offers/overdraft_protection/not-welcome")
        assert "Thank you for telling us" in done.get_data(as_text=True)
    assert len(_events(session, "complaint")) == 1
    notes = list(session.scalars(select(Notification).where(Notification.kind == "complaint")))
    assert [n.user_id for n in notes] == [marketer.id]
    assert "was not welcome" in notes[0].message
    assert notes[0].link == f"/decisions/{opened['decision_id']}"


def test_nps_form_then_comment_stored_as_text_and_shown_escaped(
    client: FlaskClient, open_message: OpenMessage, session: Session
) -> None:
    path = open_message()["path"]
    response = client.post(f"{path}/nps", data={"score": "9"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{path}/thanks")
    client.post(f"{path}/nps", data={"score": "3"})
    [nps] = _events(session, "nps")
    assert nps.score == 9 and nps.offer_key == "overdraft_protection"
    comment = '<img src=x onerror="alert(1)"> Great & quick'
    assert client.post(f"{path}/comment", data={"comment": comment}).status_code == 303
    thanks = client.get(f"{path}/thanks").get_data(as_text=True)
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; Great &amp; quick" in thanks
    assert "<img src=x" not in thanks
    client.post(f"{path}/comment", data={"comment": "second"})
    session.expire_all()
    assert session.scalar(select(Message.nps_comment)) == comment


@pytest.mark.parametrize("score", ["11", "ten", "-1", "", "9.5", "09999"])
def test_bad_scores_get_a_customer_message_and_store_nothing(
    client: FlaskClient, open_message: OpenMessage, session: Session, score: str
) -> None:
    path = open_message()["path"]
    response = client.post(f"{path}/nps", data={"score": score})
    assert response.status_code == 400
    assert "Choose a number from 0 to 10" in response.get_data(as_text=True)
    assert _events(session, "nps") == []


def test_a_one_megabyte_comment_is_refused_and_the_typed_text_kept(
    client: FlaskClient, open_message: OpenMessage, session: Session
) -> None:
    path = open_message()["path"]
    client.post(f"{path}/nps", data={"score": "8"})
    response = client.post(f"{path}/comment", data={"comment": "a" * 1_000_000})
    assert response.status_code in (413, 422)
    if response.status_code == 422:
        assert "please keep it to at most 2,000" in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(Message.nps_comment)) is None
    short = client.post(f"{path}/comment", data={"comment": "b" * 2500})
    assert short.status_code == 422 and "b" * 2500 in short.get_data(as_text=True)


def test_signed_score_link_records_the_score_and_asks_for_a_comment(
    app: Flask, client: FlaskClient, open_message: OpenMessage, session: Session
) -> None:
    opened = open_message()
    secret = app.config["STUDIO_SETTINGS"].secret_key
    link = f"{opened['path']}/nps/10?s={surveys.score_signature(secret, opened['token'], 10)}"
    for _ in range(2):
        response = client.get(link)
        assert response.status_code == 200
        assert "You gave us <strong>10 out of 10</strong>" in response.get_data(as_text=True)
    assert [e.score for e in _events(session, "nps")] == [10]


def test_tampered_score_links_are_refused(
    app: Flask, client: FlaskClient, open_message: OpenMessage, session: Session
) -> None:
    opened = open_message()
    secret = app.config["STUDIO_SETTINGS"].secret_key
    good = surveys.score_signature(secret, opened["token"], 10)
    for link in (
        f"{opened['path']}/nps/0?s={good}",
        f"{opened['path']}/nps/10",
        f"{opened['path']}/nps/10?s={good[:-1]}",
        f"{opened['path']}/nps/ten?s={good}",
    ):
        response = client.get(link)
        assert response.status_code == 400, link
        assert "This survey link is not complete" in response.get_data(as_text=True)
    assert _events(session, "nps") == []


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1],
        lambda t: t + "A",
        lambda t: ("A" if t[0] != "A" else "B") + t[1:],
        lambda t: "../admin",
        lambda t: "x" * 500,
    ],
)
def test_forged_or_truncated_tokens_get_the_customer_page_not_the_staff_404(
    client: FlaskClient, open_message: OpenMessage, session: Session, mangle
) -> None:
    token = open_message()["token"]
    response = client.get(f"/m/{mangle(token)}")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "We could not find this message" in html and "Sign in" not in html
    assert client.post(f"/m/{mangle(token)}/offers/overdraft_protection/accept").status_code == 404
    assert _events(session) == []


def test_expired_and_withdrawn_messages_say_so(
    client: FlaskClient, open_message: OpenMessage, session: Session
) -> None:
    first, second = open_message(), open_message()
    session.execute(
        update(Message)
        .where(Message.id == first["message"]["id"])
        .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    session.commit()
    messages.withdraw(session, second["message"]["id"], actor_id=None)
    session.commit()
    expired = client.get(first["path"])
    assert expired.status_code == 410 and "This message has expired" in expired.get_data(
        as_text=True
    )
    withdrawn = client.post(f"{second['path']}/offers/overdraft_protection/accept")
    assert withdrawn.status_code == 410
    assert "This message was withdrawn" in withdrawn.get_data(as_text=True)
    assert _events(session) == []


def test_too_many_requests_for_one_token_get_a_customer_page_with_retry_after(
    app: Flask, client: FlaskClient, open_message: OpenMessage
) -> None:
    app.config["CUSTOMER_TOKEN_LIMIT"] = 3
    app.extensions.pop("studio.customer.limits", None)
    path = open_message()["path"]
    statuses = [client.get(path).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    busy = client.get(path)
    assert "Too many requests" in busy.get_data(as_text=True)
    assert int(busy.headers["Retry-After"]) >= 1


def test_an_unknown_address_under_m_is_a_customer_page(client: FlaskClient) -> None:
    response = client.get("/m/abc/def/ghi")
    assert response.status_code == 404
    assert "We could not find this message" in response.get_data(as_text=True)


def test_an_offer_the_message_does_not_hold_says_so_and_leads_back_to_the_message(
    client: FlaskClient, open_message: OpenMessage, session: Session
) -> None:
    path = open_message()["path"]
    for method, where in [
        (client.post, "accept"),
        (client.post, "decline"),
        (client.post, "not-welcome"),
        (client.get, "not-welcome"),
    ]:
        # rewards_card is a real offer, only not one this message holds
        response = method(f"{path}/offers/rewards_card/{where}")
        html = response.get_data(as_text=True)
        assert response.status_code == 404, where
        assert "This offer is not part of your message" in html
        assert f'href="{path}"' in html, "a way back to the message, which is there"
    assert _events(session, "accepted") == [] and _events(session, "complaint") == []


def test_survey_is_not_asked_twice_within_the_frequency_window(
    client: FlaskClient, open_message: OpenMessage, session: Session
) -> None:
    first = open_message()
    assert first["message"]["survey"] is True
    second = open_message()
    assert second["message"]["survey"] is False
    page = client.get(second["path"]).get_data(as_text=True)
    assert "How likely are you" not in page
    assert 'href=""' not in page, "no link to a survey this message does not ask"
    assert not re.search(r"/nps/\d+\?s=", second["offers"][0]["variants"]["sms"]["text"])
    assert session.scalar(select(func.count()).select_from(Message)) == 2


def test_a_message_that_does_not_ask_refuses_scores(
    client: FlaskClient, open_message: OpenMessage, session: Session
) -> None:
    open_message()
    quiet = open_message()
    assert quiet["message"]["survey"] is False
    response = client.post(f"{quiet['path']}/nps", data={"score": "9"})
    assert response.status_code == 303
    assert _events(session, "nps") == []


def test_every_action_on_the_page_names_the_decision_that_opened_it(
    app: Flask, client: FlaskClient, open_message: OpenMessage, session: Session
) -> None:
    opened = open_message()
    decision_id, path = opened["decision_id"], opened["path"]
    client.get(path)
    client.post(f"{path}/offers/overdraft_protection/accept")
    client.post(f"{path}/offers/overdraft_protection/not-welcome")
    client.post(f"{path}/nps", data={"score": "9"})
    recorded = {e.type: e.decision_id for e in _events(session)}
    assert recorded == dict.fromkeys(("shown", "accepted", "complaint", "nps"), decision_id)
    session.expire_all()
    assert session.get(Message, opened["message"]["id"]).decision_id == decision_id

    staff = app.test_client()
    sign_in_as(staff, make_user(session, "service_lead"))
    html = staff.get(f"/decisions/{decision_id}").get_data(as_text=True)
    assert "No events name this decision yet" not in html
    assert "accepted" in html and "complaint" in html and "nps" in html
    today = datetime.now(UTC).date()
    window = analytics.Window(today - timedelta(days=1), today + timedelta(days=1))
    [line] = attribution.attribution(session, window, attribution.Filters()).offers
    treated = line.treatment
    assert (line.offer_key, treated.decisions, treated.shown) == ("overdraft_protection", 1, 1)
    assert (treated.accepted, treated.complaints) == (1, 1)


def test_a_complaint_on_the_page_reports_like_an_api_complaint_once(
    client: FlaskClient, open_message: OpenMessage, session: Session
) -> None:
    owner = make_user(session, "marketer")
    make_offer(session, owner, "overdraft_protection")
    opened = open_message()
    for _ in range(2):
        client.post(f"{opened['path']}/offers/overdraft_protection/not-welcome")
    notes = list(session.scalars(select(Notification).where(Notification.kind == "complaint")))
    assert [(n.user_id, n.link) for n in notes] == [
        (owner.id, f"/decisions/{opened['decision_id']}")
    ]
