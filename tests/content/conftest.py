"""Fixtures for the content library: the demo offer library, its layouts, a customer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from content.channels import LinkBuilder, RenderContext
from content.layouts import build_layout
from content.model import Layout, Offer

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "studio" / "demo"
CORPORA = Path(__file__).parent / "corpora"
GOLDEN = Path(__file__).parent / "golden"


def corpus(name: str) -> list[str]:
    """The non-comment lines of a corpus file, one case per line."""
    lines = (CORPORA / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def demo_offer_dicts() -> list[dict[str, Any]]:
    return json.loads((DEMO / "offers.json").read_text(encoding="utf-8"))


def demo_layout_specs() -> list[dict[str, Any]]:
    return json.loads((DEMO / "layouts" / "layouts.json").read_text(encoding="utf-8"))


def layout_source(spec: dict[str, Any]) -> str:
    return (DEMO / "layouts" / spec["file"]).read_text(encoding="utf-8")


def offer_dict(**changes: Any) -> dict[str, Any]:
    """A valid offer dict; `changes` override fields, `blocks`/`overrides` merge."""
    d: dict[str, Any] = {
        "key": "test_offer",
        "name": "Test offer",
        "description": "An offer for tests.",
        "owner": "Marketing",
        "valid_from": "2026-01-01",
        "valid_to": "2030-12-31",
        "value": 10.0,
        "eligible_when": "customer.authenticated",
        "status": "active",
        "blocks": {
            "headline": "Hello {{ customer.first_name }}",
            "body_html": "<p>Body for {{ customer.first_name }}.</p>",
            "image_url": "/demo/assets/offer-banking.svg",
            "image_alt": "An image",
            "cta_label": "Go",
            "cta_url": "https://bank.example/go",
            "terms": "Terms apply.",
        },
        "overrides": {},
    }
    for key, value in changes.items():
        if key in ("blocks", "overrides"):
            d[key] = {**d[key], **value}
        else:
            d[key] = value
    return d


def make_offer(**changes: Any) -> Offer:
    return Offer.from_dict(offer_dict(**changes))


@pytest.fixture(scope="session")
def demo_offers() -> list[Offer]:
    return [Offer.from_dict(d) for d in demo_offer_dicts()]


@pytest.fixture(scope="session")
def demo_layouts() -> dict[str, Layout]:
    return {
        spec["key"]: build_layout(spec["key"], spec["name"], spec["channel"], layout_source(spec))
        for spec in demo_layout_specs()
    }


@pytest.fixture(scope="session")
def footer_layouts(demo_layouts: dict[str, Layout]) -> dict[str, Layout]:
    """The layouts of a customer-service reply: the email footer and the message center."""
    return {
        "email_html": demo_layouts["email_response_footer"],
        "message_center": demo_layouts["message_center_page"],
    }


@pytest.fixture
def context_factory() -> Callable[..., RenderContext]:
    def make(**changes: Any) -> RenderContext:
        values: dict[str, Any] = {
            "customer": {"id": "c-1", "first_name": "Ann", "tier": "gold", "authenticated": True},
            "inquiry": {
                "category": "transactional",
                "subject": "checkbook order",
                "channel": "email",
            },
            "data": {
                "refill": {
                    "savings_pct": 12.5,
                    "savings_amount": 8.4,
                    "drug_name": "Atorvastatin",
                    "due_date": "2026-03-05",
                }
            },
            "message_center_url": LinkBuilder("https://bank.example/messages", "tok-1"),
            "nps_url": LinkBuilder("https://bank.example/nps", "tok-1"),
        }
        values.update(changes)
        return RenderContext(**values)

    return make


@pytest.fixture
def context(context_factory: Callable[..., RenderContext]) -> RenderContext:
    return context_factory()
