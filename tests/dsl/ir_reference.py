"""A deliberately plain interpreter of the rule IR: the semantics of docs/rules.md, with
no index, no generated code and no typed slots. The property tests hold the optimised
runtime to it."""

from __future__ import annotations

from typing import Any

from dsl.schema import Schema, parse_datetime


def _stamp(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    parsed = parse_datetime(value)
    return parsed.timestamp() if parsed is not None else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def read(schema: Schema, interaction: Any, path: str) -> Any:
    """A field's value, null when missing or not of the field's type."""
    spec = schema.lookup(path)
    assert spec is not None
    current = interaction
    for part in spec.path.split("."):
        current = current.get(part) if isinstance(current, dict) else None
    kind = spec.type
    if kind in ("string", "enum"):
        return current if isinstance(current, str) else None
    if kind == "number":
        return current if _is_number(current) else None
    if kind == "boolean":
        if isinstance(current, bool):
            return current
        if spec.derive_from:
            source = read(schema, interaction, spec.derive_from)
            return None if source is None else source == spec.derive_equals
        return None
    if kind == "list":
        return current if isinstance(current, list) else None
    if kind == "datetime":
        return _stamp(current)
    return current


def same(a: Any, b: Any) -> bool:
    """Equality without Python's cross-type surprises: true is not 1, "1" is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def _ordered(op: str, a: Any, b: Any) -> bool:
    comparable = (_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str))
    if not comparable:
        return False
    return {"lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]


def atom_holds(schema: Schema, node: dict[str, Any], interaction: Any) -> bool:
    op = node["test"]
    kind = schema.lookup(node["field"]).type
    a = read(schema, interaction, node["field"])
    if op == "true":
        return a is True
    if "other" in node:
        b = read(schema, interaction, node["other"])
        if a is None or b is None:
            return False
        if op == "eq":
            return same(a, b)
        if op == "ne":
            return not same(a, b) and type(a) is type(b)
        return _ordered(op, a, b)
    if a is None:
        return False
    if op in ("in", "not_in"):
        values = node["values"]
        if kind == "datetime":
            values = [_stamp(v) for v in values]
        found = any(same(a, v) if kind in ("any", "list") else a == v for v in values)
        return found if op == "in" else not found
    value = node["value"]
    if kind == "datetime":
        value = _stamp(value)
        if value is None:
            return False
    if op == "contains":
        if isinstance(a, list):
            return any(same(x, value) for x in a) if kind != "list" else value in a
        if isinstance(a, str) and isinstance(value, str):
            return value.casefold() in a.casefold()
        return False
    if op == "eq":
        return same(a, value) if kind in ("any", "list") else a == value
    if op == "ne":
        return not (same(a, value) if kind in ("any", "list") else a == value)
    if kind in ("number", "datetime", "any"):
        return _is_number(a) and _is_number(value) and _ordered(op, a, value)
    return False


def holds(schema: Schema, node: dict[str, Any], interaction: Any) -> bool:
    if "and" in node:
        return all(holds(schema, item, interaction) for item in node["and"])
    if "or" in node:
        return any(holds(schema, item, interaction) for item in node["or"])
    if "not" in node:
        return not holds(schema, node["not"], interaction)
    if "const" in node:
        return bool(node["const"])
    return atom_holds(schema, node, interaction)


def conjuncts(node: dict[str, Any]) -> list[dict[str, Any]]:
    return list(node["and"]) if "and" in node else [node]


def first_failed(schema: Schema, rule: dict[str, Any], interaction: Any) -> int:
    """The first conjunct of a rule's condition that does not hold, or -1."""
    for k, part in enumerate(conjuncts(rule["when"])):
        if not holds(schema, part, interaction):
            return k
    return -1
