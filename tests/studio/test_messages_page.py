"""Staff: the Messages page lists customers' messages and withdraws one, with a
confirmation; marketers set the survey frequency."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from studio.models import Message
from studio.services import messages, surveys
from studio.services.messages import MessageSpec
from tests.factories import make_user, post, sign_in_as


def _message(session: Session, customer: str) -> tuple[int, str]:
    spec = MessageSpec(customer={"id": customer}, channel="sms", response_text="Hi")
    opening = messages.prepare(session, spec, base_url="http://x", secret="s", days=30)
    opened = messages.store(session, spec, opening, [])
    session.commit()
    return opened.id, opening.token


def test_service_lead_finds_a_message_by_customer_and_withdraws_it(
    app: Flask, session: Session
) -> None:
    first, token = _message(session, "c-100")
    _message(session, "c-200")
    client = sign_in_as(app.test_client(), make_user(session, "service_lead"))
    listing = client.get("/messages/?q=c-100").get_data(as_text=True)
    assert "c-100" in listing and "c-200" not in listing
    confirm = client.get(f"/messages/{first}/withdraw")
    assert "Withdraw message" in confirm.get_data(as_text=True)
    assert session.get(Message, first).withdrawn is False
    response = post(client, f"/messages/{first}/withdraw")
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Message, first).withdrawn is True
    assert app.test_client().get(f"/m/{token}").status_code == 410


def test_withdraw_without_the_form_token_is_refused(app: Flask, session: Session) -> None:
    first, _token = _message(session, "c-1")
    client = sign_in_as(app.test_client(), make_user(session, "admin"))
    assert client.post(f"/messages/{first}/withdraw").status_code == 400
    session.expire_all()
    assert session.get(Message, first).withdrawn is False


def test_marketers_cannot_open_messages(app: Flask, session: Session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    assert client.get("/messages/").status_code == 403


def test_marketer_sets_the_survey_frequency_and_nonsense_is_refused(
    app: Flask, session: Session
) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    assert post(client, "/survey-settings/", {"nps_every_days": "30"}).status_code == 302
    session.expire_all()
    assert surveys.every_days(session) == 30
    refused = post(client, "/survey-settings/", {"nps_every_days": "ninety"})
    assert refused.status_code == 422 and "whole number of days" in refused.get_data(as_text=True)
    session.expire_all()
    assert surveys.every_days(session) == 30


def test_a_long_comment_without_spaces_wraps_inside_its_cell(app: Flask, session: Session) -> None:
    """A 2,000-character word made the page 19,751 px wide: user text in a table now sits
    in a block that wraps anywhere, inside a readable measure."""
    first, _token = _message(session, "c-" + "9" * 90)
    messages.add_comment(session, session.get(Message, first), "x" * 2000)
    session.commit()
    client = sign_in_as(app.test_client(), make_user(session, "service_lead"))
    listing = client.get("/messages/").get_data(as_text=True)
    # The full text is there, folded: the first 200 characters show, the rest on demand.
    assert f'<span class="cell-text">{"x" * 2000}</span>' in listing
    assert "<summary>Read all 2,000 characters</summary>" in listing
    assert f'<span class="cell-text cell-short">{"x" * 197}...</span>' in listing
    assert '<code class="cell-id">c-999' in listing
    css = client.get("/static/studio.css").get_data(as_text=True)
    rule = css[css.index(".cell-text {") :].split("}", 1)[0]
    assert "overflow-wrap: anywhere" in rule and "max-width" in rule
