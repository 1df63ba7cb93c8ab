"""A narrow-cast survey a rule asks reaches the customer's message page, is answered
once, and bad answers are refused with nothing stored."""

# ruff: noqa: F811  (pytest fixtures imported from tests/api/conftest.py are parameters)
from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import dsl
from studio.models import Bundle, FeedbackEvent, Message, SurveyAnswer, SurveyResponse
from tests.api.conftest import (  # noqa: F401  (fixtures)
    CHECKBOOK,
    StoreBundle,
    auth,
    demo_bundle_body,
    issue_token,
    store_bundle,
)

SURVEY = {
    "key": "new_branch",
    "title": "A branch near you?",
    "intro": "We are thinking of opening a branch. Two quick questions.",
    "questions": [
        {
            "id": "q1",
            "kind": "scale",
            "label": "How useful would a branch be?",
            "low": 1,
            "high": 5,
        },
        {
            "id": "q2",
            "kind": "choice",
            "label": "When would you visit?",
            "choices": ["Mornings", "Evenings", "Weekends"],
        },
        {"id": "q3", "kind": "text", "label": "Anything else?"},
    ],
}
RULES = """rule "Ask checkbook customers about a branch"
  when inquiry.intent is "order_checkbook"
  ask survey new_branch
"""


def _bundle_with_survey(body: dict[str, Any]) -> dict[str, Any]:
    schema = dsl.Schema.from_dict(body["schema"])
    compiled = dsl.compile_ruleset(RULES, schema=schema, surveys=["new_branch"], name="Surveys")
    assert compiled.ok, compiled.diagnostics
    ruleset = {
        "key": "surveys",
        "name": "Surveys",
        "source": RULES,
        "ir": compiled.ir,
        "revision": 1,
    }
    return {"rulesets": [*body["rulesets"], ruleset], "surveys": [{**SURVEY, "revision": 1}]}


@pytest.fixture
def with_survey(store_bundle: StoreBundle, demo_bundle_body: dict[str, Any]) -> Bundle:  # noqa: F811
    return store_bundle(**_bundle_with_survey(demo_bundle_body))


@pytest.fixture
def opened(client: FlaskClient, with_survey: Bundle, auth: dict[str, str]) -> dict[str, Any]:  # noqa: F811
    body = {
        "interaction": CHECKBOOK,
        "channels": ["sms"],
        "open_message": {"response": {"text": "Your checks are ordered."}},
    }
    response = client.post("/api/v1/decide", json=body, headers=auth)
    assert response.status_code == 201
    answer = response.get_json()
    answer["path"] = "/m/" + answer["message"]["url"].rsplit("/", 1)[1]
    return answer


def _answers(session: Session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(SurveyResponse)) or 0,
        session.scalar(select(func.count()).select_from(SurveyAnswer)) or 0,
    )


def test_the_decision_asks_the_survey_and_the_message_links_to_it(opened: dict[str, Any]) -> None:
    [asked] = opened["surveys"]
    assert asked == {
        "survey": "new_branch",
        "rule": "Ask checkbook customers about a branch",
        "ruleset": "surveys",
    }
    [link] = opened["message"]["surveys"]
    assert link == {"survey": "new_branch", "url": opened["message"]["url"] + "/survey/new_branch"}


def test_the_message_page_shows_the_survey_form(
    client: FlaskClient, opened: dict[str, Any]
) -> None:
    html = client.get(opened["path"]).get_data(as_text=True)
    assert "A branch near you?" in html and "When would you visit?" in html
    assert f'action="{opened["path"]}/answers"' in html
    assert 'name="new_branch.answer_q2" value="Weekends"' in html
    # Its own page (the link in an SMS or email) keeps a form of its own.
    alone = client.get(f"{opened['path']}/survey/new_branch").get_data(as_text=True)
    assert f'action="{opened["path"]}/survey/new_branch"' in alone
    assert 'name="answer_q2" value="Weekends"' in alone


def _forms(html: str) -> dict[str, list[str]]:
    """The page's forms: each action with the names of its fields."""
    return {
        action: re.findall(r'name="([^"]+)"', body)
        for action, body in re.findall(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', html, re.S)
    }


def _nps(session: Session) -> list[int | None]:
    session.expire_all()
    return list(session.scalars(select(FeedbackEvent.score).where(FeedbackEvent.type == "nps")))


def test_one_send_keeps_the_nps_score_and_the_survey_answers(
    client: FlaskClient, opened: dict[str, Any], session: Session
) -> None:
    """The tester's 375 px case: NPS 9 chosen, both survey questions answered, one
    press of "Send answers": neither the score nor an answer may be lost."""
    html = client.get(opened["path"]).get_data(as_text=True)
    assert "How likely are you to recommend" in html
    assert html.count("Send answers") == 1 and ">Send</button>" not in html
    [(action, fields)] = [(a, f) for a, f in _forms(html).items() if "score" in f]
    assert "new_branch.answer_q1" in fields and "new_branch.answer_q2" in fields
    response = client.post(
        action, data={"score": "9", "new_branch.answer_q1": "4", "new_branch.answer_q2": "Evenings"}
    )
    assert response.status_code == 303
    assert _nps(session) == [9]
    assert _answers(session) == (1, 2)
    values = dict(session.execute(select(SurveyAnswer.question_id, SurveyAnswer.value)).all())
    assert values == {"q1": "4", "q2": "Evenings"}
    page = client.get(opened["path"]).get_data(as_text=True)
    assert "You gave us 9 out of 10" in page and "Thank you for your answers" in page
    assert 'name="score"' not in page and "Send answers" not in page


def test_the_one_form_stores_only_what_was_answered(
    client: FlaskClient, opened: dict[str, Any], session: Session
) -> None:
    path = opened["path"]
    assert client.post(f"{path}/answers", data={"new_branch.answer_q3": "Soon"}).status_code == 303
    assert _answers(session) == (1, 1) and _nps(session) == []
    page = client.get(path).get_data(as_text=True)
    # The survey is answered; the NPS question stays, now with a form of its own.
    assert "Thank you for your answers" in page and f'action="{path}/nps"' in page
    assert client.post(f"{path}/answers", data={"score": "0"}).status_code == 303
    assert _nps(session) == [0] and _answers(session) == (1, 1)


@pytest.mark.parametrize(
    ("form", "shown"),
    [
        pytest.param({}, "Answer at least one question. Nothing was saved yet.", id="nothing"),
        pytest.param(
            {"score": "9", "new_branch.answer_q1": "6"}, "answers marked below", id="bad-answer"
        ),
        pytest.param(
            {"score": "11", "new_branch.answer_q1": "4"},
            "Choose a number from 0 to 10",
            id="bad-score",
        ),
    ],
)
def test_the_one_form_stores_nothing_when_anything_is_refused(
    client: FlaskClient, opened: dict[str, Any], session: Session, form: dict[str, str], shown: str
) -> None:
    response = client.post(f"{opened['path']}/answers", data=form)
    assert response.status_code in (400, 422)
    html = response.get_data(as_text=True)
    assert shown in html
    assert _answers(session) == (0, 0) and _nps(session) == []
    # What the customer chose is still chosen, to correct and send again.
    if form.get("score") == "9":
        assert 'name="score" value="9" checked' in html
    if form.get("new_branch.answer_q1") == "4":
        assert 'name="new_branch.answer_q1" value="4" checked' in html


def test_answers_are_stored_once_per_message(
    client: FlaskClient, opened: dict[str, Any], session: Session
) -> None:
    url = f"{opened['path']}/survey/new_branch"
    form = {"answer_q1": "4", "answer_q2": "Evenings", "answer_q3": "Open on Saturdays"}
    first = client.post(url, data=form)
    assert first.status_code == 200 and "Thank you for your answers" in first.get_data(as_text=True)
    again = client.post(url, data={"answer_q1": "1"})
    assert "already answered" in again.get_data(as_text=True)
    assert _answers(session) == (1, 3)
    values = dict(session.execute(select(SurveyAnswer.question_id, SurveyAnswer.value)).all())
    assert values == {"q1": "4", "q2": "Evenings", "q3": "Open on Saturdays"}
    page = client.get(opened["path"]).get_data(as_text=True)
    assert "Thank you for your answers" in page and 'name="answer_q1"' not in page


@pytest.mark.parametrize(
    ("form", "field"),
    [
        pytest.param({"answer_q1": "6"}, "answer_q1", id="scale-out-of-range"),
        pytest.param({"answer_q1": "ten"}, "answer_q1", id="scale-in-words"),
        pytest.param({"answer_q1": "0"}, "answer_q1", id="below-a-1-5-scale"),
        pytest.param({"answer_q2": "Never"}, "answer_q2", id="choice-not-offered"),
        pytest.param({"answer_q9": "4"}, "answer_q9", id="unknown-question"),
        pytest.param({"answer_q3": "x" * 1_000_000}, "answer_q3", id="one-megabyte-text"),
        pytest.param({"answer_q3": "nothing\x00here"}, "answer_q3", id="nul-byte"),
        pytest.param({}, "survey", id="nothing-answered"),
    ],
)
def test_bad_answers_are_refused_with_nothing_stored(
    client: FlaskClient, opened: dict[str, Any], session: Session, form: dict[str, str], field: str
) -> None:
    response = client.post(
        f"{opened['path']}/survey/new_branch",
        data={"answer_q2": "Mornings", **form} if field != "survey" else form,
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "nothing was saved yet" in html.lower()
    if field == "survey":  # no question to mark: the page says what is missing
        assert "Answer at least one question. Nothing was saved yet." in html
        assert "answers marked below" not in html
    else:
        assert "answers marked below" in html
    assert _answers(session) == (0, 0)


def test_html_in_an_answer_is_stored_as_text_and_shown_escaped(
    client: FlaskClient, opened: dict[str, Any], session: Session
) -> None:
    html = "<script>alert(1)</script><b>bold</b>"
    response = client.post(
        f"{opened['path']}/survey/new_branch", data={"answer_q3": html, "answer_q1": "2"}
    )
    assert response.status_code == 200
    assert (
        session.scalar(select(SurveyAnswer.value).where(SurveyAnswer.question_id == "q3")) == html
    )


def test_a_refused_answer_keeps_what_the_customer_wrote(
    client: FlaskClient, opened: dict[str, Any]
) -> None:
    response = client.post(
        f"{opened['path']}/survey/new_branch",
        data={"answer_q1": "9", "answer_q3": "<i>keep me</i>"},
    )
    html = response.get_data(as_text=True)
    assert "&lt;i&gt;keep me&lt;/i&gt;</textarea>" in html and "<i>keep me</i>" not in html


def test_a_survey_the_message_does_not_ask_is_a_customer_page(
    client: FlaskClient, opened: dict[str, Any], session: Session
) -> None:
    for method in (client.get, client.post):
        response = method(f"{opened['path']}/survey/lobby")
        assert response.status_code == 404
        assert "not part of your message" in response.get_data(as_text=True)
    assert _answers(session) == (0, 0)


def test_the_survey_page_of_a_withdrawn_message_says_so(
    client: FlaskClient, opened: dict[str, Any], session: Session
) -> None:
    message = session.get(Message, opened["message"]["id"])
    assert message is not None
    message.withdrawn = True
    session.commit()
    response = client.post(f"{opened['path']}/survey/new_branch", data={"answer_q1": "3"})
    assert response.status_code == 410 and _answers(session) == (0, 0)


def test_post_messages_opens_a_message_with_the_decisions_survey(
    client: FlaskClient, with_survey: Bundle, auth: dict[str, str], session: Session
) -> None:  # noqa: F811
    body = {
        "customer": {"id": "c-9"},
        "channel": "sms",
        "response": {"text": "Done."},
        "decision": {
            "bundle": {"version": with_survey.version},
            "offers": [],
            "surveys": [{"survey": "new_branch", "rule": "r", "ruleset": "surveys"}],
        },
    }
    response = client.post("/api/v1/messages", json=body, headers=auth)
    assert response.status_code == 201
    [link] = response.get_json()["message"]["surveys"]
    path = "/m/" + link["url"].split("/m/", 1)[1]
    assert client.get(path).status_code == 200


def test_post_messages_refuses_a_survey_the_bundle_does_not_have(
    client: FlaskClient, with_survey: Bundle, auth: dict[str, str], session: Session
) -> None:  # noqa: F811
    body = {
        "customer": {"id": "c-9"},
        "channel": "sms",
        "response": {"text": "Done."},
        "decision": {"bundle": {"version": with_survey.version}, "surveys": [{"survey": "lobby"}]},
    }
    response = client.post("/api/v1/messages", json=body, headers=auth)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "unknown_survey"
    assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_an_offers_feedback_note_is_shown_escaped_above_it(
    client: FlaskClient,
    store_bundle: StoreBundle,
    demo_bundle_body: dict[str, Any],  # noqa: F811
    auth: dict[str, str],
) -> None:  # noqa: F811
    offers = [
        {**o, "feedback_note": "We heard you: <b>checks</b> now ship free."}
        if o["key"] == "overdraft_protection"
        else o
        for o in demo_bundle_body["offers"]
    ]
    store_bundle(offers=offers)
    body = {
        "interaction": CHECKBOOK,
        "channels": ["sms"],
        "open_message": {"response": {"text": "Your checks are ordered."}},
    }
    url = client.post("/api/v1/decide", json=body, headers=auth).get_json()["message"]["url"]
    html = client.get("/m/" + url.rsplit("/", 1)[1]).get_data(as_text=True)
    note = html.index("We heard you: &lt;b&gt;checks&lt;/b&gt; now ship free.")
    assert note < html.index('class="c-answer"') and "<b>checks</b>" not in html
