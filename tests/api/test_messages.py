"""`POST /api/v1/messages` and `open_message` on `/decide`: a customer's message, with
absolute, tokened links in every variant."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from content.sms import analyze_sms
from studio.models import Bundle, FeedbackEvent, Message
from studio.services import messages
from tests.api.conftest import CHECKBOOK, IssueToken, bearer

BASE = "http://127.0.0.1:5000"
PAGE = re.compile(re.escape(BASE) + r"/m/([A-Za-z0-9_-]{22})")
OPEN = {
    "response": {
        "text": "Your new checks are on their way.",
        "html": "<p>Your new <b>checks</b> are on their way.</p>",
    }
}


def _decide(client: FlaskClient, auth: dict[str, str], **body: Any):
    return client.post("/api/v1/decide", json=body, headers=auth)


def test_decide_opens_a_message_and_every_variant_links_to_it(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session: Session
) -> None:
    response = _decide(
        client,
        auth,
        interaction=CHECKBOOK,
        channels=["sms", "email_html", "message_center"],
        open_message=OPEN,
    )
    assert response.status_code == 201
    answer = response.get_json()
    url = answer["message"]["url"]
    token = PAGE.fullmatch(url).group(1)
    [offer] = answer["offers"]
    sms = offer["variants"]["sms"]
    assert url in sms["text"] and "/messages/offers/" not in sms["text"]
    assert sms["sms"]["segments"] == analyze_sms(sms["text"]).segments
    assert sms["sms"]["characters"] == len(sms["text"])
    assert f'href="{url}' in offer["variants"]["email_html"]["html"]
    assert (
        f"{url}/nps/" in offer["variants"]["email_html"]["html"]
        or f"{url}#nps" in offer["variants"]["email_html"]["html"]
    )
    stored = session.scalar(select(Message).where(Message.id == answer["message"]["id"]))
    assert stored is not None and stored.token_hash == messages.hash_token(token)
    assert token not in str(stored.decision) and token not in stored.token_hash
    assert stored.decision["offers"][0]["key"] == "overdraft_protection"
    assert stored.decision["offers"][0]["rule"] and stored.bundle_version == published.version
    assert stored.customer_id == "c-1001" and stored.channel == "email"
    assert "<b>checks</b>" in stored.response_html


def test_decide_without_open_message_keeps_placeholder_links_and_status_200(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    response = _decide(client, auth, interaction=CHECKBOOK, channels=["sms"])
    assert response.status_code == 200 and "message" not in response.get_json()


def test_open_message_needs_the_messages_scope(
    client: FlaskClient, published: Bundle, issue_token: IssueToken, session: Session
) -> None:
    response = _decide(
        client, bearer(issue_token("decide")), interaction=CHECKBOOK, open_message=OPEN
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["field"] == "open_message"
    assert session.scalar(select(Message)) is None


def test_post_message_with_a_decision_renders_its_offers_for_the_page(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session: Session
) -> None:
    decision = _decide(client, auth, interaction=CHECKBOOK).get_json()
    response = client.post(
        "/api/v1/messages",
        headers=auth,
        json={
            "customer": {"id": "c-1001", "first_name": "Ann"},
            "channel": "sms",
            "response": {"text": "Done: checks ordered."},
            "decision": decision,
        },
    )
    assert response.status_code == 201
    message = response.get_json()["message"]
    assert PAGE.fullmatch(message["url"]) and response.headers["Location"] == message["url"]
    stored = session.get(Message, message["id"])
    assert stored is not None
    [offer] = stored.decision["offers"]
    assert offer["key"] == "overdraft_protection" and "Ann" in offer["html"]
    assert message["url"] not in offer["html"] and 'href="#nps"' in offer["html"]


def test_a_message_keeps_its_decision_id_and_its_events_name_it(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session: Session
) -> None:
    decided = _decide(client, auth, interaction=CHECKBOOK, open_message=OPEN).get_json()
    stored = session.get(Message, decided["message"]["id"])
    assert stored is not None and stored.decision_id == decided["decision_id"]
    later = _decide(client, auth, interaction=CHECKBOOK).get_json()
    response = client.post(
        "/api/v1/messages",
        headers=auth,
        json={
            "customer": {"id": "c-1001"},
            "channel": "sms",
            "response": OPEN["response"],
            "decision": later,
        },
    )
    assert response.status_code == 201
    token = PAGE.fullmatch(response.get_json()["message"]["url"]).group(1)
    client.post(f"/m/{token}/offers/overdraft_protection/accept")
    [accepted] = session.scalars(select(FeedbackEvent).where(FeedbackEvent.type == "accepted"))
    assert accepted.decision_id == later["decision_id"]


def test_a_malformed_decision_id_is_refused(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session: Session
) -> None:
    decision = _decide(client, auth, interaction=CHECKBOOK).get_json()
    ok = {"customer": {"id": "c-1"}, "channel": "sms", "response": {"text": "x"}}
    for bad in ("short", "x" * 65, "has space in it", 12345678, ["d"]):
        error = _refused(client, auth, {**ok, "decision": {**decision, "decision_id": bad}})
        assert (error["code"], error["field"]) == ("invalid_decision_id", "decision.decision_id")
    assert session.scalar(select(Message)) is None


def test_post_message_without_a_decision_is_just_the_response(
    client: FlaskClient, auth: dict[str, str], session: Session
) -> None:
    response = client.post(
        "/api/v1/messages",
        headers=auth,
        json={"customer": {"id": "c-9"}, "channel": "email", "response": {"text": "Fixed."}},
    )
    assert response.status_code == 201
    stored = session.get(Message, response.get_json()["message"]["id"])
    assert stored is not None and stored.decision["offers"] == []


def test_response_html_is_sanitized_on_the_way_in(
    client: FlaskClient, auth: dict[str, str], session: Session
) -> None:
    response = client.post(
        "/api/v1/messages",
        headers=auth,
        json={
            "customer": {"id": "c-9"},
            "channel": "email",
            "response": {"html": '<p onclick="x()">Hi<script>alert(1)</script></p>'},
        },
    )
    stored = session.get(Message, response.get_json()["message"]["id"])
    assert stored is not None
    assert "script" not in stored.response_html and "onclick" not in stored.response_html


def _refused(client: FlaskClient, auth: dict[str, str], body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/messages", headers=auth, json=body)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    return response.get_json()["error"]


def test_bad_message_requests_are_refused_with_the_field_at_fault(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session: Session
) -> None:
    ok = {"customer": {"id": "c-1"}, "channel": "sms", "response": {"text": "x"}}
    cases = [
        ({**ok, "customer": {"name": "no id"}}, "customer.id"),
        ({**ok, "customer": {"id": "x" * 101}}, "customer.id"),
        ({**ok, "response": {}}, "response"),
        ({**ok, "response": {"text": 3}}, "response.text"),
        ({**ok, "channel": ""}, "channel"),
        ({**ok, "colour": "red"}, "colour"),
        (
            {**ok, "decision": {"offers": [{"offer": "overdraft_protection"}]}},
            "decision.bundle.version",
        ),
        (
            {
                **ok,
                "decision": {
                    "bundle": {"version": published.version},
                    "offers": [{"offer": "no_such_offer"}],
                },
            },
            "decision.offers",
        ),
        (
            {**ok, "decision": {"bundle": {"version": 999}, "offers": [{"offer": "x"}]}},
            "decision.bundle.version",
        ),
    ]
    for body, field in cases:
        assert _refused(client, auth, body)["field"] == field, body
    assert session.scalar(select(Message)) is None


def test_posting_messages_needs_a_token_with_the_scope(
    client: FlaskClient, issue_token: IssueToken
) -> None:
    body = {"customer": {"id": "c-1"}, "channel": "sms", "response": {"text": "x"}}
    assert client.post("/api/v1/messages", json=body).status_code == 401
    response = client.post("/api/v1/messages", json=body, headers=bearer(issue_token("decide")))
    assert response.status_code == 403


def test_links_use_the_public_base_url(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    app.config["STUDIO_SETTINGS"] = app.config["STUDIO_SETTINGS"].__class__(
        **{
            **app.config["STUDIO_SETTINGS"].__dict__,
            "public_base_url": "https://messages.bank.example",
        }
    )
    response = client.post(
        "/api/v1/messages",
        headers=auth,
        json={"customer": {"id": "c-1"}, "channel": "sms", "response": {"text": "x"}},
    )
    assert re.fullmatch(
        r"https://messages\.bank\.example/m/[A-Za-z0-9_-]{22}",
        response.get_json()["message"]["url"],
    )


def test_the_message_answers_with_the_notification_email_for_the_downstream_sender(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    body = {**OPEN, "customer": {"id": "c-1001", "first_name": "Ann"}}
    answer = _decide(
        client, auth, interaction=CHECKBOOK, channels=["sms"], open_message=body
    ).get_json()
    url = answer["message"]["url"]
    notification = answer["message"]["notification"]
    assert notification["subject"] == "Ann, your answer is ready"
    assert notification["layout"] == "answer_ready_email"
    assert f'href="{url}"' in notification["html"] and f"({url})" in notification["text"]
    posted = client.post(
        "/api/v1/messages",
        headers=auth,
        json={"customer": {"id": "c-7"}, "channel": "sms", "response": {"text": "Done."}},
    )
    assert posted.status_code == 201
    message = posted.get_json()["message"]
    assert message["notification"]["subject"] == "Your answer is ready"
    assert message["url"] in message["notification"]["html"]


def test_a_message_for_a_channel_the_schema_does_not_know_is_refused(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session: Session
) -> None:
    body = {"customer": {"id": "c-1"}, "channel": "fax", "response": {"text": "x"}}
    error = _refused(client, auth, body)
    assert (error["code"], error["field"]) == ("invalid_value", "channel")
    assert "one of email, chat, sms" in error["message"]
    assert session.scalar(select(Message)) is None


def test_a_decision_that_made_nothing_from_an_unknown_bundle_is_404(
    client: FlaskClient, published: Bundle, auth: dict[str, str], session: Session
) -> None:
    body = {
        "customer": {"id": "c-1"},
        "channel": "sms",
        "response": {"text": "x"},
        "decision": {"bundle": {"version": 99}, "offers": []},
    }
    response = client.post("/api/v1/messages", headers=auth, json=body)
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "decision.bundle.version"
    assert session.scalar(select(Message)) is None
