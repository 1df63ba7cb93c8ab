"""Implication from kept normal forms (what the checker compares rule against guard and
rule against rule with) answers exactly as `logic.implies` does."""

from __future__ import annotations

from hypothesis import given, settings

import dsl
from dsl import logic
from dsl.checker import formula
from dsl.parser import parse_expression

from .test_runtime_reference import conditions

SCHEMA = dsl.default_schema()


def _formula(text: str) -> logic.Formula | None:
    expr, _diagnostics = parse_expression(text)
    return None if expr is None else formula(expr, SCHEMA)


@settings(max_examples=300, deadline=None)
@given(conditions(), conditions())
def test_implication_from_kept_normal_forms_agrees_with_implies(left: str, right: str) -> None:
    a, b = _formula(left), _formula(right)
    if a is None or b is None:
        return
    kept = logic.implies_terms(logic.normal_form(a)[0], lambda: logic.normal_form(logic.NotF(b))[0])
    assert kept == logic.implies(a, b), (left, right)
    assert logic.implies_terms(logic.normal_form(a)[0], lambda: None) == (
        logic.normal_form(a)[0] == []
    )
