"""Factories for the rule language's tests: schema, offers, interactions, rulesets."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import dsl
from dsl.offers import OfferInfo

EXAMPLES = Path(dsl.__file__).parent / "examples"

BASE_INTERACTION: dict[str, Any] = {
    "id": "sample",
    "at": "2026-11-20T10:15:00Z",
    "inquiry": {
        "category": "transactional",
        "intent": "order_checkbook",
        "channel": "chat",
        "resolution": "confirmed",
        "text": "Please send a checkbook",
    },
    "tone": {"label": "positive", "score": 0.4, "words": ["thanks"]},
    "customer": {
        "id": "c-1",
        "authenticated": True,
        "tier": "gold",
        "state": "CA",
        "products": ["checking"],
        "recent_offers": [],
    },
    "data": {"refill": {"savings_pct": 8}},
}


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@pytest.fixture
def interaction() -> Callable[..., dict[str, Any]]:
    """`interaction(customer={"tier": "basic"})`: the base sample with changes merged in."""

    def make(**changes: Any) -> dict[str, Any]:
        return _merge(BASE_INTERACTION, changes)

    return make


@pytest.fixture(scope="session")
def example_offers() -> dict[str, OfferInfo]:
    entries = json.loads((EXAMPLES / "offers.json").read_text())
    return {entry["key"]: OfferInfo.from_dict(entry) for entry in entries}


@pytest.fixture(scope="session")
def example_source() -> str:
    return (EXAMPLES / "retail_banking.rules").read_text()


def simple_offers(*keys: str, **values: float) -> dict[str, OfferInfo]:
    catalog = {key: OfferInfo(key, value=10) for key in keys}
    catalog.update({key: OfferInfo(key, value=value) for key, value in values.items()})
    return catalog


@pytest.fixture
def ruleset() -> Callable[..., dsl.Ruleset]:
    """`ruleset(source)`: compile (failing the test on errors) and load."""

    def make(source: str, offers: Any = None) -> dsl.Ruleset:
        result = dsl.compile_ruleset(source, offers=offers)
        assert result.ok, [d.message for d in result.diagnostics]
        return dsl.load_ruleset(json.loads(json.dumps(result.ir)))

    return make


def codes(source: str, offers: Any = None) -> list[str]:
    return [d.code for d in dsl.compile_ruleset(source, offers=offers).diagnostics]
