"""The workspace snapshot: plain frozen data at head or at the approved revisions."""

from __future__ import annotations

import pytest

from studio.services import artifacts, workspace
from tests.factories import make_user
from tests.factories.reviews import approved_offer, edit_offer


def test_head_and_approved_views_differ_by_the_unapproved_draft(session) -> None:
    mara, rita = make_user(session, "marketer"), make_user(session, "reviewer")
    offer = approved_offer(session, mara, rita, "rewards_card")
    edit_offer(session, offer, mara, name="Draft name")
    artifacts.create(
        session, kind="offer", key="brand_new", name="New", body={"key": "x"}, actor_id=mara.id
    )
    session.commit()
    head = workspace.snapshot(session, which="head")
    approved = workspace.snapshot(session, which="approved")
    assert head.offers["rewards_card"]["name"] == "Draft name"
    assert set(head.offers) == {"rewards_card", "brand_new"}
    assert approved.offers == {}
    assert approved.unavailable == {"offer:rewards_card": "rewards card", "offer:brand_new": "New"}
    assert head.revisions == {"offer:brand_new": 1, "offer:rewards_card": 2}


def test_the_snapshot_is_frozen_and_copies_are_plain(session) -> None:
    mara, rita = make_user(session, "marketer"), make_user(session, "reviewer")
    approved_offer(session, mara, rita, "rewards_card")
    view = workspace.snapshot(session, which="approved")
    entry = view.entries["offer:rewards_card"]
    with pytest.raises(TypeError):
        entry.body["name"] = "changed"  # type: ignore[index]
    plain = view.offers["rewards_card"]
    plain["name"] = "mine"
    assert view.offers["rewards_card"]["name"] != "mine"
    assert isinstance(workspace.thaw(entry.body)["blocks"], dict)


def test_schema_and_lexicon_are_none_when_absent_and_archived_offers_are_left_out(session) -> None:
    mara = make_user(session, "marketer")
    offer = artifacts.create(
        session, kind="offer", key="old", name="Old", body={}, actor_id=mara.id
    )
    artifacts.set_archived(session, offer, True, actor_id=mara.id)
    session.commit()
    head = workspace.snapshot(session, which="head")
    assert head.schema is None and head.lexicon is None
    assert head.offers == {} and head.revisions == {}


def test_an_unknown_state_is_a_programming_error(session) -> None:
    with pytest.raises(ValueError):
        workspace.snapshot(session, which="published")  # type: ignore[arg-type]
