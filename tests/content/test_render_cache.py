"""Identical render inputs are rendered once; any difference in them renders anew."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from content.channels import RENDERED, LinkBuilder, RenderContext, render_variants
from content.links import MessageLinks
from content.model import Layout, Offer
from content.render_cache import RenderMemo


@pytest.fixture
def refill(demo_offers: list[Offer]) -> Offer:
    return next(o for o in demo_offers if o.key == "refill_savings")


def test_the_same_inputs_are_rendered_once_and_give_the_same_variants(
    refill: Offer,
    footer_layouts: dict[str, Layout],
    context_factory: Callable[..., RenderContext],
) -> None:
    RENDERED.clear()
    first = render_variants(refill, footer_layouts, context_factory())
    misses = RENDERED.misses
    second = render_variants(refill, footer_layouts, context_factory())
    assert second == first
    assert RENDERED.misses == misses and RENDERED.hits >= 1


def test_a_different_interaction_value_renders_anew(
    refill: Offer,
    footer_layouts: dict[str, Layout],
    context_factory: Callable[..., RenderContext],
) -> None:
    high = render_variants(refill, footer_layouts, context_factory())
    low = render_variants(
        refill,
        footer_layouts,
        context_factory(
            data={
                "refill": {
                    "savings_pct": 2,
                    "savings_amount": 1.0,
                    "drug_name": "Atorvastatin",
                    "due_date": "2026-03-05",
                }
            }
        ),
    )
    assert high["email_text"].text != low["email_text"].text


def test_a_different_personal_link_renders_anew(
    refill: Offer,
    footer_layouts: dict[str, Layout],
    context_factory: Callable[..., RenderContext],
) -> None:
    one = render_variants(refill, footer_layouts, context_factory(), channels=["sms"])
    other = render_variants(
        refill,
        footer_layouts,
        context_factory(message_center_url=LinkBuilder("https://bank.example/messages", "tok-2")),
        channels=["sms"],
    )
    assert "tok-1" in (one["sms"].text or "") and "tok-2" in (other["sms"].text or "")


def test_each_customer_message_gets_its_own_link_never_a_remembered_one(
    refill: Offer,
    footer_layouts: dict[str, Layout],
    context_factory: Callable[..., RenderContext],
) -> None:
    first = render_variants(
        refill,
        footer_layouts,
        context_factory(message=MessageLinks(page="https://m.example/m/first-token")),
        channels=["sms"],
    )
    second = render_variants(
        refill,
        footer_layouts,
        context_factory(message=MessageLinks(page="https://m.example/m/second-token")),
        channels=["sms"],
    )
    assert "first-token" in (first["sms"].text or "")
    assert "second-token" in (second["sms"].text or "")
    assert "first-token" not in (second["sms"].text or "")


def test_changing_the_returned_dict_does_not_change_what_the_next_caller_gets(
    refill: Offer,
    footer_layouts: dict[str, Layout],
    context_factory: Callable[..., RenderContext],
) -> None:
    first = render_variants(refill, footer_layouts, context_factory())
    first.pop("sms")
    assert "sms" in render_variants(refill, footer_layouts, context_factory())


def test_the_memo_keeps_at_most_its_size_and_forgets_the_least_recently_used() -> None:
    memo = RenderMemo(size=2)
    for key in ("a", "b", "a", "c"):
        memo.get_or_render(key, key.upper, lambda _result: True)
    assert len(memo) == 2
    calls: list[str] = []

    def render_b() -> str:
        calls.append("b")
        return "B"

    memo.get_or_render("b", render_b, lambda _result: True)
    assert calls == ["b"]  # "b" was the least recently used, so it had been forgotten


def test_a_result_that_should_not_be_kept_is_rendered_again() -> None:
    memo = RenderMemo()
    calls: list[int] = []

    def render() -> str:
        calls.append(1)
        return "timed out"

    for _ in range(2):
        memo.get_or_render("k", render, lambda _result: False)
    assert len(calls) == 2
