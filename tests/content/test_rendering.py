"""One rendering path: a layout from its dict, a context from an interaction, then
`render_offer`, which every caller (offer page, review, preview, decisions) goes through."""

from __future__ import annotations

from typing import Any

import pytest

from content.channels import VARIANTS, LinkBuilder, RenderContext, render_variants
from content.diagnostics import ContentError
from content.model import Layout, Offer
from content.rendering import render_offer
from tests.content.conftest import make_offer

INTERACTION = {
    "customer": {"id": "c-1", "first_name": "Ann", "tier": "gold"},
    "inquiry": {"channel": "email", "subject": "checkbook order"},
    "data": {"coupon": {"amount": 15}},
    "tone": {"label": "neutral"},
}


# --- Layout.from_dict --------------------------------------------------------------------


def test_a_layout_round_trips_through_its_dict(footer_layouts: dict[str, Layout]) -> None:
    layout = footer_layouts["email_html"]
    again = Layout.from_dict(layout.to_dict())
    assert (again.key, again.name, again.channel, again.source, again.compiled_html) == (
        layout.key,
        layout.name,
        layout.channel,
        layout.source,
        layout.compiled_html,
    )


def test_a_layout_without_name_or_html_is_named_by_its_key() -> None:
    layout = Layout.from_dict({"key": "page", "channel": "message_center"})
    assert (layout.name, layout.source, layout.compiled_html) == ("page", "", "")


@pytest.mark.parametrize(
    ("d", "code"),
    [
        ({"key": "page", "channel": "sms"}, "layout-channel"),
        ({"key": "page"}, "layout-channel"),
        ({"channel": "email_html"}, "layout-key"),
    ],
)
def test_a_layout_dict_without_a_key_or_a_layout_channel_is_refused(
    d: dict[str, Any], code: str
) -> None:
    with pytest.raises(ContentError) as caught:
        Layout.from_dict(d)
    assert caught.value.diagnostics[0].code == code


# --- RenderContext.from_interaction --------------------------------------------------------


def test_a_context_reads_the_customer_inquiry_and_data_of_an_interaction() -> None:
    context = RenderContext.from_interaction(INTERACTION)
    assert context.customer == INTERACTION["customer"]
    assert context.inquiry == INTERACTION["inquiry"]
    assert context.data == INTERACTION["data"]
    assert context.message_center_url == RenderContext().message_center_url


@pytest.mark.parametrize("interaction", [None, [], {"customer": "Ann", "inquiry": 3}])
def test_missing_or_non_object_parts_read_as_empty(interaction: Any) -> None:
    context = RenderContext.from_interaction(interaction)
    assert (context.customer, context.inquiry, context.data) == ({}, {}, {})


def test_a_context_keeps_the_link_builders_it_is_given() -> None:
    links = LinkBuilder("https://bank.example/messages", "tok")
    assert (
        RenderContext.from_interaction(INTERACTION, message_center_url=links).message_center_url
        == links
    )


# --- render_offer --------------------------------------------------------------------------


def test_render_offer_renders_what_render_variants_renders_for_the_interaction(
    footer_layouts: dict[str, Layout],
) -> None:
    offer = make_offer()
    expected = render_variants(offer, footer_layouts, RenderContext.from_interaction(INTERACTION))
    assert render_offer(offer, footer_layouts, INTERACTION) == expected
    assert (
        render_offer(offer, footer_layouts, RenderContext.from_interaction(INTERACTION)) == expected
    )
    assert tuple(expected) == VARIANTS
    assert "Hello Ann" in (expected["email_html"].html or "")


def test_a_channel_without_a_layout_says_so_in_its_variant(
    footer_layouts: dict[str, Layout],
) -> None:
    offer: Offer = make_offer()
    variants = render_offer(
        offer,
        {"email_html": footer_layouts["email_html"], "message_center": None},
        INTERACTION,
        ["email_html", "message_center"],
    )
    assert variants["email_html"].ok
    assert not variants["message_center"].ok


def test_an_unknown_variant_is_refused(footer_layouts: dict[str, Layout]) -> None:
    with pytest.raises(ContentError):
        render_offer(make_offer(), footer_layouts, INTERACTION, ["fax"])
