from __future__ import annotations

import os
from collections.abc import Callable
from html.parser import HTMLParser

import pytest

from content.channels import VARIANTS, LinkBuilder, RenderContext, render_variants
from content.diagnostics import ContentError
from content.model import Layout, Offer
from content.sanitize import url_scheme
from tests.content.conftest import GOLDEN, make_offer


class _ActiveParts(HTMLParser):
    """Collects what a browser would run: script elements, handlers, htmx, bad URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "iframe", "object", "embed"}:
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith(("on", "hx-", "data-hx")):
                self.found.append(name)
            if name in {"href", "src", "action"} and url_scheme(value or "") not in {
                None,
                "http",
                "https",
                "mailto",
                "tel",
            }:
                self.found.append(f"{name}={value}")


def active_parts(html: str | None) -> list[str]:
    parser = _ActiveParts()
    parser.feed(html or "")
    return parser.found


UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"


def check_golden(name: str, actual: str) -> None:
    """Compare with tests/content/golden/<name>; UPDATE_GOLDEN=1 rewrites the file."""
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{name} is missing; run with UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(encoding="utf-8"), f"{name} changed; review and update"


@pytest.mark.parametrize(
    "layout_key", ["email_response_footer", "promotional_email", "check_in_note"]
)
def test_every_demo_offer_renders_in_every_channel(
    demo_offers: list[Offer],
    demo_layouts: dict[str, Layout],
    context: RenderContext,
    layout_key: str,
) -> None:
    layouts = {
        "email_html": demo_layouts[layout_key],
        "message_center": demo_layouts["message_center_page"],
    }
    for offer in demo_offers:
        variants = render_variants(offer, layouts, context)
        assert tuple(variants) == VARIANTS
        for name, variant in variants.items():
            assert variant.ok, (offer.key, name, variant.diagnostics)
            assert variant.channel == name
            assert variant.html or variant.text
            assert active_parts(variant.html) == [], (offer.key, name)
        assert (
            offer.blocks.cta_url.split("?")[0] in (variants["email_html"].html or "")
            or not offer.blocks.cta_url
        )
        assert variants["sms"].sms is not None
        assert "https://bank.example/messages/offers/" + offer.key in (variants["sms"].text or "")
        assert len(variants["chat"].buttons) <= 3


def test_refill_savings_shows_savings_only_above_five_percent(
    demo_offers: list[Offer],
    footer_layouts: dict[str, Layout],
    context_factory: Callable[..., RenderContext],
) -> None:
    refill = next(o for o in demo_offers if o.key == "refill_savings")
    high = render_variants(refill, footer_layouts, context_factory())
    low = render_variants(
        refill,
        footer_layouts,
        context_factory(data={"refill": {"savings_pct": 3, "drug_name": "Atorvastatin"}}),
    )
    assert "Save 12.5%" in (high["message_center"].html or "")
    assert "Save" not in (low["message_center"].html or "")
    assert "save 12.5% with the generic" in (high["sms"].text or "")
    assert "generic" not in (low["sms"].text or "")


@pytest.mark.parametrize("variant", ["sms", "email_text", "chat", "agent", "message_center"])
def test_refill_savings_golden(
    demo_offers: list[Offer],
    footer_layouts: dict[str, Layout],
    context: RenderContext,
    variant: str,
) -> None:
    refill = next(o for o in demo_offers if o.key == "refill_savings")
    rendered = render_variants(refill, footer_layouts, context, channels=[variant])[variant]
    buttons = "".join(
        f"\n[button] {b.label} -> {b.url or 'action:' + b.action}" for b in rendered.buttons
    )
    sms = (
        f"\n[sms] {rendered.sms.encoding}, {rendered.sms.units} units, "
        f"{rendered.sms.segments} segment(s)"
        if rendered.sms
        else ""
    )
    check_golden(
        f"refill_savings.{variant}.txt", f"{rendered.html or rendered.text}{buttons}{sms}\n"
    )


def hostile_context() -> RenderContext:
    return RenderContext(
        customer={
            "first_name": '<img src=x onerror=alert(1)>"><script>alert(2)</script>',
            "tier": "{{ 7 * 7 }}",
        },
        inquiry={"subject": "</em><a href=javascript:alert(3)>x</a>"},
        data={
            "url": "javascript:alert(4)",
            "image": " java\tscript:alert(5)",
            "refill": {"savings_pct": "<b>12</b>", "drug_name": "<svg onload=alert(6)>"},
        },
        message_center_url=LinkBuilder("https://bank.example/messages", 'tok"><script>'),
        nps_url=LinkBuilder("javascript:alert(7)"),
    )


def hostile_offer() -> Offer:
    return make_offer(
        blocks={
            "headline": "For {{ customer.first_name }} {{ customer.tier }}",
            "body_html": "<p>{{ customer.first_name }} {{ inquiry.subject }}</p>"
            "<p>{{ data.refill.drug_name }}</p>",
            "cta_url": "{{ data.url }}",
            "image_url": "{{ data.image }}",
            "cta_label": "{{ customer.first_name }}",
        },
        overrides={
            "chat_buttons": [{"label": "Go", "url": "{{ data.url }}"}],
            "sms_text": "{{ customer.first_name }} {{ data.url }}",
        },
    )


def test_a_hostile_payload_yields_safe_output(footer_layouts: dict[str, Layout]) -> None:
    variants = render_variants(hostile_offer(), footer_layouts, hostile_context())
    for name, variant in variants.items():
        assert active_parts(variant.html) == [], name
    assert "49" not in (variants["message_center"].html or "")
    assert variants["chat"].buttons[0].url == "#"
    assert 'src="#"' in (variants["message_center"].html or "")
    assert all(b.url in ("", "#") or b.url.startswith("https://") for b in variants["chat"].buttons)


def test_a_broken_template_only_breaks_its_own_variant(
    footer_layouts: dict[str, Layout],
    context: RenderContext,
) -> None:
    offer = make_offer(overrides={"sms_text": "ok\n{{ 1 / 0 }}"})
    variants = render_variants(offer, footer_layouts, context)
    assert not variants["sms"].ok
    failure = variants["sms"].diagnostics[0]
    assert (failure.code, failure.field, failure.line) == ("render-error", "overrides.sms_text", 2)
    assert all(v.ok for name, v in variants.items() if name != "sms")


def test_a_broken_headline_is_reported_on_every_variant_that_shows_it(
    footer_layouts: dict[str, Layout],
    context: RenderContext,
) -> None:
    offer = make_offer(blocks={"headline": "{{ 'x' * 10**9 }}"})
    variants = render_variants(offer, footer_layouts, context)
    assert {d.code for d in variants["email_html"].diagnostics} == {"output-too-large"}
    assert not variants["chat"].ok and not variants["message_center"].ok


def test_a_missing_layout_is_a_diagnostic(context: RenderContext) -> None:
    variants = render_variants(make_offer(), {}, context)
    assert variants["email_html"].diagnostics[0].code == "no-layout"
    assert variants["email_text"].text and variants["email_text"].ok


def test_overrides_replace_derived_text(
    footer_layouts: dict[str, Layout], context: RenderContext
) -> None:
    offer = make_offer(
        overrides={
            "email_text": "Plain  {{ customer.first_name }}\n\n\n\nBye",
            "chat_text": "Chat for {{ customer.first_name }}",
            "agent_script": "Say hi to {{ customer.first_name }}.",
        }
    )
    variants = render_variants(offer, footer_layouts, context)
    assert variants["email_text"].text == "Plain  Ann\n\nBye"
    assert variants["chat"].text == "Chat for Ann"
    assert variants["agent"].text == "Say hi to Ann."


def test_long_sms_warns_past_one_segment(
    footer_layouts: dict[str, Layout], context: RenderContext
) -> None:
    offer = make_offer(overrides={"sms_text": "x" * 170})
    sms = render_variants(offer, footer_layouts, context, channels=["sms"])["sms"]
    assert sms.ok and sms.sms is not None and sms.sms.segments == 2
    assert "sms-segments" in {d.code for d in sms.diagnostics}


def test_sms_links_to_the_message_center(
    footer_layouts: dict[str, Layout], context: RenderContext
) -> None:
    offer = make_offer(overrides={"sms_text": "See https://elsewhere.example/x"})
    sms = render_variants(offer, footer_layouts, context, channels=["sms"])["sms"]
    assert sms.text == (
        "See https://elsewhere.example/x https://bank.example/messages/offers/test_offer?t=tok-1"
    )
    assert "sms-other-link" in {d.code for d in sms.diagnostics}


def test_only_requested_channels_render(
    footer_layouts: dict[str, Layout], context: RenderContext
) -> None:
    variants = render_variants(make_offer(), footer_layouts, context, channels=["chat", "sms"])
    assert list(variants) == ["chat", "sms"]
    with pytest.raises(ContentError):
        render_variants(make_offer(), footer_layouts, context, channels=["fax"])


def test_links_carry_the_token(context: RenderContext) -> None:
    assert context.message_center_url("offers", "a b") == (
        "https://bank.example/messages/offers/a%20b?t=tok-1"
    )
    assert context.nps_url(score=9) == "https://bank.example/nps?t=tok-1&score=9"


def test_the_context_refuses_live_objects() -> None:
    class Row:
        pass

    with pytest.raises(ContentError):
        RenderContext(customer={"row": Row()})
