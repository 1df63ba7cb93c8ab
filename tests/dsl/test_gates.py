"""Resolution-gated offers in the language: `follow up ... then offer KEY when resolution
is confirmed [or not reopened] [within D days]` (docs/rules.md)."""

from __future__ import annotations

from dataclasses import replace

import pytest

import dsl
from dsl import ast
from dsl.formatter import format_source
from dsl.ir import validate_ir
from dsl.parser import parse_ruleset
from dsl.schema import default_schema

OFFERS = ["check_in", "mobile_alerts"]
RULE = """rule "Check in"
  when inquiry.resolution is proposed
  follow up after 2 days with check_in
    then offer mobile_alerts when resolution is confirmed{tail}
"""


def _gate(source: str) -> ast.Gate:
    tree, diagnostics = parse_ruleset(source)
    assert tree is not None, diagnostics
    gate = tree.rules[0].follow_ups[0].gate
    assert gate is not None
    return gate


def _codes(source: str, **kwargs: object) -> list[str]:
    return [d.code for d in dsl.compile_ruleset(source, offers=OFFERS, **kwargs).diagnostics]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tail", "window", "infer"),
    [
        ("", None, False),
        (" within 14 days", ast.Duration(14, "day"), False),
        (" or not reopened within 7 days", ast.Duration(7, "day"), True),
        (" or not reopened within 2 weeks", ast.Duration(2, "week"), True),
    ],
)
def test_a_gate_parses_to_its_offer_window_and_inference(
    tail: str, window: ast.Duration | None, infer: bool
) -> None:
    gate = _gate(RULE.format(tail=tail))
    assert (gate.key, gate.window, gate.infer) == ("mobile_alerts", window, infer)


def test_the_comma_form_on_one_line_means_the_same() -> None:
    one_line = (
        'rule "Check in" when inquiry.resolution is proposed '
        "follow up after 2 days with check_in, then offer mobile_alerts "
        "when resolution is confirmed or not reopened within 7 days"
    )
    assert (
        parse_ruleset(one_line)[0]
        == parse_ruleset(RULE.format(tail=" or not reopened within 7 days"))[0]
    )


@pytest.mark.parametrize("tail", ["", " within 14 days", " or not reopened within 7 days"])
def test_the_formatter_round_trips_a_gate_and_is_stable(tail: str) -> None:
    source = RULE.format(tail=tail)
    formatted = format_source(source)
    assert formatted == source
    assert parse_ruleset(formatted)[0] == parse_ruleset(source)[0]
    assert format_source(formatted) == formatted


@pytest.mark.parametrize(
    ("wrong", "expected"),
    [
        ("when outcome is confirmed", "`resolution`"),
        ("when resolution is failed", "`confirmed`"),
        ("when resolution is confirmed or not answered within 7 days", "`reopened`"),
    ],
)
def test_a_gate_with_other_words_is_a_syntax_error_naming_the_word(
    wrong: str, expected: str
) -> None:
    source = RULE.format(tail="").replace("when resolution is confirmed", wrong)
    found = dsl.compile_ruleset(source, offers=OFFERS).diagnostics
    assert found[0].code == "E100" and expected in found[0].message
    assert "then offer KEY when resolution is confirmed" in (found[0].hint or "")


def test_an_unknown_gated_offer_is_e203_with_a_suggestion() -> None:
    source = RULE.format(tail="").replace("offer mobile_alerts", "offer mobile_alert")
    (found,) = dsl.compile_ruleset(source, offers=OFFERS).diagnostics
    assert found.code == "E203" and found.line == 4
    assert "mobile_alerts" in (found.hint or "")


@pytest.mark.parametrize(
    ("tail", "delay", "fragment"),
    [
        (" or not reopened within 2 days", "2 days", "ends before the check-in goes out"),
        (" or not reopened within 24 hours", "2 days", "ends before the check-in goes out"),
        (" within 400 days", "2 days", "at most 365 days"),
        (" within 0 days", "2 days", "at least 1"),
        ("", "30 days", "ends before the check-in goes out"),
    ],
)
def test_an_impossible_resolution_window_is_e232(tail: str, delay: str, fragment: str) -> None:
    source = RULE.format(tail=tail).replace("after 2 days", f"after {delay}")
    found = [d for d in dsl.compile_ruleset(source, offers=OFFERS).diagnostics if d.is_error]
    assert [d.code for d in found] == ["E232"]
    assert fragment in found[0].message


def test_a_gate_needs_a_thread_field_in_the_schema_e233() -> None:
    schema = replace(default_schema(), thread_field=None)
    assert _codes(RULE.format(tail=""), schema=schema) == ["E233"]


def test_the_compiled_gate_carries_its_offer_window_and_inference() -> None:
    result = dsl.compile_ruleset(RULE.format(tail=" or not reopened within 7 days"), offers=OFFERS)
    assert result.ok
    (follow,) = result.ir["rules"][0]["follow_ups"]
    assert follow["gate"] == {
        "offer": "mobile_alerts",
        "infer": True,
        "window": "P7D",
        "seconds": 7 * 86400,
    }
    default = dsl.compile_ruleset(RULE.format(tail=""), offers=OFFERS).ir
    assert default["rules"][0]["follow_ups"][0]["gate"]["window"] == "P30D"


def test_a_damaged_gate_in_the_ir_is_refused() -> None:
    ir = dsl.compile_ruleset(RULE.format(tail=" within 5 days"), offers=OFFERS).ir
    ir["rules"][0]["follow_ups"][0]["gate"]["seconds"] = 60  # before the check-in
    with pytest.raises(dsl.DSLError) as caught:
        validate_ir(ir)
    assert "follow_ups[0].gate.seconds" in caught.value.diagnostics[0].message


def test_a_matching_rule_lists_the_gate_with_its_follow_up() -> None:
    ir = dsl.compile_ruleset(RULE.format(tail=""), offers=OFFERS).ir
    decision = dsl.load_ruleset(ir).decide(
        {"inquiry": {"resolution": "proposed"}, "at": "2026-06-01T09:00:00Z"},
        {k: dsl.OfferInfo(k) for k in OFFERS},
    )
    (follow,) = decision["follow_ups"]
    assert follow["offer"] == "check_in" and follow["gate"]["offer"] == "mobile_alerts"
    assert decision["offers"] == []
