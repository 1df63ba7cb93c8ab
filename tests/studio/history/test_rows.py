"""The compiled row check agrees with the schema's own validator, row by row."""

from __future__ import annotations

from typing import Any

import pytest

from dsl.schema import default_schema, validate_interaction
from studio.services.interaction_rows import RowChecker, attributes_of
from tests.factories.interactions import interaction


def _changed(path: str, value: Any) -> dict[str, Any]:
    row = interaction(5)
    target = row
    *parents, last = path.split(".")
    for name in parents:
        target = target.setdefault(name, {})
    target[last] = value
    return row


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("inquiry.channel", "fax"),
        ("inquiry.channel", 3),
        ("inquiry.resolved", "yes"),
        ("customer.authenticated", 1),
        ("customer.products", ["checking", 2]),
        ("customer.products", "checking"),
        ("customer.nickname", "Al"),
        ("inquiry", "refill"),
        ("at", "yesterday"),
        ("tone.score", True),
        ("data.anything", {"deep": [1, 2]}),
        ("inquiry.text", None),
    ],
)
def test_a_row_is_refused_exactly_when_the_schema_refuses_it(path: str, value: Any) -> None:
    schema = default_schema()
    row = _changed(path, value)
    schema_says = bool(validate_interaction(schema, row))
    assert bool(RowChecker(schema).problems(row)) == schema_says


def test_attributes_are_the_customers_text_and_true_or_false_values() -> None:
    customer = {"id": "c-1", "tier": "gold", "authenticated": True, "products": ["a"], "age": 42}
    assert attributes_of(customer) == (("tier", "gold"), ("authenticated", "true"), ("age", "42"))
    assert attributes_of({"Tier": "x", "note": "y" * 101, "x": {}}) == ()
