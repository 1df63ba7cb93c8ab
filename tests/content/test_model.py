from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from content.diagnostics import ContentError
from content.model import ChatButton, Offer, validate_offer
from tests.content.conftest import demo_offer_dicts, make_offer, offer_dict

DEMO_KEYS = [
    "overdraft_protection",
    "rewards_card",
    "card_protection_plan",
    "check_in",
    "mobile_alerts",
    "realtime_contact",
    "advisor_consultation",
    "click_to_chat",
    "retention_discount",
    "refill_savings",
    "extended_warranty",
    "hotel_restaurant_coupon",
]


def codes(d: dict[str, Any], **kwargs: Any) -> list[tuple[str, str | None]]:
    return [(x.code, x.field) for x in validate_offer(d, **kwargs)]


def test_the_demo_library_holds_the_white_papers_offers() -> None:
    assert [d["key"] for d in demo_offer_dicts()] == DEMO_KEYS


@pytest.mark.parametrize("d", demo_offer_dicts(), ids=lambda d: d["key"])
def test_demo_offers_are_valid_and_round_trip(d: dict[str, Any]) -> None:
    assert validate_offer(d) == []
    assert Offer.from_dict(d).to_dict() == d


def test_refill_savings_uses_active_content() -> None:
    refill = next(d for d in demo_offer_dicts() if d["key"] == "refill_savings")
    assert "{% if data.refill.savings_pct > 5 %}" in refill["blocks"]["body_html"]


def test_from_dict_builds_typed_values() -> None:
    offer = make_offer(overrides={"chat_buttons": [{"label": "Yes", "action": "accept"}]})
    assert offer.valid_from == date(2026, 1, 1) and offer.valid_to == date(2030, 12, 31)
    assert offer.overrides.chat_buttons == (ChatButton("Yes", action="accept"),)
    assert offer.is_valid_on(date(2026, 6, 1)) and not offer.is_valid_on(date(2031, 1, 1))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"key": "Overdraft"}, ("offer-key-format", "key")),
        ({"key": "x"}, ("offer-key-format", "key")),
        ({"key": "9lives"}, ("offer-key-format", "key")),
        ({"key": "a" * 65}, ("too-long", "key")),
        ({"name": ""}, ("required", "name")),
        ({"owner": None}, ("required", "owner")),
        ({"valid_from": None}, ("required", "valid_from")),
        ({"blocks": {"headline": "  "}}, ("required", "blocks.headline")),
        ({"valid_from": "31/01/2026"}, ("bad-date", "valid_from")),
        ({"valid_to": "2025-12-31"}, ("dates-out-of-order", "valid_to")),
        ({"value": "a lot"}, ("bad-value", "value")),
        ({"value": -5}, ("bad-value", "value")),
        ({"status": "live"}, ("bad-status", "status")),
        ({"blocks": {"cta_url": "javascript:alert(1)"}}, ("unsafe-url", "blocks.cta_url")),
        (
            {"blocks": {"image_url": "data:image/svg+xml,<svg onload=x>"}},
            ("unsafe-url", "blocks.image_url"),
        ),
        ({"blocks": {"headline": "x" * 151}}, ("too-long", "blocks.headline")),
        ({"blocks": {"body_html": '<p onclick="x()">hi</p>'}}, ("unsafe-html", "blocks.body_html")),
        (
            {"blocks": {"headline": "Hi {{ custmer.first_name }}"}},
            ("unknown-variable", "blocks.headline"),
        ),
        ({"overrides": {"sms_text": "Hi {% if %}"}}, ("template-syntax", "overrides.sms_text")),
        (
            {"overrides": {"chat_buttons": [{"label": "a", "action": "x"}] * 4}},
            ("too-many-buttons", "overrides.chat_buttons"),
        ),
        (
            {
                "overrides": {
                    "chat_buttons": [{"label": "a", "url": "https://x.example", "action": "y"}]
                }
            },
            ("bad-button", "overrides.chat_buttons[0]"),
        ),
        (
            {"overrides": {"chat_buttons": [{"label": "", "action": "y"}]}},
            ("required", "overrides.chat_buttons[0].label"),
        ),
        (
            {"overrides": {"chat_buttons": [{"label": "a", "url": "vbscript:x"}]}},
            ("unsafe-url", "overrides.chat_buttons[0].url"),
        ),
        (
            {"overrides": {"chat_buttons": [{"label": "a", "action": "Not Valid"}]}},
            ("bad-action", "overrides.chat_buttons[0].action"),
        ),
    ],
)
def test_each_problem_is_reported_on_its_field(
    changes: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert expected in codes(offer_dict(**changes))


def test_template_errors_carry_the_line_inside_the_field() -> None:
    body = "<p>line one</p>\n<p>{{ customer.first_name|shout }}</p>"
    found = validate_offer(offer_dict(blocks={"body_html": body}))
    assert [(d.code, d.field, d.line) for d in found] == [
        ("template-syntax", "blocks.body_html", 2)
    ]


def test_an_existing_key_is_refused() -> None:
    assert ("offer-key-exists", "key") in codes(offer_dict(), existing_keys={"test_offer"})


def test_unknown_fields_only_warn() -> None:
    found = validate_offer(offer_dict(colour="blue"))
    assert [(d.code, d.severity) for d in found] == [("unknown-field", "warning")]
    Offer.from_dict(offer_dict(colour="blue"))


def test_from_dict_raises_every_error_at_once() -> None:
    with pytest.raises(ContentError) as caught:
        Offer.from_dict(offer_dict(key="Bad Key", valid_to="2020-01-01"))
    assert {d.code for d in caught.value.diagnostics} == {"offer-key-format", "dates-out-of-order"}


def test_unsafe_html_is_refused_rather_than_silently_changed() -> None:
    with pytest.raises(ContentError) as caught:
        make_offer(blocks={"body_html": "<p>Hi</p>\n<img src=x onerror=alert(1)>"})
    assert [(d.code, d.line) for d in caught.value.diagnostics] == [("unsafe-html", 2)]


def test_the_body_is_normalized_by_the_sanitizer_on_the_way_in() -> None:
    offer = make_offer(blocks={"body_html": '<p>Hi <a href="/x">there</a>'})
    assert offer.blocks.body_html == '<p>Hi <a href="/x" rel="noopener noreferrer">there</a></p>'


def test_a_non_object_is_refused() -> None:
    assert validate_offer([])[0].code == "offer-not-object"  # type: ignore[arg-type]
