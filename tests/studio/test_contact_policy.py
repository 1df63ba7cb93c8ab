"""The workspace contact policy: service leads keep it as reviewed revisions."""

from __future__ import annotations

import pytest
from flask import Flask

from studio.services import artifacts
from tests.factories import make_user, post, sign_in_as


@pytest.fixture
def lead(app: Flask, session):
    user = make_user(session, "service_lead")
    return sign_in_as(app.test_client(), user), user


def test_before_any_save_a_starter_is_shown(lead) -> None:
    html = lead[0].get("/rules/policy").get_data(as_text=True)
    assert "No policy yet" in html and "at most 1 offer per response" in html


def test_saving_writes_revisions_of_the_policy_artifact(lead, session) -> None:
    client, _ = lead
    source = "at most 1 offer per response\nrank by priority * value\n"
    assert post(client, "/rules/policy", {"source": source, "base_number": "0"}).status_code == 302
    artifact = artifacts.find(session, "policy", "contact")
    assert artifact is not None and artifacts.head(session, artifact).body == {"source": source}


def test_a_policy_with_errors_is_refused_with_its_lines_and_nothing_is_stored(
    lead, session
) -> None:
    response = post(
        lead[0],
        "/rules/policy",
        {
            "source": "at most 1 offer per response\nlimit nope to 1 per customer per 0 days\nhello",
            "base_number": "0",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 2: E203" in html and "Line 2: E221" in html and "Line 3: E220" in html
    assert "hello" in html  # the typed text is kept
    assert artifacts.find(session, "policy", "contact") is None


def test_warnings_are_shown_on_the_saved_policy(lead) -> None:
    client, _ = lead
    post(client, "/rules/policy", {"source": "at most 0 offers per response", "base_number": "0"})
    assert "W405" in client.get("/rules/policy").get_data(as_text=True)


def test_marketers_cannot_edit_the_policy(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    assert client.get("/rules/policy").status_code == 403
    assert post(client, "/rules/policy", {"source": "x"}).status_code == 403
