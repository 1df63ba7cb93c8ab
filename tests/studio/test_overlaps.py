"""Overlap warnings and the contact policy in the studio's pages: the ruleset editor,
the preview pane, the matrix, the review of a change request and the publish page."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from studio.models import Artifact
from studio.services import artifacts, contact_policy, overlaps, rule_editor
from tests.factories import make_user, post, sign_in_as
from tests.factories.reviews import approve, submit
from tests.factories.samples import RULESETS, seed_preview_workspace

HX = {"HX-Request": "true"}
OFFERS = ("refill_savings", "mobile_alerts", "check_in")


def _reminders_source() -> str:
    return RULESETS["pharmacy_reminders"][1].read_text()


@pytest.fixture
def lead(app: Flask, session: Session):
    """A service lead (also reviewer and marketer) in a workspace with the two pharmacy
    rulesets, which both propose for the SMS refill samples, and a contact policy."""
    user = make_user(session, "service_lead", "marketer", "reviewer", name="Sam Okafor")
    seed_preview_workspace(
        session, user, offers=OFFERS, rulesets=("pharmacy", "pharmacy_reminders")
    )
    contact_policy.save(
        session,
        "# policy\nat most 1 offer per response\n",
        base_number=0,
        actor_id=user.id,
    )
    session.commit()
    return user


@pytest.fixture
def client(app: Flask, lead) -> FlaskClient:
    return sign_in_as(app.test_client(), lead)


def test_the_editor_warns_on_the_rule_that_shares_samples_with_another_ruleset(client) -> None:
    response = post(
        client,
        "/editor/rules/diagnostics",
        {
            "source": _reminders_source(),
            "name": "Pharmacy refill reminders",
            "ruleset_key": "pharmacy_reminders",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    [warning] = [d for d in response.get_json()["diagnostics"] if d["code"] == "W410"]
    assert warning["severity"] == "warning" and warning["line"] == 10
    assert "shares 2 samples with Pharmacy" in warning["message"]
    assert "the contact policy keeps refill_savings" in warning["message"]


def test_the_problems_list_shows_the_overlap_warning_counted_with_the_others(client) -> None:
    html = post(
        client,
        "/editor/rules/problems",
        {"source": _reminders_source(), "name": "Reminders", "ruleset_key": "pharmacy_reminders"},
        headers=HX,
    ).get_data(as_text=True)
    assert "warning W410" in html and "Compiles, with 1 warning" in html


def test_a_ruleset_that_shares_no_sample_gets_no_overlap_warning(client) -> None:
    source = 'rule "Hotel" when inquiry.category is feedback offer check_in\n'
    found = post(
        client,
        "/editor/rules/diagnostics",
        {"source": source, "name": "Hotel", "ruleset_key": "hotel"},
    ).get_json()
    assert not [d for d in found["diagnostics"] if d["code"] == "W410"]


def test_the_pane_shows_the_candidate_the_policy_removed_with_its_line(client) -> None:
    html = post(
        client,
        "/preview/samples",
        {"part": "result", "preview_sample": "pharmacy-refill-8pct"},
        headers=HX,
    ).get_data(as_text=True)
    assert "After the contact policy" in html
    assert "<s>mobile_alerts</s>" in html and "over at most 1 per response" in html
    assert "<code>at most 1 offer per response</code>" in html and "policy line 2" in html


def test_the_policy_pane_applies_the_typed_policy_before_it_is_saved(client) -> None:
    html = post(
        client,
        "/preview/policy",
        {
            "part": "result",
            "preview_sample": "pharmacy-refill-8pct",
            "source": "at most 2 offers per response\n",
        },
        headers=HX,
    ).get_data(as_text=True)
    assert "<s>mobile_alerts</s>" not in html and "Nothing removed" in html
    broken = post(
        client,
        "/preview/policy",
        {"part": "result", "preview_sample": "pharmacy-refill-8pct", "source": "hello\n"},
        headers=HX,
    ).get_data(as_text=True)
    assert "This contact policy does not compile yet" in broken and "E220" in broken


def test_the_matrix_warns_about_the_overlap_and_shows_what_the_customer_gets(client) -> None:
    html = client.get("/interactions/matrix?ruleset=pharmacy_reminders").get_data(as_text=True)
    assert "Warning: 2 samples where this ruleset shares the customer" in html
    assert "lose it to the contact policy" in html
    assert "removed by contact policy line 2: at most 1 offer per response" in html


def test_the_review_of_a_change_request_with_an_overlapping_ruleset_warns(
    client, session, lead
) -> None:
    reminders = artifacts.find(session, "ruleset", "pharmacy_reminders")
    alone = submit(session, lead, reminders, title="Refill reminders")
    overlaps_part = f"/reviews/{alone.id}?part=overlaps"
    html = client.get(overlaps_part, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="review-overlaps"' not in html, "nothing else is approved: no overlap would ship"
    others = [a for a in session.query(Artifact) if a.key != "pharmacy_reminders"]
    approve(
        session, submit(session, lead, *others, title="The rest"), make_user(session, "reviewer")
    )
    page = client.get(f"/reviews/{alone.id}").get_data(as_text=True)
    assert 'id="review-overlaps"' not in page and f'hx-get="{overlaps_part}"' in page
    for html in (
        client.get(overlaps_part, headers={"HX-Request": "true"}).get_data(as_text=True),
        client.get(f"/reviews/{alone.id}?inline=1").get_data(as_text=True),
    ):
        assert 'id="review-overlaps"' in html and "rulesets overlap on 2 samples" in html
        assert "Pharmacy refill, 8% savings" in html and "at most 1 offer per response" in html
        assert 'href="/interactions/' in html  # a service lead opens the samples
    reviewer = sign_in_as(client.application.test_client(), make_user(session, "reviewer"))
    html = reviewer.get(overlaps_part, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Pharmacy refill, 8% savings" in html
    assert 'href="/interactions/' not in html  # a reviewer may not: named, not linked


def test_the_publish_page_warns_about_overlaps_in_what_would_go_live(
    app, client, session, lead
) -> None:
    rita = make_user(session, "reviewer")
    items = list(session.query(Artifact).filter(Artifact.approved_number.is_(None)))
    approve(session, submit(session, lead, *items, title="Everything"), rita)
    assert len(overlaps.for_publish(session)) == 2
    publisher = make_user(session, "reviewer", "admin")
    html = sign_in_as(app.test_client(), publisher).get("/bundles/publish").get_data(as_text=True)
    assert 'id="publish-overlaps"' in html and "Publishing is not held back" in html


def test_nothing_approved_means_no_overlap_on_the_publish_page(session, lead) -> None:
    assert overlaps.for_publish(session) == ()


def test_an_oversized_policy_typed_in_the_pane_is_a_diagnostic_not_an_error_page(client) -> None:
    response = post(
        client,
        "/preview/policy",
        {
            "part": "result",
            "preview_sample": "pharmacy-refill-8pct",
            "source": "# x\n" * 60_000,
        },
        headers=HX,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "This contact policy does not compile yet" in html and "E103" in html


def test_the_policy_pane_is_for_service_leads_only(app, session) -> None:
    marketer = sign_in_as(app.test_client(), make_user(session, "marketer"))
    response = post(marketer, "/preview/policy", {"part": "result", "source": ""}, headers=HX)
    assert response.status_code == 403


def test_a_large_ruleset_gets_overlap_warnings_when_the_page_opens_not_while_typing(
    client, session
) -> None:
    filler = "".join(
        f'rule "Filler {i}" when inquiry.category is feedback and inquiry.intent is "x{i}"'
        " offer check_in\n"
        for i in range(rule_editor.LIVE_OVERLAP_RULES)
    )
    source = _reminders_source() + filler
    body = {
        "source": source,
        "name": "Pharmacy refill reminders",
        "ruleset_key": "pharmacy_reminders",
    }
    markers = post(client, "/editor/rules/diagnostics", body).get_json()
    assert markers["ok"] and markers["rules"] > rule_editor.LIVE_OVERLAP_RULES
    assert not [d for d in markers["diagnostics"] if d["code"] == "W410"]
    typing = post(client, "/editor/rules/problems", body, headers=HX).get_data(as_text=True)
    assert "W410" not in typing
    opened = rule_editor.report(
        session,
        source,
        name="Pharmacy refill reminders",
        key="pharmacy_reminders",
        all_overlaps=True,
    )
    assert [d for d in opened.diagnostics if d["code"] == "W410"]
