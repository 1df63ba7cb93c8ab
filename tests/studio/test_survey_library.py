"""Marketers write narrow-cast surveys; they are reviewed and published like offers, a
rule asks them by key, and their results are counted, charted and exported."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.errors import PublishRefused
from studio.models import Artifact, Message, SurveyAnswer, SurveyResponse
from studio.services import artifacts, bundles, publish, rulesets, survey_library
from studio.services.toolchain import DslToolchain
from tests.factories import make_user, post, sign_in_as
from tests.factories.reviews import approve, make_ruleset, publish_now, ring, submit

FORM = {
    "key": "new_branch",
    "title": "A branch near you?",
    "intro": "Two quick questions.",
    "q1_kind": "scale_5",
    "q1_label": "How useful would a branch be?",
    "q2_kind": "choice",
    "q2_label": "When would you visit?",
    "q2_choices": "Mornings\nEvenings\n\nWeekends\n",
    "q3_kind": "text",
    "q3_label": "Anything else?",
    "q4_kind": "",
    "q4_label": "",
}
RULES = 'rule "Ask about branches"\n  when inquiry.intent is "order_checkbook"\n  ask survey new_branch to 10% of customers\n'


@pytest.fixture
def people(session: Session) -> dict:
    return {
        "mara": make_user(session, "marketer"),
        "sam": make_user(session, "service_lead"),
        "rita": make_user(session, "reviewer"),
    }


@pytest.fixture
def marketer(app: Flask, people: dict):
    return sign_in_as(app.test_client(), people["mara"])


def _survey(session: Session) -> Artifact | None:
    return artifacts.find(session, "survey", "new_branch")


def test_a_marketer_creates_a_survey_from_the_form(marketer, session: Session) -> None:
    response = post(marketer, "/surveys/new", FORM)
    assert response.status_code == 302
    artifact = _survey(session)
    assert artifact is not None and artifact.name == "A branch near you?"
    body = artifacts.head(session, artifact).body
    assert body["questions"] == [
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
    ]
    assert "A branch near you?" in marketer.get("/surveys/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"key": "New Branch"}, "key", id="bad-key"),
        pytest.param({"title": ""}, "title", id="no-title"),
        pytest.param({"q2_choices": "Only one"}, "q2_choices", id="one-option"),
        pytest.param({"q1_kind": ""}, "q1_kind", id="wording-without-kind"),
        pytest.param({"q3_label": "x" * 301}, "q3_label", id="long-question"),
        pytest.param(
            {
                "q1_kind": "",
                "q1_label": "",
                "q2_kind": "",
                "q2_label": "",
                "q3_kind": "",
                "q3_label": "",
            },
            "questions",
            id="no-questions",
        ),
    ],
)
def test_a_bad_survey_is_refused_next_to_its_field_with_nothing_stored(
    marketer, session: Session, change: dict, field: str
) -> None:
    response = post(marketer, "/surveys/new", {**FORM, **change})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "nothing was saved" in html
    if field != "questions":
        assert f'id="f-{field}-error"' in html
    assert (
        session.scalar(select(func.count()).select_from(Artifact).where(Artifact.kind == "survey"))
        == 0
    )


def test_editing_keeps_question_ids_so_answers_stay_with_their_question(
    marketer, session: Session
) -> None:
    post(marketer, "/surveys/new", FORM)
    edited = {
        **FORM,
        "base_number": "1",
        "q1_id": "",
        "q1_kind": "text",
        "q1_label": "First, tell us",
        "q2_id": "q1",
        "q2_kind": "scale_5",
        "q2_label": "How useful would a branch be?",
        "q3_id": "q3",
        "q3_kind": "text",
        "q3_label": "Anything else?",
        "q3_choices": "",
    }
    del edited["key"]
    response = post(marketer, "/surveys/new_branch", edited)
    assert response.status_code == 302
    body = artifacts.head(session, _survey(session)).body
    assert [(q["id"], q["label"]) for q in body["questions"]] == [
        ("q2", "First, tell us"),
        ("q1", "How useful would a branch be?"),
        ("q3", "Anything else?"),
    ]


def test_a_stale_save_is_a_conflict_and_keeps_the_typed_survey(marketer, session: Session) -> None:
    post(marketer, "/surveys/new", FORM)
    form = {k: v for k, v in FORM.items() if k != "key"}
    assert post(marketer, "/surveys/new_branch", {**form, "base_number": "1"}).status_code == 302
    stale = post(
        marketer, "/surveys/new_branch", {**form, "base_number": "1", "title": "Mine, typed"}
    )
    assert stale.status_code == 409
    assert 'value="Mine, typed"' in stale.get_data(as_text=True)
    assert _survey(session).head_number == 2


def test_a_rule_asking_an_unknown_survey_is_an_error_with_a_suggestion(
    marketer, session: Session
) -> None:
    post(marketer, "/surveys/new", FORM)
    report = rulesets.check(session, RULES.replace("new_branch", "new_brnch"))
    [problem] = [d for d in report.diagnostics if d["code"] == "E230"]
    assert problem["hint"] == "did you mean `new_branch`?"
    assert rulesets.check(session, RULES).ok


def _survey_artifact(session: Session, people: dict) -> Artifact:
    rows = survey_library.rows_from_form(FORM)
    return survey_library.create(
        session,
        key="new_branch",
        title=FORM["title"],
        intro=FORM["intro"],
        rows=rows,
        actor_id=people["mara"].id,
    )


def test_an_approved_survey_is_published_in_the_bundle_and_a_rule_may_ask_it(
    app: Flask, session: Session, people: dict
) -> None:
    survey = _survey_artifact(session, people)
    session.commit()
    approve(session, submit(session, people["mara"], survey, title="Survey"), people["rita"])
    ruleset = make_ruleset(session, people["sam"], "branches", RULES)
    approve(session, submit(session, people["sam"], ruleset, title="Rules"), people["rita"])
    bundle = publish_now(app, session, people["rita"], toolchain=DslToolchain())
    body = bundles.load_verified(bundle, ring(app).public_keys())
    [shipped] = body["surveys"]
    assert shipped["key"] == "new_branch" and shipped["revision"] == 1
    assert [q["id"] for q in shipped["questions"]] == ["q1", "q2", "q3"]
    assert body["rulesets"][0]["ir"]["rules"][0]["surveys"] == [
        {"survey": "new_branch", "percent": 10}
    ]
    assert body["revisions"]["survey:new_branch"] == 1


def test_the_publish_page_counts_the_surveys_going_live(
    app: Flask, session: Session, people: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its summary said "0 offers, 0 layouts, 1 rulesets." and left the survey out."""
    monkeypatch.setattr(publish, "default_toolchain", DslToolchain)
    survey = _survey_artifact(session, people)
    session.commit()
    approve(session, submit(session, people["mara"], survey, title="Survey"), people["rita"])
    ruleset = make_ruleset(session, people["sam"], "branches", RULES)
    approve(session, submit(session, people["sam"], ruleset, title="Rules"), people["rita"])
    page = sign_in_as(app.test_client(), people["rita"]).get("/bundles/publish")
    assert "In the bundle: 0 offers, 0 layouts, 1 ruleset and 1 survey." in page.get_data(
        as_text=True
    )


def test_a_rule_asking_an_unapproved_survey_does_not_publish(
    app: Flask, session: Session, people: dict
) -> None:
    _survey_artifact(session, people)
    session.commit()
    ruleset = make_ruleset(session, people["sam"], "branches", RULES)
    approve(session, submit(session, people["sam"], ruleset, title="Rules"), people["rita"])
    with pytest.raises(PublishRefused) as refused:
        publish.publish(session, actor=people["rita"], ring=ring(app), toolchain=DslToolchain())
    session.rollback()
    assert [p.code for p in refused.value.problems] == ["nothing-to-publish"]
    [held] = publish.prepare_release(session, toolchain=DslToolchain()).held_back
    assert "E230" in {p.code for p in held.reasons}


def _answered(session: Session, people: dict, answers: list[dict[str, str]]) -> Artifact:
    survey = _survey_artifact(session, people)
    now = datetime.now(UTC)
    for n, given in enumerate(answers):
        message = Message(
            token_hash=f"{n:064d}",
            customer_id=f"c{n}",
            customer_hash=f"{n:064d}",
            channel="sms",
            decision={},
            created_at=now,
            expires_at=now + timedelta(days=1),
        )
        session.add(message)
        session.flush()
        response = SurveyResponse(
            message_id=message.id,
            survey_key="new_branch",
            rule="r",
            created_at=now - timedelta(minutes=n),
        )
        session.add(response)
        session.flush()
        for question_id, value in given.items():
            kind = {"q1": "scale", "q2": "choice", "q3": "text"}[question_id]
            session.add(
                SurveyAnswer(
                    response_id=response.id,
                    survey_key="new_branch",
                    question_id=question_id,
                    kind=kind,
                    value=value,
                )
            )
    session.commit()
    return survey


def test_results_count_each_answer_and_page_the_written_ones(
    app: Flask, session: Session, people: dict
) -> None:
    answers = [{"q1": "5", "q2": "Evenings", "q3": f"note {n}"} for n in range(25)]
    answers += [{"q1": "2", "q2": "Mornings", "q3": "<b>loud</b>"}]
    _answered(session, people, answers)
    client = sign_in_as(app.test_client(), people["rita"])
    html = client.get("/surveys/new_branch/results").get_data(as_text=True)
    assert "<strong>26</strong> customers answered" in html
    answer = '<td><span class="cell-text">{}</span></td><td>{}</td>'.format
    assert answer("Evenings", 25) in html and answer("Mornings", 1) in html
    assert answer("Weekends", 0) in html and "average 4.9" in html
    assert "note 0" in html and "note 19" in html and "note 20" not in html
    second = client.get("/surveys/new_branch/results?question=q3&page=2").get_data(as_text=True)
    assert (
        "note 20" in second and "&lt;b&gt;loud&lt;/b&gt;" in second and "<b>loud</b>" not in second
    )


def test_each_charted_question_has_an_svg_without_script(
    app: Flask, session: Session, people: dict
) -> None:
    _answered(session, people, [{"q1": "4", "q2": "Weekends"}])
    client = sign_in_as(app.test_client(), people["rita"])
    response = client.get("/surveys/new_branch/results/q2.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert "<svg" in svg and "<script" not in svg and "Weekends" in svg
    assert client.get("/surveys/new_branch/results/q3.svg").status_code == 404


def test_the_csv_export_has_one_row_per_response_and_defuses_formulas(
    app: Flask, session: Session, people: dict
) -> None:
    _answered(session, people, [{"q1": "3", "q3": '=HYPERLINK("http://x")'}, {"q2": "Mornings"}])
    client = sign_in_as(app.test_client(), people["rita"])
    response = client.get("/surveys/new_branch/results.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].endswith(
        "q1: How useful would a branch be?,q2: When would you visit?,q3: Anything else?"
    )
    assert len(lines) == 3 and lines[1].endswith(',3,,"\'=HYPERLINK(""http://x"")"')
    # Answered-at carries its time zone, as every other export does.
    assert re.search(r"^\d+,\d{4}-\d\d-\d\dT[\d:.]+\+00:00,", lines[1]), lines[1]


def test_only_marketers_author_surveys(app: Flask, session: Session, people: dict) -> None:
    client = sign_in_as(app.test_client(), people["sam"])
    assert client.get("/surveys/").status_code == 403
    assert post(client, "/surveys/new", FORM).status_code == 403
    assert _survey(session) is None
