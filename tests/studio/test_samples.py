"""The sample-interaction library: create by form or JSON, tag, search, duplicate, import."""

from __future__ import annotations

import io
import json

import pytest
from flask import Flask

from dsl import default_schema, validate_interaction
from studio.demo.samples import demo_samples
from studio.models import SampleInteraction
from studio.services import samples
from tests.factories import make_user, post, sign_in_as
from tests.factories.samples import seed_preview_workspace

HX = {"HX-Request": "true"}


@pytest.fixture
def lead(app: Flask, session):
    user = make_user(session, "service_lead", name="Sam Okafor")
    return sign_in_as(app.test_client(), user), user


def _stored(session, key: str) -> SampleInteraction | None:
    session.expire_all()
    return samples.get(session, key)


def test_the_demo_ships_the_white_papers_situations_and_they_fit_the_schema() -> None:
    found = {s["key"] for s in demo_samples()}
    assert {
        "stolen-card-distress",
        "checkbook-order",
        "online-banking-fix-proposed",
        "online-banking-fix-confirmed",
        "online-banking-still-broken",
        "platinum-customer",
        "fund-advice",
        "anonymous-web-question",
        "magazine-cancellation",
        "pharmacy-refill-3pct",
        "pharmacy-refill-8pct",
        "hotel-complaint",
        "product-return-diagnostic",
    } == found
    for sample in demo_samples():
        assert validate_interaction(default_schema(), sample["interaction"]) == []
        assert "tone" not in sample["interaction"], "demo samples let the studio infer tone"


def test_the_demo_seed_adds_samples_once(app: Flask, session) -> None:
    from studio.demo.samples import seed

    assert len(seed(session, {})) == len(demo_samples())
    session.commit()
    assert seed(session, {}) == []


def test_people_outside_marketing_and_service_cannot_open_samples(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "reviewer"))
    assert client.get("/interactions/").status_code == 403
    assert post(client, "/interactions/new", {"name": "x"}).status_code == 403


def test_an_empty_library_offers_a_way_to_start(lead) -> None:
    html = lead[0].get("/interactions/").get_data(as_text=True)
    assert "No sample interactions yet." in html and "Import JSON lines" in html


def test_a_sample_made_in_the_form_is_stored_typed(lead, session) -> None:
    client, _ = lead
    response = post(
        client,
        "/interactions/new",
        {
            "mode": "form",
            "name": "Checkbook order",
            "tags": "Banking, chat",
            "inquiry.category": "transactional",
            "inquiry.intent": "order_checkbook",
            "inquiry.channel": "chat",
            "inquiry.resolution": "confirmed",
            "tone.score": "0.4",
            "customer.authenticated": "true",
            "customer.products": "checking, savings",
            "_free": '{"refill": {"savings_pct": 8}}',
        },
    )
    assert response.status_code == 302
    stored = _stored(session, "checkbook-order")
    assert stored is not None and stored.tags == ["banking", "chat"]
    assert stored.body["inquiry"]["intent"] == "order_checkbook"
    assert stored.body["tone"] == {"score": 0.4}
    assert stored.body["customer"] == {"authenticated": True, "products": ["checking", "savings"]}
    assert stored.body["data"] == {"refill": {"savings_pct": 8}}


def test_form_errors_sit_next_to_their_field_and_keep_the_input(lead, session) -> None:
    response = post(
        lead[0],
        "/interactions/new",
        {
            "mode": "form",
            "name": "",
            "tone.score": "very",
            "customer.tier": "diamond",
            "inquiry.intent": "kept_intent",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="f-tone-score-error"' in html and "very is not a number" in html
    assert "kept_intent" in html
    assert session.query(SampleInteraction).count() == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"inquiry": {"category": ', "This is not valid JSON"),
        ("[1, 2]", "a JSON object"),
        ('{"inquiry": {"category": "transactonal"}}', "inquiry.category"),
        ('{"custmer": {"tier": "gold"}}', "did you mean"),
    ],
)
def test_raw_json_is_checked_against_the_schema_with_errors_per_field(lead, text, message) -> None:
    response = post(
        lead[0], "/interactions/new?mode=json", {"mode": "json", "name": "Raw", "json": text}
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_the_list_is_searched_filtered_by_tag_and_paginated(lead, session) -> None:
    client, user = lead
    seed_preview_workspace(session, user, offers=(), rulesets=())
    for n in range(25):
        session.add(
            SampleInteraction(key=f"extra-{n:02}", name=f"Zz extra {n:02}", tags=["bulk"], body={})
        )
    session.commit()
    page1 = client.get("/interactions/").get_data(as_text=True)
    assert "Page 1 of 2" in page1 and "Checkbook order by chat" in page1
    found = client.get("/interactions/?q=refill", headers=HX).get_data(as_text=True)
    assert "Pharmacy refill, 3% savings" in found and "Checkbook" not in found
    assert "<html" not in found
    tagged = client.get("/interactions/?tag=hotel").get_data(as_text=True)
    assert "Hotel room complaint" in tagged and "Pharmacy" not in tagged
    nothing = client.get("/interactions/?q=zebra").get_data(as_text=True)
    assert "No sample matches “zebra”" in nothing


def test_editing_saves_and_a_stale_edit_is_refused_keeping_the_input(lead, session) -> None:
    client, user = lead
    sample = samples.create(session, key="s1", name="One", tags="", body={}, actor_id=user.id)
    session.commit()
    form = {
        "mode": "json",
        "name": "One, renamed",
        "tags": "a",
        "json": '{"inquiry": {"channel": "sms"}}',
        "lock_version": str(sample.lock_version),
    }
    assert post(client, "/interactions/s1/edit", form).status_code == 302
    assert _stored(session, "s1").body == {"inquiry": {"channel": "sms"}}
    stale = post(client, "/interactions/s1/edit", {**form, "name": "Mine"})
    assert stale.status_code == 409 and "Mine" in stale.get_data(as_text=True)


def test_duplicate_copies_fields_and_tags_under_a_new_key(lead, session) -> None:
    client, user = lead
    samples.create(
        session,
        key="orig",
        name="Original",
        tags="x, y",
        body={"inquiry": {"channel": "web"}},
        actor_id=user.id,
    )
    session.commit()
    assert "orig-copy" in client.get("/interactions/orig/duplicate").get_data(as_text=True)
    assert (
        post(
            client, "/interactions/orig/duplicate", {"key": "orig-2", "name": "Second"}
        ).status_code
        == 302
    )
    copy = _stored(session, "orig-2")
    assert copy.tags == ["x", "y"] and copy.body == {"inquiry": {"channel": "web"}}
    again = post(client, "/interactions/orig/duplicate", {"key": "orig", "name": "Third"})
    assert again.status_code == 422 and "already exists" in again.get_data(as_text=True)


def test_delete_asks_first_then_removes_the_sample(lead, session) -> None:
    client, user = lead
    samples.create(session, key="gone", name="Gone soon", tags="", body={}, actor_id=user.id)
    session.commit()
    confirm = client.get("/interactions/gone/delete").get_data(as_text=True)
    assert "Delete Gone soon?" in confirm and _stored(session, "gone") is not None
    assert post(client, "/interactions/gone/delete").status_code == 302
    assert _stored(session, "gone") is None
    assert client.get("/interactions/gone").status_code == 404


def test_json_lines_import_keeps_good_lines_and_reports_bad_ones_by_number(lead, session) -> None:
    client, user = lead
    samples.create(session, key="exists", name="Exists", tags="", body={}, actor_id=user.id)
    session.commit()
    lines = "\n".join(
        [
            json.dumps({"id": "a-1", "inquiry": {"intent": "order_checkbook", "channel": "chat"}}),
            "{broken",
            json.dumps(
                {
                    "key": "wrapped",
                    "name": "Wrapped",
                    "tags": ["w"],
                    "interaction": {"customer": {"tier": "gold"}},
                }
            ),
            json.dumps({"key": "exists", "name": "Dup", "interaction": {}}),
            json.dumps({"inquiry": {"category": "transactonal"}}),
            "",
        ]
    )
    response = client.post(
        "/interactions/import",
        data={
            "csrf_token": "test-csrf-token",
            "tags": "nov",
            "file": (io.BytesIO(lines.encode()), "samples.jsonl"),
        },
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Imported 2 samples" in html and "Line 2:" in html and "Line 5:" in html
    assert "Skipped, already in the library: exists" in html
    assert _stored(session, "wrapped").tags == ["w", "nov"]
    assert _stored(session, "a-1").name == "Order checkbook by chat"


def test_an_empty_import_is_refused_with_a_message(lead) -> None:
    response = post(lead[0], "/interactions/import", {"text": "  "})
    assert response.status_code == 422 and "paste JSON lines" in response.get_data(as_text=True)


def test_the_form_shows_the_tone_the_studio_would_infer(lead) -> None:
    html = post(
        lead[0], "/interactions/tone", {"inquiry.text": "They robbed me"}, headers=HX
    ).get_data(as_text=True)
    assert "distressed" in html and "robbed" in html
