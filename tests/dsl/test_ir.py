"""The IR is untrusted input: it is validated, and it can never run code."""

from __future__ import annotations

import copy
import json

import pytest

import dsl
from dsl import DSLError, load_ruleset

SOURCE = 'never offer when tone is distressed\nrule "r" when customer.tier is gold and tone.score > 0 offer x'


@pytest.fixture
def ir() -> dict:
    return copy.deepcopy(dsl.compile_ruleset(SOURCE).ir)


def test_ir_is_plain_json(ir: dict) -> None:
    assert json.loads(json.dumps(ir)) == ir
    assert ir["rules"][0]["when"] == {
        "and": [
            {
                "test": "eq",
                "field": "customer.tier",
                "text": "customer.tier is gold",
                "value": "gold",
            },
            {"test": "gt", "field": "tone.score", "text": "tone.score > 0", "value": 0},
        ]
    }
    assert ir["guards"][0]["when"]["field"] == "tone.label"


def test_literal_on_the_left_is_turned_round() -> None:
    ir = dsl.check_expression("0.5 < tone.score").ir
    assert ir["when"] == {
        "test": "gt",
        "field": "tone.score",
        "text": "0.5 < tone.score",
        "value": 0.5,
    }


CANARY = "__import__('os').system('touch /tmp/dsl-pwned')"


def _set(ir: dict, path: tuple, value: object) -> dict:
    node = ir
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return ir


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("rules", 0, "when", "and", 0, "field"), CANARY),
        (("rules", 0, "when", "and", 0, "field"), "customer.tier')\nimport os#"),
        (("rules", 0, "when", "and", 0, "value"), {"__class__": "x"}),
        (("rules", 0, "when", "and", 0, "value"), [1, 2]),
        (("rules", 0, "when", "and", 0, "value"), float("inf")),
        (("rules", 0, "when", "and", 0, "test"), "eq) or __import__('os').system('x') or (1"),
        (("rules", 0, "when", "and", 0, "code"), CANARY),
        (("rules", 0, "when", "and", 1, "value"), "1; import os"),
        (("rules", 0, "priority"), "1; import os"),
        (("rules", 0, "offers", 0, "offer"), "x'); import os; ('"),
        (("rules", 0, "when"), {"and": []}),
        (("schema", "fields", CANARY), {"type": "string"}),
        (("schema", "index"), [CANARY]),
        (("guards", 0, "when"), {"not": {"not": "x"}}),
        (("max_offers",), 10**9),
        (("ir",), "something-else"),
    ],
)
def test_hostile_ir_is_refused(ir: dict, path: tuple, value: object) -> None:
    with pytest.raises(DSLError) as err:
        load_ruleset(_set(ir, path, value))
    assert err.value.diagnostics[0].code in ("E300", "E301")


def test_deeply_nested_ir_is_refused(ir: dict) -> None:
    node: dict = {"test": "true", "field": "customer.authenticated"}
    for _ in range(200):
        node = {"not": node}
    with pytest.raises(DSLError):
        load_ruleset(_set(ir, ("rules", 0, "when"), node))


def test_strings_with_code_in_them_stay_data(ir: dict, tmp_path) -> None:
    marker = tmp_path / "pwned"
    payload = f"'); open({str(marker)!r}, 'w'); ('"
    ir = _set(ir, ("rules", 0, "when", "and", 0, "value"), payload)
    ir = _set(ir, ("rules", 0, "when", "and", 0, "text"), payload)
    ir["rules"][0]["name"] = payload
    rules = load_ruleset(ir)
    decision = rules.decide(
        {"customer": {"tier": payload}, "tone": {"score": 1}},
        {"x": dsl.OfferInfo("x", 1)},
        explain=True,
    )
    assert decision["offers"][0]["rule"] == payload
    assert not marker.exists()
    assert repr(payload) in rules.source


def test_generated_code_has_no_builtins(ir: dict) -> None:
    rules = load_ruleset(ir)
    assert "import" not in rules.source
    assert rules._generated.run.__globals__["__builtins__"] == {}


def test_eligibility_ir_is_validated_against_the_schema() -> None:
    bad = {"ir": "pos-expr", "version": 1, "when": {"test": "eq", "field": CANARY, "value": 1}}
    rules = load_ruleset(dsl.compile_ruleset('rule "r" when customer.authenticated offer x').ir)
    with pytest.raises(DSLError):
        rules.decide(
            {"customer": {"authenticated": True}}, {"x": dsl.OfferInfo("x", 1, eligible_when=bad)}
        )
