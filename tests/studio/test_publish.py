"""Publishing is all or nothing; rollback makes an earlier bundle current again."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from studio.errors import BundleTampered, PublishRefused, ValidationFailed
from studio.models import Artifact, AuditEvent, Bundle, ChangeRequest
from studio.services import artifacts, bundles, publish, signing, workspace
from tests.factories import make_user, post, sign_in_as
from tests.factories.reviews import (
    FakeToolchain,
    approve,
    approved_offer,
    edit_offer,
    make_ruleset,
    publish_now,
    ring,
    submit,
)


@pytest.fixture
def people(session):
    return {
        "mara": make_user(session, "marketer"),
        "sam": make_user(session, "service_lead"),
        "rita": make_user(session, "reviewer"),
        "alex": make_user(session, "admin"),
    }


def _approved_ruleset(session, people, source: str):
    ruleset = make_ruleset(session, people["sam"], "retail", source)
    approve(session, submit(session, people["sam"], ruleset, title="Rules"), people["rita"])
    return ruleset


def test_publish_ships_the_approved_heads_as_a_signed_bundle(app, session, people) -> None:
    offer = approved_offer(
        session,
        people["mara"],
        people["rita"],
        "rewards_card",
        eligible_when='customer.state not in ["NY"]',
    )
    _approved_ruleset(session, people, "when order_checkbook offer rewards_card")
    bundle = publish_now(app, session, people["rita"])
    body = bundles.load_verified(bundle, ring(app).public_keys())
    assert body["format"] == "pos-studio-bundle/1" and body["version"] == 1
    assert body["revisions"] == {"offer:rewards_card": 1, "ruleset:retail": 1}
    assert body["offers"][0]["name"] == "Rewards Card"
    assert body["offers"][0]["eligibility"] == {"expr": 'customer.state not in ["NY"]'}
    assert body["rulesets"][0]["ir"]["rules"] == [
        {"when": "order_checkbook", "offer": "rewards_card"}
    ]
    assert body["schema"] == FakeToolchain().default_schema() and body["lexicon"] == {}
    assert bundle.digest == bundles.digest(bundle.body.encode()) and bundle.is_current
    assert session.get(Artifact, offer.id).published_number == 1
    assert {cr.status for cr in session.scalars(select(ChangeRequest))} == {"published"}


def test_a_rule_naming_an_unapproved_offer_is_held_back_and_nothing_else_means_no_bundle(
    app, session, people
) -> None:
    artifacts.create(
        session, kind="offer", key="draft_offer", name="Draft", body={}, actor_id=people["mara"].id
    )
    session.commit()
    _approved_ruleset(session, people, "when x offer draft_offer")
    with pytest.raises(PublishRefused) as refused:
        publish.publish(session, actor=people["rita"], ring=ring(app), toolchain=FakeToolchain())
    session.rollback()
    assert [p.code for p in refused.value.problems] == ["nothing-to-publish"]
    plan = publish.prepare_release(session, toolchain=FakeToolchain())
    [held] = plan.held_back
    assert [(p.severity, p.code, p.line) for p in held.reasons] == [
        ("error", "offer-not-approved", 1)
    ]
    assert session.scalar(select(func.count(Bundle.id))) == 0


@pytest.mark.parametrize(
    "case, code",
    [
        ("missing", "offer-missing"),
        ("archived", "offer-archived"),
        ("expired", "offer-expired"),
        ("future", "offer-not-yet-valid"),
    ],
)
def test_rules_naming_offers_that_will_not_be_live_publish_with_a_warning(
    app, session, people, case, code
) -> None:
    fields = {"expired": {"valid_to": "2021-01-01"}, "future": {"valid_from": "2999-01-01"}}
    offer = approved_offer(
        session, people["mara"], people["rita"], "card_plan", **fields.get(case, {})
    )
    if case == "archived":
        publish_now(app, session, people["rita"], today=date(2026, 1, 1))
        artifacts.set_archived(session, offer, True, actor_id=people["mara"].id)
        session.commit()
        approve(session, submit(session, people["mara"], offer), people["rita"])
    key = "ghost" if case == "missing" else "card_plan"
    _approved_ruleset(session, people, f"when x offer {key}")
    bundle = publish_now(app, session, people["rita"], today=date(2026, 1, 1))
    body = json.loads(bundle.body)
    assert [w["code"] for w in body["warnings"]] == [code]
    assert bundle.summary["warnings"] == 1


def test_a_ruleset_that_does_not_compile_is_refused_with_its_diagnostics(
    app, session, people
) -> None:
    _approved_ruleset(session, people, "this is an error")
    plan = publish.prepare(session, toolchain=FakeToolchain())
    assert [(p.ref, p.code, p.line) for p in plan.errors] == [("ruleset:retail", "E100", 1)]


def test_publishing_twice_without_new_approvals_is_refused(app, session, people) -> None:
    approved_offer(session, people["mara"], people["rita"], "rewards_card")
    publish_now(app, session, people["rita"])
    with pytest.raises(PublishRefused) as refused:
        publish_now(app, session, people["rita"])
    assert [p.code for p in refused.value.problems] == ["nothing-to-publish"]


STEPS = [
    (workspace, "snapshot"),
    (publish, "_compile_offers"),
    (publish, "_compile_rulesets"),
    (bundles, "canonical_json"),
    (signing.KeyRing, "sign"),
    (bundles, "store"),
    (publish, "_mark_published"),
    (publish.audit, "record"),
    (publish.notifications, "notify"),
]


@pytest.mark.parametrize("target, name", STEPS, ids=[name for _, name in STEPS])
def test_a_failure_at_any_step_leaves_no_partial_bundle(
    app, session, people, monkeypatch, target, name
) -> None:
    offer = approved_offer(session, people["mara"], people["rita"], "rewards_card")
    first = publish_now(app, session, people["rita"])
    edit_offer(session, offer, people["mara"], name="Second")
    approve(session, submit(session, people["mara"], offer), people["rita"])

    def broken(*args, **kwargs):
        raise RuntimeError(f"injected failure in {name}")

    monkeypatch.setattr(target, name, broken)
    with pytest.raises(RuntimeError, match="injected"):
        publish.publish(session, actor=people["rita"], ring=ring(app), toolchain=FakeToolchain())
    session.rollback()
    monkeypatch.undo()
    session.expire_all()
    assert [b.version for b in session.scalars(select(Bundle))] == [1]
    current = bundles.current(session)
    assert current is not None and current.version == 1 and current.digest == first.digest
    assert session.get(Artifact, offer.id).published_number == 1
    assert session.scalar(select(ChangeRequest).where(ChangeRequest.status == "approved"))
    assert publish_now(app, session, people["rita"]).version == 2


def test_rollback_republishes_an_earlier_bundle_as_the_current_one(app, session, people) -> None:
    offer = approved_offer(session, people["mara"], people["rita"], "rewards_card")
    first = publish_now(app, session, people["rita"])
    edit_offer(session, offer, people["mara"], name="Second")
    approve(session, submit(session, people["mara"], offer), people["rita"])
    publish_now(app, session, people["rita"])
    restored = publish.rollback(session, actor=people["alex"], version=1, ring=ring(app))
    session.commit()
    assert (restored.version, restored.rollback_of, restored.is_current) == (3, 1, True)
    old, new = (bundles.load_verified(b, ring(app).public_keys()) for b in (first, restored))
    assert new["offers"] == old["offers"] and new["revisions"] == old["revisions"]
    assert restored.summary["changes"]["changed"] == ["offer:rewards_card"]
    fresh = session.get(Artifact, offer.id)
    assert (fresh.published_number, fresh.approved_number) == (1, 1)
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "bundle.rollback"))
    with pytest.raises(ValidationFailed):
        publish.rollback(session, actor=people["alex"], version=3, ring=ring(app))


def test_rollback_refuses_to_restore_a_tampered_bundle(app, session, people) -> None:
    offer = approved_offer(session, people["mara"], people["rita"], "rewards_card")
    first = publish_now(app, session, people["rita"])
    edit_offer(session, offer, people["mara"], name="Second")
    approve(session, submit(session, people["mara"], offer), people["rita"])
    publish_now(app, session, people["rita"])
    first.body = first.body.replace("Rewards", "Rewardz", 1)
    session.commit()
    with pytest.raises(BundleTampered):
        publish.rollback(session, actor=people["alex"], version=1, ring=ring(app))


@pytest.mark.parametrize(
    "who, allowed", [("mara", False), ("sam", False), ("rita", True), ("alex", True)]
)
def test_who_may_publish_and_roll_back_by_post(
    app, session, people, monkeypatch, who, allowed
) -> None:
    monkeypatch.setattr(publish, "default_toolchain", FakeToolchain)
    approved_offer(session, people["mara"], people["rita"], "rewards_card")
    client = sign_in_as(app.test_client(), people[who])
    response = post(client, "/bundles/publish")
    assert response.status_code == (302 if allowed else 403)
    assert session.scalar(select(func.count(Bundle.id))) == (1 if allowed else 0)
    if allowed:
        assert client.get("/bundles/").status_code == 200
        assert client.get("/bundles/1").status_code == 200
        assert b"already current" in post(client, "/bundles/1/rollback").data
    else:
        assert post(client, "/bundles/1/rollback").status_code == 403


def test_publish_page_shows_the_plan_and_refuses_with_diagnostics(
    app, session, people, monkeypatch
) -> None:
    monkeypatch.setattr(publish, "default_toolchain", FakeToolchain)
    _approved_ruleset(session, people, "an error here")
    client = sign_in_as(app.test_client(), people["rita"])
    page = client.get("/bundles/publish")
    assert page.status_code == 200 and b"E100" in page.data and b"Publish now" not in page.data
    response = post(client, "/bundles/publish")
    assert response.status_code == 422 and b"Nothing was published" in response.data
    assert session.scalar(select(func.count(Bundle.id))) == 0


def test_rollback_through_the_pages_asks_first(app, session, people, monkeypatch) -> None:
    monkeypatch.setattr(publish, "default_toolchain", FakeToolchain)
    offer = approved_offer(session, people["mara"], people["rita"], "rewards_card")
    publish_now(app, session, people["rita"])
    edit_offer(session, offer, people["mara"], name="Second")
    approve(session, submit(session, people["mara"], offer), people["rita"])
    publish_now(app, session, people["rita"])
    client = sign_in_as(app.test_client(), people["rita"])
    confirm = client.get("/bundles/1/rollback")
    assert confirm.status_code == 200 and b"Roll back to v1?" in confirm.data
    assert session.scalar(select(func.count(Bundle.id))) == 2
    assert post(client, "/bundles/1/rollback").status_code == 302
    listing = client.get("/bundles/").get_data(as_text=True)
    assert "rollback to v1" in listing and "v3" in listing


def test_the_real_toolchain_compiles_a_ruleset_into_the_bundle(app, session, people) -> None:
    approved_offer(session, people["mara"], people["rita"], "overdraft_protection")
    _approved_ruleset(
        session,
        people,
        'rule "Checkbook"\n  when inquiry.category is '
        "transactional\n  offer overdraft_protection\n",
    )
    bundle = publish.publish(session, actor=people["rita"], ring=ring(app))
    body = json.loads(bundle.body)
    assert body["rulesets"][0]["ir"] and body["revisions"]["ruleset:retail"] == 1


def test_archiving_reaches_the_bundle_only_once_a_reviewer_approves_it(
    app, session, people
) -> None:
    offer = approved_offer(session, people["mara"], people["rita"], "card_plan")
    publish_now(app, session, people["rita"])
    artifacts.set_archived(session, offer, True, actor_id=people["mara"].id)
    session.commit()
    approved_offer(session, people["mara"], people["rita"], "rewards_card")
    unreviewed = json.loads(publish_now(app, session, people["rita"]).body)
    assert "card_plan" in [o["key"] for o in unreviewed["offers"]]
    approve(session, submit(session, people["mara"], offer), people["rita"])
    reviewed = json.loads(publish_now(app, session, people["rita"]).body)
    assert "card_plan" not in [o["key"] for o in reviewed["offers"]]


def test_a_rename_reaches_the_bundle_only_with_its_approved_revision(app, session, people) -> None:
    ruleset = _approved_ruleset(
        session,
        people,
        'rule "Checkbook"\n  when inquiry.category is '
        "transactional\n  offer overdraft_protection\n",
    )
    approved_offer(session, people["mara"], people["rita"], "overdraft_protection")
    publish_now(app, session, people["rita"])
    artifacts.save(
        session,
        ruleset,
        body=dict(artifacts.head(session, ruleset).body),
        base_number=ruleset.head_number,
        actor_id=people["sam"].id,
        name="Renamed without review",
    )
    session.commit()
    approved_offer(session, people["mara"], people["rita"], "rewards_card")
    unreviewed = json.loads(publish_now(app, session, people["rita"]).body)
    assert unreviewed["rulesets"][0]["name"] != "Renamed without review"
    approve(session, submit(session, people["sam"], ruleset), people["rita"])
    reviewed = json.loads(publish_now(app, session, people["rita"]).body)
    assert reviewed["rulesets"][0]["name"] == "Renamed without review"


def test_the_contents_name_every_kind_a_bundle_holds() -> None:
    body = {
        "offers": [{}] * 12,
        "layouts": [{}] * 5,
        "rulesets": [{}] * 5,
        "surveys": [{}] * 2,
        "policy": {"lines": []},
        "revisions": {"offer:a": 1, "schema:interaction": 3, "lexicon:tone": 1, "policy:p": 1},
    }
    assert publish.contents(body) == (
        "12 offers, 5 layouts, 5 rulesets, 2 surveys, the contact policy, "
        "the interaction schema and the tone lexicon"
    )
    assert publish.contents({"rulesets": [{}]}) == "0 offers, 0 layouts, 1 ruleset and 0 surveys"


def test_with_nothing_new_the_publish_page_links_to_reviews_only_for_reviewers(
    app, session, people
) -> None:
    for who, linked in (("rita", True), ("alex", False)):  # an admin does not review
        page = sign_in_as(app.test_client(), people[who]).get("/bundles/publish")
        assert "Nothing new to publish." in page.get_data(as_text=True)
        assert ('href="/reviews/"' in page.get_data(as_text=True)) is linked, who
