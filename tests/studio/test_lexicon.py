"""The tone lexicon: service leads keep the distress terms, as reviewed revisions."""

from __future__ import annotations

import pytest
from flask import Flask

from studio.services import artifacts, lexicon
from tests.factories import make_user, post, sign_in_as


@pytest.fixture
def lead(app: Flask, session):
    user = make_user(session, "service_lead")
    return sign_in_as(app.test_client(), user), user


def test_before_any_save_the_built_in_terms_are_shown(lead) -> None:
    html = lead[0].get("/rules/lexicon").get_data(as_text=True)
    assert "The built-in terms" in html and "assaulted" in html
    assert "Distressed" in html


def test_saving_writes_revisions_of_the_lexicon_artifact(lead, session) -> None:
    client, _ = lead
    assert (
        post(
            client, "/rules/lexicon", {"terms": "stolen\n# note\nlocked out\n", "base_number": "0"}
        ).status_code
        == 302
    )
    assert (
        post(
            client, "/rules/lexicon", {"terms": "stolen\nlocked out\nscam*", "base_number": "1"}
        ).status_code
        == 302
    )
    artifact = artifacts.find(session, "lexicon", "tone")
    assert artifact.head_number == 2
    assert artifacts.head(session, artifact).body == {"distress": ["stolen", "locked out", "scam*"]}


def test_a_bad_term_is_refused_with_its_line_and_nothing_is_stored(lead, session) -> None:
    response = post(
        lead[0], "/rules/lexicon", {"terms": "stolen\n<b>bold</b>\nstolen", "base_number": "0"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 2:" in html and "Line 3:" in html and "listed twice" in html
    assert artifacts.find(session, "lexicon", "tone") is None


def test_a_stale_save_is_a_conflict_that_keeps_the_terms(lead) -> None:
    client, _ = lead
    post(client, "/rules/lexicon", {"terms": "stolen", "base_number": "0"})
    response = post(client, "/rules/lexicon", {"terms": "stolen\nmine", "base_number": "0"})
    assert response.status_code == 409 and "mine" in response.get_data(as_text=True)


def test_the_try_out_uses_the_terms_as_typed(lead) -> None:
    html = post(
        lead[0],
        "/rules/lexicon/try",
        {"terms": "locked out", "sample": "I am locked out of my home"},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert "distressed" in html and "locked out" in html


def test_the_saved_lexicon_is_what_the_studio_infers_with(lead, session) -> None:
    post(lead[0], "/rules/lexicon", {"terms": "locked out", "base_number": "0"})
    assert lexicon.infer(session, "I am locked out").label == "distressed"
    assert lexicon.infer(session, "My card was stolen").label != "distressed"


def test_marketers_cannot_edit_the_lexicon(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    assert client.get("/rules/lexicon").status_code == 403
    assert post(client, "/rules/lexicon", {"terms": "x"}).status_code == 403
