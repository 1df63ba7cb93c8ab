"""Marketers keep the offer library: create, edit, duplicate, archive, and see every variant."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from studio.models import Artifact, Revision
from studio.services import artifacts
from tests.factories import make_user, post, sign_in_as
from tests.factories.offers import make_layout, make_offer, offer_body, offer_form


@pytest.fixture
def marketer(app: Flask, session):
    user = make_user(session, "marketer", name="Mara Lopez")
    return sign_in_as(app.test_client(), user), user


@pytest.fixture
def with_layouts(marketer, session):
    _, user = marketer
    make_layout(session, user, "email_footer", "email_html")
    make_layout(session, user, "center_page", "message_center")
    return marketer


def _offer_count(session) -> int:
    return session.query(Artifact).filter_by(kind="offer").count()


def test_empty_library_shows_a_way_to_start(marketer) -> None:
    client, _ = marketer
    html = client.get("/offers/").get_data(as_text=True)
    assert "No offers yet." in html and "Create the first offer" in html


def test_people_without_the_marketer_role_cannot_open_offers(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "service_lead"))
    assert client.get("/offers/").status_code == 403
    assert post(client, "/offers/new", offer_form("x_offer")).status_code == 403


def test_marketer_creates_an_offer_and_sees_it_in_every_channel(with_layouts, session) -> None:
    client, user = with_layouts
    response = post(client, "/offers/new", offer_form("overdraft_protection"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/offers/overdraft_protection")
    page = client.get("/offers/overdraft_protection").get_data(as_text=True)
    for label in ("Email", "Plain-text email", "SMS", "Chat", "Agent script", "Message center"):
        assert f">{label}</h3>" in page
    assert 'sandbox=""' in page and "/variants/email_html.html" in page
    assert "Never bounce a check again" in page
    artifact = artifacts.find(session, "offer", "overdraft_protection")
    assert artifact.owner_id == user.id and artifact.head_number == 1


def test_the_rich_body_is_stored_sanitized_with_its_template_logic_intact(
    marketer, session
) -> None:
    client, _ = marketer
    body = (
        "<p>{% if data.refill.savings_pct > 5 %}You <strong>save</strong>"
        '{% endif %} <a href="https://x.example">more</a></p>'
    )
    post(client, "/offers/new", offer_form("refill", **{"blocks.body_html": body}))
    stored = artifacts.head(session, artifacts.find(session, "offer", "refill")).body
    assert "{% if data.refill.savings_pct > 5 %}" in stored["blocks"]["body_html"]
    assert 'rel="noopener noreferrer"' in stored["blocks"]["body_html"]


BAD_INPUT = [
    pytest.param(
        {"blocks.body_html": '<p>Hi</p><img src="x" onerror="alert(1)">'},
        "blocks.body_html",
        "onerror attribute",
        id="unsafe-html",
    ),
    pytest.param(
        {"blocks.body_html": "<p><script>alert(1)</script></p>"},
        "blocks.body_html",
        "script",
        id="script-tag",
    ),
    pytest.param(
        {"blocks.headline": "Hi {{ custmer.first_name }}"},
        "blocks.headline",
        "did you mean &#39;customer&#39;",
        id="unknown-variable",
    ),
    pytest.param(
        {"overrides.sms_text": "{% for x in %}"},
        "overrides.sms_text",
        "Line 1",
        id="template-syntax",
    ),
    pytest.param(
        {"valid_from": "2026-05-01", "valid_to": "2026-04-01"},
        "valid_to",
        "ends before it starts",
        id="end-before-start",
    ),
    pytest.param(
        {"blocks.cta_url": "javascript:alert(1)"},
        "blocks.cta_url",
        "javascript",
        id="javascript-link",
    ),
    pytest.param({"value": "a lot"}, "value", "as a number", id="value-not-a-number"),
    pytest.param(
        {"blocks.headline": ""}, "blocks.headline", "Headline is required", id="missing-headline"
    ),
    pytest.param({"key": "Bad Key"}, "key", "Bad Key", id="key-format"),
    pytest.param(
        {"eligible_when": "customer.tierr is gold"},
        "eligible_when",
        "customer.tier",
        id="eligibility-typo",
    ),
    pytest.param(
        {"overrides.chat_buttons[0].label": "Yes"},
        "overrides.chat_buttons[0]",
        "either a url or an action",
        id="button-without-target",
    ),
    pytest.param(
        {"overrides.sms_text": "Pay \u202egnp.exe now"},
        "overrides.sms_text",
        "right-to-left override (U+202E) at line 1, column 5",
        id="sms-bidi-override",
    ),
    pytest.param(
        {"overrides.chat_text": "Hi\x00 there\x1b[2J"},
        "overrides.chat_text",
        "(U+0000) at line 1, column 3",
        id="chat-control-character",
    ),
    pytest.param(
        {"overrides.sms_text": "Visit {{ message_center_url }}"},
        "overrides.sms_text",
        "printing it would show code",
        id="printed-helper",
    ),
    pytest.param(
        {"blocks.headline": "Hi {{ customer.items }}"},
        "blocks.headline",
        "printing it would show code",
        id="printed-method",
    ),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_INPUT)
def test_bad_input_gets_a_message_next_to_the_field_and_nothing_is_stored(
    marketer, session, changes, field, message
) -> None:
    client, _ = marketer
    response = post(client, "/offers/new", {**offer_form("new_offer"), **changes})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field_id = "f-" + re.sub(r"\]", "", re.sub(r"[.\[]", "-", field))
    error = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    assert error is not None, f"no error next to {field}"
    assert message in error.group(1)
    assert _offer_count(session) == 0


def test_an_offer_key_that_exists_is_refused_next_to_the_key(marketer, session) -> None:
    client, user = marketer
    make_offer(session, user, "overdraft_protection")
    response = post(client, "/offers/new", offer_form("overdraft_protection"))
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    assert _offer_count(session) == 1


def test_a_refused_form_keeps_everything_the_person_typed(marketer) -> None:
    client, _ = marketer
    response = post(
        client,
        "/offers/new",
        offer_form(
            "kept",
            name="Kept name",
            valid_to="2025-01-01",
            **{"overrides.agent_script": "Say this exactly"},
        ),
    )
    html = response.get_data(as_text=True)
    assert 'value="Kept name"' in html and "Say this exactly" in html


def test_editing_saves_the_next_revision(marketer, session) -> None:
    client, user = marketer
    make_offer(session, user, "overdraft_protection")
    form = offer_form("overdraft_protection", name="Overdraft cover", base_number="1")
    response = post(client, "/offers/overdraft_protection/edit", form)
    assert response.status_code == 302
    artifact = artifacts.find(session, "offer", "overdraft_protection")
    session.refresh(artifact)
    assert artifact.head_number == 2 and artifact.name == "Overdraft cover"


def test_an_edit_with_bad_input_changes_nothing(marketer, session) -> None:
    client, user = marketer
    make_offer(session, user, "overdraft_protection")
    form = offer_form(
        "overdraft_protection",
        base_number="1",
        **{"blocks.body_html": '<a href="javascript:alert(1)">x</a>'},
    )
    response = post(client, "/offers/overdraft_protection/edit", form)
    assert response.status_code == 422
    assert session.query(Revision).count() == 1


def test_a_concurrent_edit_gets_a_conflict_that_keeps_the_persons_input(marketer, session) -> None:
    client, user = marketer
    make_offer(session, user, "overdraft_protection")
    first = offer_form("overdraft_protection", name="Their name", base_number="1")
    assert post(client, "/offers/overdraft_protection/edit", first).status_code == 302
    mine = offer_form(
        "overdraft_protection",
        name="My name",
        base_number="1",
        **{"blocks.terms": "My careful terms"},
    )
    response = post(client, "/offers/overdraft_protection/edit", mine)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "was changed by someone else" in html
    assert 'value="My name"' in html and "My careful terms" in html
    assert "Their name" in html
    assert 'name="base_number" value="2"' in html
    assert session.query(Revision).count() == 2


def test_duplicate_makes_a_draft_copy_under_a_new_key(marketer, session) -> None:
    client, user = marketer
    make_offer(session, user, "overdraft_protection")
    assert 'value="overdraft_protection_copy"' in client.get(
        "/offers/overdraft_protection/duplicate"
    ).get_data(as_text=True)
    response = post(
        client,
        "/offers/overdraft_protection/duplicate",
        {"key": "overdraft_spring", "name": "Overdraft spring"},
    )
    assert response.status_code == 302
    copy = artifacts.head(session, artifacts.find(session, "offer", "overdraft_spring")).body
    assert copy["status"] == "draft" and copy["blocks"]["headline"] == "Never bounce a check again"


def test_duplicating_onto_an_existing_key_is_refused(marketer, session) -> None:
    client, user = marketer
    make_offer(session, user, "overdraft_protection")
    make_offer(session, user, "rewards_card")
    response = post(
        client, "/offers/overdraft_protection/duplicate", {"key": "rewards_card", "name": "Copy"}
    )
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    assert _offer_count(session) == 2


def test_archive_asks_first_then_hides_the_offer_until_restored(marketer, session) -> None:
    client, user = marketer
    make_offer(session, user, "overdraft_protection", name="Overdraft protection")
    assert "Archive Overdraft protection?" in client.get(
        "/offers/overdraft_protection/archive"
    ).get_data(as_text=True)
    assert post(client, "/offers/overdraft_protection/archive").status_code == 302
    assert "No offers yet." in client.get("/offers/").get_data(as_text=True)
    assert "Overdraft protection" in client.get("/offers/?status=archived").get_data(as_text=True)
    post(client, "/offers/overdraft_protection/restore")
    assert "Overdraft protection" in client.get("/offers/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "expected", "hidden"),
    [
        ("q=rewards", "Rewards card", "Overdraft protection"),
        ("status=paused", "Rewards card", "Overdraft protection"),
        ("owner=Cards+marketing", "Rewards card", "Overdraft protection"),
        ("channel=sms", "Rewards card", "Overdraft protection"),
        ("validity=expired", "Old promo", "Rewards card"),
    ],
)
def test_the_library_is_searched_and_filtered(marketer, session, query, expected, hidden) -> None:
    client, user = marketer
    make_offer(session, user, "overdraft_protection", name="Overdraft protection", valid_to=None)
    make_offer(
        session,
        user,
        "rewards_card",
        name="Rewards card",
        owner="Cards marketing",
        status="paused",
        valid_to=None,
        overrides={"sms_text": "Get 2% back"},
    )
    make_offer(
        session, user, "old_promo", name="Old promo", valid_from="2020-01-01", valid_to="2020-02-01"
    )
    html = client.get(f"/offers/?{query}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert expected in html and hidden not in html
    assert "<html" not in html


def test_the_library_is_paginated_keeping_the_filters(marketer, session) -> None:
    client, user = marketer
    for n in range(23):
        make_offer(session, user, f"offer_{n:02d}", name=f"Offer {n:02d}")
    first = client.get("/offers/?q=offer").get_data(as_text=True)
    assert "Page 1 of 2" in first and "q=offer&amp;page=2" in first
    second = client.get("/offers/?q=offer&page=2").get_data(as_text=True)
    assert "Offer 22" in second and "Offer 00" not in second


def test_the_variants_panel_is_a_partial_for_htmx(with_layouts, session) -> None:
    client, user = with_layouts
    make_offer(session, user, "overdraft_protection")
    html = client.get(
        "/offers/overdraft_protection?layout=email_footer", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'id="variants"' in html and "<html" not in html


def test_the_email_variant_is_its_own_document_that_cannot_run_script(
    with_layouts, session
) -> None:
    client, user = with_layouts
    make_offer(session, user, "overdraft_protection")
    response = client.get("/offers/overdraft_protection/variants/email_html.html")
    assert response.status_code == 200 and response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert "Never bounce a check again" in response.get_data(as_text=True)
    assert client.get("/offers/overdraft_protection/variants/agent.html").status_code == 404


def test_a_long_sms_shows_its_parts_and_a_warning(with_layouts, session) -> None:
    client, user = with_layouts
    make_offer(session, user, "chatty", overrides={"sms_text": "Save now “today” " * 12})
    html = client.get("/offers/chatty").get_data(as_text=True)
    assert "UCS-2" in html
    assert re.search(r"This SMS is sent as \d+ parts", html)


def test_without_layouts_the_email_variants_explain_what_is_missing(marketer, session) -> None:
    client, user = marketer
    make_offer(session, user, "overdraft_protection")
    html = client.get("/offers/overdraft_protection").get_data(as_text=True)
    assert "there is no email_html layout to render into" in html


HOSTILE = {
    "name": '<img src=x onerror="alert(1)">',
    "blocks.headline": "<script>alert('headline')</script>",
    "blocks.terms": '"><script>alert(2)</script>',
    "blocks.cta_url": "{{ 'javascript:alert(3)' }}",
    "overrides.chat_text": "<svg onload=alert(4)>",
    "overrides.agent_script": "<iframe src=javascript:alert(5)>",
    "overrides.sms_text": "{{ ''.__class__.__mro__ }} <b>x</b>",
}


def test_hostile_text_is_stored_as_text_and_never_reaches_a_page_as_markup(
    with_layouts, session
) -> None:
    client, _ = with_layouts
    response = post(client, "/offers/new", offer_form("hostile", **HOSTILE))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    pages = [
        client.get(url).get_data(as_text=True)
        for url in (
            "/offers/hostile",
            "/offers/hostile/variants/email_html.html",
            "/offers/hostile/variants/message_center.html",
            "/offers/",
        )
    ]
    for html in pages:
        for raw in (
            "<script>alert",
            "<img src=x",
            "<svg onload",
            "<iframe src=javascript",
            'href="javascript:',
            "<class 'str'>",
            "class &#39;str",
        ):
            assert raw not in html


def test_the_demo_seed_creates_offers_layouts_and_images_once(app: Flask, session) -> None:
    from studio.demo import seed_demo

    first = seed_demo(session)
    assert any(item.startswith("offer ") for item in first.created)
    assert any(item.startswith("layout ") for item in first.created)
    assert any(item.startswith("asset ") for item in first.created)
    again = seed_demo(session)
    assert not [item for item in again.created if item.split()[0] in ("offer", "layout", "asset")]
    body = artifacts.head(session, artifacts.find(session, "offer", "overdraft_protection")).body
    assert body["blocks"]["image_url"].startswith("/assets/")


def test_offer_body_factory_builds_a_valid_offer() -> None:
    from content.model import validate_offer

    assert [d for d in validate_offer(offer_body("x_offer")) if d.is_error] == []


def test_a_method_printed_without_calling_it_shows_an_error_never_a_python_repr(
    with_layouts, session
) -> None:
    client, _ = with_layouts
    form = offer_form(
        "reprs",
        **{
            "blocks.headline": "Hi {{ customer.first_name.upper }}",
            "overrides.sms_text": "{{ (customer.first_name or '').title }}",
        },
    )
    assert post(client, "/offers/new", form).status_code == 302
    pages = [
        client.get(url).get_data(as_text=True)
        for url in (
            "/offers/reprs",
            "/offers/reprs/variants/email_html.html",
            "/offers/reprs/variants/message_center.html",
        )
    ]
    for html in pages:
        assert "built-in method" not in html and "object at 0x" not in html
    assert "prints a method, not a value" in pages[0]


def test_previews_load_no_remote_images_or_fonts_until_asked(marketer, session) -> None:
    client, user = marketer
    make_layout(
        session,
        user,
        "img_page",
        "message_center",
        source='<img src="{{ offer.image_url }}" alt="x"><h1>{{ offer.headline }}</h1>',
    )
    make_offer(
        session,
        user,
        "overdraft_protection",
        blocks={"image_url": "https://images.example/banner.png"},
    )
    url = "/offers/overdraft_protection/variants/message_center.html"
    for preview in (url, "/layouts/img_page/preview.html"):
        policy = client.get(preview).headers["Content-Security-Policy"]
        # Only the studio's own images (its origin, since 'self' means nothing inside a
        # sandboxed frame), no fonts, nothing from elsewhere.
        assert "img-src 'self' http://localhost data:;" in policy, preview
        assert "font-src 'none'" in policy and "https:" not in policy
    blocked = client.get(url).get_data(as_text=True)
    assert "https://images.example/banner.png" in blocked
    assert "Remote images are not loaded in previews." in blocked
    assert 'href="?images=1">Load images</a>' in blocked
    loaded = client.get(url + "?images=1")
    assert (
        "img-src 'self' http://localhost https: data:" in loaded.headers["Content-Security-Policy"]
    )
    assert "font-src 'none'" in loaded.headers["Content-Security-Policy"]
    assert "Load images" not in loaded.get_data(as_text=True)


def test_the_answer_to_feedback_is_saved_as_plain_text_and_capped(app, session) -> None:
    from studio.services import artifacts
    from tests.factories import make_user, post, sign_in_as
    from tests.factories.offers import offer_form

    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    too_long = post(client, "/offers/new", offer_form("half_off", feedback_note="x" * 281))
    assert too_long.status_code == 422 and 'id="f-feedback_note-error"' in too_long.get_data(
        as_text=True
    )
    assert artifacts.find(session, "offer", "half_off") is None
    saved = post(
        client, "/offers/new", offer_form("half_off", feedback_note="We heard you: 24h\u202e")
    )
    assert saved.status_code == 302
    body = artifacts.head(session, artifacts.find(session, "offer", "half_off")).body
    assert body["feedback_note"] == "We heard you: 24h"
    editor = client.get("/offers/half_off/edit").get_data(as_text=True)
    assert 'maxlength="280"' in editor and "We heard you: 24h</textarea>" in editor
