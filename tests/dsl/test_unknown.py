"""`FIELD is unknown` and the W404 warning."""

from __future__ import annotations

from typing import Any

import pytest

import dsl
from dsl.offers import OfferInfo

CATALOG = {"gift": OfferInfo.from_dict({"key": "gift"})}


def _offers(source: str, interaction: dict[str, Any]) -> list[str]:
    result = dsl.compile_ruleset(source, offers=["gift"])
    assert result.ok, result.diagnostics
    return [o["offer"] for o in dsl.load_ruleset(result.ir).decide(interaction, CATALOG)["offers"]]


@pytest.mark.parametrize(
    ("interaction", "stopped"),
    [
        ({}, True),
        ({"tone": {"label": None}}, True),
        ({"tone": {"score": 0.3}}, True),
        ({"tone": {"label": 7}}, True),
        ({"tone": {"label": "positive"}}, False),
        ({"tone": {"label": "distressed"}}, False),
    ],
)
def test_unknown_tone_is_absent_null_or_outside_the_enum(interaction: dict, stopped: bool) -> None:
    assert _offers('never offer when tone is unknown\nrule "r" offer gift', interaction) == (
        [] if stopped else ["gift"]
    )


def test_is_not_unknown_holds_for_every_enum_value() -> None:
    source = 'rule "r" when tone is not unknown offer gift'
    assert _offers(source, {"tone": {"label": "neutral"}}) == ["gift"]
    assert _offers(source, {}) == []


def test_unknown_on_a_text_field_still_needs_quotes() -> None:
    result = dsl.compile_ruleset("never offer when customer.state is unknown")
    assert [d.code for d in result.errors] == ["E210"]


def test_unknown_inside_a_list_is_still_an_enum_error() -> None:
    result = dsl.compile_ruleset("never offer when tone in [unknown, distressed]")
    assert [d.code for d in result.errors] == ["E201"]


def test_contradiction_with_unknown_is_found() -> None:
    result = dsl.compile_ruleset(
        'rule "r" when tone is unknown and tone is positive offer gift', offers=["gift"]
    )
    assert [d.code for d in result.errors] == ["E205"]


def test_a_guard_on_tone_without_unknown_warns_w404() -> None:
    result = dsl.compile_ruleset(
        'never offer when tone is distressed\nrule "r" offer gift', offers=["gift"]
    )
    (diag,) = result.diagnostics
    assert (diag.code, diag.line, diag.severity) == ("W404", 1, "warning")
    assert "never offer when tone is unknown" in (diag.hint or "")


@pytest.mark.parametrize(
    "source",
    [
        'never offer when tone is distressed\nnever offer when tone is unknown\nrule "r" offer gift',
        'never offer when tone is distressed\nrule "r" when tone is not unknown offer gift',
        'never offer when not tone is positive\nrule "r" offer gift',
        'rule "r" when tone is positive offer gift',
    ],
)
def test_no_w404_when_unknown_tone_is_decided(source: str) -> None:
    assert "W404" not in [d.code for d in dsl.compile_ruleset(source, offers=["gift"]).diagnostics]


def test_an_enum_with_its_own_unknown_value_keeps_it() -> None:
    data = dsl.default_schema().to_dict()
    data["fields"]["tone.label"]["values"].append("unknown")
    schema = dsl.Schema.from_dict(data)
    result = dsl.compile_ruleset("never offer when tone is unknown", schema=schema)
    assert result.ir["guards"][0]["when"] == {
        "test": "eq",
        "field": "tone.label",
        "value": "unknown",
        "text": "tone is unknown",
    }
