"""The code editor's JSON endpoints: diagnostics with ranges and fixes, the completion
vocabulary, formatting, and a refused save that keeps what the person typed."""

from __future__ import annotations

import pytest
from flask import Flask

from studio.models import Artifact, Revision
from studio.services import artifacts
from tests.factories import CSRF, make_user, post, sign_in_as


@pytest.fixture
def lead(app: Flask, session):
    user = make_user(session, "service_lead")
    artifacts.create(
        session,
        kind="offer",
        key="realtime_contact",
        name="Real-time contact",
        body={
            "key": "realtime_contact",
            "value": 10,
            "owner": "Service",
            "status": "active",
            "valid_from": "2026-01-01",
        },
        actor_id=user.id,
    )
    session.commit()
    return sign_in_as(app.test_client(), user)


def _json_post(client, url: str, body: dict):
    return client.post(url, json=body, headers={"X-CSRF-Token": CSRF})


def test_diagnostics_endpoint_returns_every_error_with_range_and_fix(lead) -> None:
    source = (
        'rule "a"\n  when inquiry.category is transactonal\n  offer realtime_contact\n'
        "rule b\n  offer realtime_contact\n"
    )
    data = _json_post(lead, "/editor/rules/diagnostics", {"source": source}).get_json()
    assert data["errors"] == 2
    first, second = data["diagnostics"]
    assert (first["code"], first["line"], first["column"], first["end_column"]) == (
        "E201",
        2,
        28,
        40,
    )
    assert first["fixes"] == [
        {
            "label": "Change to transactional",
            "insert": "transactional",
            "line": 2,
            "column": 28,
            "end_line": 2,
            "end_column": 40,
        }
    ]
    assert (second["code"], second["line"]) == ("E100", 4)
    assert second["fixes"][0]["insert"] == '"b"'


def test_diagnostics_endpoint_also_takes_a_form_post(lead) -> None:
    data = post(lead, "/editor/rules/diagnostics", {"source": "rule"}).get_json()
    assert data["diagnostics"][0]["code"] == "E108"


def test_vocabulary_lists_fields_with_types_enum_values_offers_and_keywords(lead) -> None:
    data = lead.get("/editor/rules/vocabulary").get_json()
    category = next(f for f in data["fields"] if f["path"] == "inquiry.category")
    assert category["type"] == "enum" and "transactional" in category["values"]
    (offer,) = data["offers"]
    assert offer == {
        "key": "realtime_contact",
        "title": "Real-time contact",
        "owner": "Service",
        "status": "active",
        "valid_from": "2026-01-01",
        "valid_to": "",
        "approved": False,
    }
    assert {"rule", "when", "offer", "never", "contains"} <= set(data["keywords"])


def test_format_endpoint_returns_the_canonical_layout_or_a_422(lead) -> None:
    good = _json_post(
        lead, "/editor/rules/format", {"source": 'rule "a"   when tone is positive offer x'}
    )
    assert good.status_code == 200 and good.get_json()["source"].startswith('rule "a"\n')
    bad = _json_post(lead, "/editor/rules/format", {"source": "rule"})
    assert bad.status_code == 422 and "Fix the errors first" in bad.get_json()["error"]


def test_template_vocabulary_names_roots_filters_and_helpers(lead) -> None:
    data = lead.get("/editor/templates/vocabulary").get_json()
    names = {n["name"] for n in data["names"]}
    assert {"customer", "offer.headline", "inquiry.category", "data."} <= names
    assert "money" in data["filters"] and "loop_guard" not in data["filters"]
    assert {h["name"] for h in data["helpers"]} == {
        "message_center_url()",
        "nps_url()",
        "nps_survey()",
        "survey_url()",
    }


def test_editor_endpoints_are_for_signed_in_people_only(app: Flask) -> None:
    response = app.test_client().get("/editor/rules/vocabulary")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_save_after_the_session_ended_keeps_every_typed_field_and_stores_nothing(
    lead, app: Flask, session
) -> None:
    post(lead, "/rules/new", {"key": "retail", "name": "Retail", "source": ""})
    typed = 'rule "kept"\n  when tone is positive\n  offer realtime_contact\n'
    expired = app.test_client()  # no session cookie: the session ended
    response = expired.post(
        "/rules/retail",
        data={"source": typed, "name": "Retail", "base_number": "1", "csrf_token": "old"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nothing was saved" in html and "Sign in again in a new tab" in html
    assert 'action="/rules/retail"' in html
    assert '<textarea name="source" hidden aria-hidden="true">\nrule &#34;kept&#34;' in html
    assert (
        'name="base_number"' in html
        and "old" not in html.split('name="csrf_token" value="')[1][:10]
    )
    ruleset = session.query(Artifact).filter_by(kind="ruleset", key="retail").one()
    assert session.query(Revision).filter_by(artifact_id=ruleset.id).count() == 1


def test_a_refused_sign_in_never_echoes_the_password(app: Flask) -> None:
    html = (
        app.test_client()
        .post("/sign-in", data={"email": "a@example.com", "password": "secret-pass-1"})
        .get_data(as_text=True)
    )
    assert "secret-pass-1" not in html and "a@example.com" in html


def test_new_ruleset_box_starts_empty_with_the_starter_offered_separately(lead) -> None:
    html = lead.get("/rules/new").get_data(as_text=True)
    textarea = html.split('id="source"')[1].split("</textarea>")[0]
    assert textarea.rstrip().endswith(">") and "never offer" not in textarea
    assert "Replace the source with this starter" in html and "OFFER_KEY" in html


def test_problems_partial_lists_every_error_with_its_excerpt(lead) -> None:
    source = 'rule a\n  offer realtime_contact\nrule "b"\n  when tone is furios\n  offer realtime_contact\n'
    html = post(
        lead, "/editor/rules/problems", {"source": source}, headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "2 errors" in html and "line 1, column 6" in html and "line 4, column 16" in html
    assert "4 |   when tone is furios" in html and "<html" not in html
