"""One bad change request never blocks the others: publish ships every approved,
self-consistent change request and lists the ones it held back, with the reason."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from studio.models import AuditEvent, ChangeRequest
from studio.services import bundles, publish, request_consistency
from tests.factories import make_user, post, sign_in_as
from tests.factories.reviews import (
    FakeToolchain,
    approve,
    make_offer,
    make_ruleset,
    publish_now,
    ring,
    submit,
)


@pytest.fixture
def people(session):
    return {
        "mara": make_user(session, "marketer"),
        "sam": make_user(session, "service_lead", "marketer"),
        "rita": make_user(session, "reviewer"),
    }


def _approved(session, people, author: str, *items, title: str) -> ChangeRequest:
    request = submit(session, people[author], *items, title=title)
    approve(session, request, people["rita"])
    return request


def _offers_named(body: dict) -> set[str]:
    return {rule["offer"] for ruleset in body["rulesets"] for rule in ruleset["ir"]["rules"]}


def _bad_and_good(session, people) -> tuple[ChangeRequest, ChangeRequest]:
    make_offer(session, people["mara"], "never_approved")
    bad = _approved(
        session,
        people,
        "sam",
        make_ruleset(session, people["sam"], "bad_rules", "when x offer never_approved"),
        title="Bad rules",
    )
    good = _approved(
        session,
        people,
        "sam",
        make_offer(session, people["sam"], "rewards_card"),
        make_ruleset(session, people["sam"], "good_rules", "when y offer rewards_card"),
        title="Good rules",
    )
    return bad, good


def test_publish_with_one_bad_and_one_good_change_request_ships_the_good_one(
    app, session, people
) -> None:
    bad, good = _bad_and_good(session, people)
    bundle = publish_now(app, session, people["rita"])
    body = bundles.load_verified(bundle, ring(app).public_keys())
    assert body["revisions"] == {"offer:rewards_card": 1, "ruleset:good_rules": 1}
    assert session.get(ChangeRequest, good.id).status == "published"
    assert session.get(ChangeRequest, bad.id).status == "approved"  # waits for the next one


def test_the_bundle_never_carries_a_ruleset_naming_an_offer_it_does_not_carry(
    app, session, people
) -> None:
    _bad_and_good(session, people)
    body = json.loads(publish_now(app, session, people["rita"]).body)
    assert _offers_named(body) <= {offer["key"] for offer in body["offers"]}


def test_the_held_back_list_names_each_request_with_its_reasons(app, session, people) -> None:
    bad, _good = _bad_and_good(session, people)
    plan = publish.prepare_release(session, toolchain=FakeToolchain())
    assert plan.errors == []
    [held] = plan.held_back
    assert held.request.id == bad.id
    assert [(p.ref, p.code, p.line) for p in held.reasons] == [
        ("ruleset:bad_rules", "offer-not-approved", 1)
    ]
    publish_now(app, session, people["rita"])
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "bundle.publish")).one()
    assert event.detail["held_back"] == [
        {"change_request": bad.id, "codes": ["offer-not-approved"]}
    ]


def test_a_request_built_on_a_held_back_one_is_held_back_too(app, session, people) -> None:
    broken = _approved(
        session,
        people,
        "mara",
        make_offer(session, people["mara"], "broken_offer", eligible_when="an error"),
        title="Broken offer",
    )
    follower = _approved(
        session,
        people,
        "sam",
        make_ruleset(session, people["sam"], "follows", "when x offer broken_offer"),
        title="Rules for the broken offer",
    )
    _approved(session, people, "mara", make_offer(session, people["mara"], "fine"), title="Fine")
    plan = publish.prepare_release(session, toolchain=FakeToolchain())
    held = {h.request.id: [p.code for p in h.reasons] for h in plan.held_back}
    assert held == {broken.id: ["E200"], follower.id: ["offer-not-approved"]}
    assert plan.errors == [] and plan.body["revisions"] == {"offer:fine": 1}


def test_requests_that_need_each_other_ship_together(app, session, people) -> None:
    offer_request = _approved(
        session, people, "mara", make_offer(session, people["mara"], "card"), title="Offer"
    )
    rules_request = _approved(
        session,
        people,
        "sam",
        make_ruleset(session, people["sam"], "rules", "when x offer card"),
        title="Rules",
    )
    plan = publish.prepare_release(session, toolchain=FakeToolchain())
    assert plan.held_back == [] and plan.errors == []
    publish_now(app, session, people["rita"])
    assert {session.get(ChangeRequest, r.id).status for r in (offer_request, rules_request)} == {
        "published"
    }


def test_the_real_toolchain_holds_back_a_ruleset_naming_an_offer_still_in_review(
    app, session, people
) -> None:
    in_review = make_offer(session, people["mara"], "card_protection_plan")
    submit(session, people["mara"], in_review, title="Still in review")
    source = 'rule "After a stolen card"\n  when inquiry.category is transactional\n  offer {}\n'
    bad = _approved(
        session,
        people,
        "sam",
        make_ruleset(session, people["sam"], "bad", source.format("card_protection_plan")),
        title="Names an offer in review",
    )
    _approved(
        session,
        people,
        "sam",
        make_offer(session, people["sam"], "overdraft_protection"),
        make_ruleset(session, people["sam"], "good", source.format("overdraft_protection")),
        title="Good",
    )
    bundle = publish.publish(session, actor=people["rita"], ring=ring(app))
    body = json.loads(bundle.body)
    assert [r["key"] for r in body["rulesets"]] == ["good"]
    assert [o["key"] for o in body["offers"]] == ["overdraft_protection"]
    assert session.get(ChangeRequest, bad.id).status == "approved"


def test_the_publish_page_lists_what_it_holds_back_and_still_offers_to_publish(
    app, session, people, monkeypatch
) -> None:
    monkeypatch.setattr(publish, "default_toolchain", FakeToolchain)
    bad, _good = _bad_and_good(session, people)
    client = sign_in_as(app.test_client(), people["rita"])
    page = client.get("/bundles/publish").get_data(as_text=True)
    assert "Held back: 1 change request" in page
    assert f"#{bad.id} Bad rules" in page and "never_approved" in page
    assert "offer-not-approved" in page and "Publish now" in page
    response = post(client, "/bundles/publish")
    assert response.status_code == 302


def test_submitting_a_ruleset_that_names_an_unapproved_offer_flags_it(
    app, session, people, monkeypatch
) -> None:
    monkeypatch.setattr(request_consistency, "default_toolchain", FakeToolchain)
    make_offer(session, people["mara"], "draft_offer")
    ruleset = make_ruleset(session, people["sam"], "rules", "when x offer draft_offer")
    client = sign_in_as(app.test_client(), people["sam"])
    response = post(
        client,
        "/reviews/new",
        {"title": "Rules", "artifact": str(ruleset.id)},
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "offers draft_offer, which is not approved and is not in this change request" in text
    reviewer = sign_in_as(app.test_client(), people["rita"])
    request = session.scalars(select(ChangeRequest)).one()
    # The review page loads its flags on its own (htmx), or in the page with inline=1.
    assert f"/reviews/{request.id}?part=flags" in text
    for shown in (
        reviewer.get(f"/reviews/{request.id}?part=flags", headers={"HX-Request": "true"}),
        reviewer.get(f"/reviews/{request.id}?inline=1"),
    ):
        assert "This change request does not stand on its own" in shown.get_data(as_text=True)


def test_an_offer_in_the_same_request_or_already_approved_is_not_flagged(
    app, session, people
) -> None:
    approved = make_offer(session, people["mara"], "approved_offer")
    _approved(session, people, "mara", approved, title="Approved offer")
    together = make_offer(session, people["sam"], "together")
    ruleset = make_ruleset(
        session, people["sam"], "rules", "when x offer together\nwhen y offer approved_offer"
    )
    request = submit(session, people["sam"], together, ruleset, title="Both")
    assert request_consistency.flags(session, request, toolchain=FakeToolchain()) == []
    alone = make_ruleset(session, people["sam"], "alone", "when z offer nowhere")
    flagged = submit(session, people["sam"], alone, title="Alone")
    [flag] = request_consistency.flags(session, flagged, toolchain=FakeToolchain())
    assert flag.offer == "nowhere" and "does not exist" in flag.message
