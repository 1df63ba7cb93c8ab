"""Validation of the portable IR before the runtime generates code from it.

A bundle's IR may have been edited, corrupted or forged, so nothing in it is
trusted: shapes, operators, literal types and sizes are checked, and every field
path must name a field of the IR's own (validated) schema. Only what passes here
reaches `dsl.codegen`, where literals go through `repr` and names are never used
as identifiers, so an IR cannot smuggle code in.
"""

from __future__ import annotations

import math
import re
from typing import Any

from dsl.compiler import EXPR_KIND, IR_KIND, IR_VERSION
from dsl.diagnostics import DSLError, make
from dsl.schema import FieldSpec, Schema, parse_datetime

MAX_DEPTH = 80
MAX_ITEMS = 100_000
MAX_TEXT = 10_000
MAX_NUMBER = 1e15
TEST_OPS = frozenset({"eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "contains", "true"})
ORDERED_OPS = frozenset({"lt", "le", "gt", "ge"})
_KEY = re.compile(
    r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*(?:\.[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)*"
)
_DURATION = re.compile(r"P\d{1,6}[DW]|PT\d{1,7}H")


class _Invalid(Exception):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")


def _require(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise _Invalid(where, message)


def _keys(node: dict[str, Any], where: str, allowed: set[str], required: set[str]) -> None:
    extra = set(node) - allowed
    _require(not extra, where, f"unexpected keys {sorted(map(str, extra))[:5]}")
    missing = required - set(node)
    _require(not missing, where, f"missing keys {sorted(missing)}")


def is_scalar(value: Any) -> bool:
    """A literal the code generator may `repr`: str, bool, int or finite float, bounded."""
    kind = type(value)
    if kind is str:
        return len(value) <= MAX_TEXT
    if kind is bool:
        return True
    if kind is int or kind is float:
        return math.isfinite(value) and abs(value) <= MAX_NUMBER
    return False


def _text(value: Any, where: str) -> None:
    _require(type(value) is str and len(value) <= MAX_TEXT, where, "expected a text")


def _int(value: Any, where: str, low: int, high: int) -> None:
    _require(
        type(value) is int and low <= value <= high,
        where,
        f"expected a whole number from {low} to {high}",
    )


def validate_expr(node: Any, schema: Schema, where: str = "when", depth: int = 0) -> None:
    """Raise `_Invalid` unless `node` is a well-formed expression over `schema`."""
    _require(depth <= MAX_DEPTH, where, "nested too deeply")
    _require(type(node) is dict, where, "expected an object")
    if "and" in node or "or" in node:
        word = "and" if "and" in node else "or"
        _keys(node, where, {word}, {word})
        items = node[word]
        _require(
            type(items) is list and 0 < len(items) <= MAX_ITEMS,
            where,
            f"`{word}` needs a non-empty list",
        )
        for i, item in enumerate(items):
            validate_expr(item, schema, f"{where}.{word}[{i}]", depth + 1)
        return
    if "not" in node:
        _keys(node, where, {"not"}, {"not"})
        validate_expr(node["not"], schema, f"{where}.not", depth + 1)
        return
    if "const" in node:
        _keys(node, where, {"const", "text"}, {"const"})
        _require(type(node["const"]) is bool, where, "`const` must be true or false")
        _text(node.get("text", ""), f"{where}.text")
        return
    _keys(node, where, {"test", "field", "text", "value", "values", "other"}, {"test", "field"})
    op = node["test"]
    _require(op in TEST_OPS, where, f"unknown test {str(op)[:40]!r}")
    _text(node.get("text", ""), f"{where}.text")
    spec = _field(node["field"], schema, f"{where}.field")
    operands = {"value", "values", "other"} & set(node)
    if op == "true":
        _require(not operands, where, "`true` takes no operand")
        return
    if op in ("in", "not_in"):
        _require(operands == {"values"}, where, f"`{op}` needs `values`")
        values = node["values"]
        _require(
            type(values) is list and len(values) <= MAX_ITEMS and all(is_scalar(v) for v in values),
            where,
            "`values` must be a list of texts, numbers or booleans",
        )
        return
    _require(
        len(operands) == 1 and operands != {"values"}, where, f"`{op}` needs `value` or `other`"
    )
    if "other" in node:
        _require(op not in ("contains",), where, "`contains` compares with a value")
        _field(node["other"], schema, f"{where}.other")
        return
    value = node["value"]
    _require(is_scalar(value), where, "`value` must be a text, number or boolean")
    if op in ORDERED_OPS:
        if spec.type == "datetime":
            _require(
                type(value) is str and parse_datetime(value) is not None,
                where,
                "a date field compares with a date",
            )
        else:
            _require(type(value) in (int, float), where, f"`{op}` compares with a number")
            _require(spec.type in ("number", "any"), where, f"`{op}` needs a number field")
    if op == "contains":
        _require(
            spec.type in ("list", "string", "any"), where, "`contains` needs a list or text field"
        )
        _require(type(value) is str or spec.type == "any", where, "`contains` looks for a text")


def _field(path: Any, schema: Schema, where: str) -> FieldSpec:
    _require(type(path) is str and len(path) <= 300, where, "expected a field path")
    spec = schema.lookup(path)
    _require(
        spec is not None and spec.type != "history" and schema.resolve(path) == path,
        where,
        f"{path[:80]!r} is not a field of the schema",
    )
    assert spec is not None  # _require has refused a missing field
    return spec


def _offer_key(value: Any, where: str) -> None:
    _require(
        type(value) is str and len(value) <= 200 and _KEY.fullmatch(value) is not None,
        where,
        "expected an offer key",
    )


def validate_ir(ir: Any) -> Schema:
    """Check a ruleset IR; return its schema or raise `DSLError` (E300 / E301)."""
    try:
        _require(type(ir) is dict, "ir", "expected an object")
        _keys(
            ir,
            "ir",
            {"ir", "version", "name", "schema", "guards", "limits", "max_offers", "rules"},
            {"ir", "version", "schema", "guards", "limits", "max_offers", "rules"},
        )
        _require(ir["ir"] == IR_KIND, "ir.ir", f"expected {IR_KIND!r}")
        _require(ir["version"] == IR_VERSION, "ir.version", f"expected {IR_VERSION}")
        _text(ir.get("name", ""), "ir.name")
        schema = Schema.from_dict(ir["schema"])
        guards = ir["guards"]
        _require(type(guards) is list and len(guards) <= MAX_ITEMS, "ir.guards", "expected a list")
        for i, guard in enumerate(guards):
            where = f"ir.guards[{i}]"
            _require(type(guard) is dict, where, "expected an object")
            _keys(guard, where, {"line", "text", "when"}, {"when"})
            _int(guard.get("line", 0), f"{where}.line", 0, 10**7)
            _text(guard.get("text", ""), f"{where}.text")
            validate_expr(guard["when"], schema, f"{where}.when")
        limits = ir["limits"]
        _require(type(limits) is list and len(limits) <= 100, "ir.limits", "expected a list")
        for i, limit in enumerate(limits):
            where = f"ir.limits[{i}]"
            _require(type(limit) is dict, where, "expected an object")
            _keys(limit, where, {"line", "count", "seconds", "period"}, {"count", "seconds"})
            _int(limit.get("line", 0), f"{where}.line", 0, 10**7)
            _int(limit["count"], f"{where}.count", 1, 1_000_000)
            _int(limit["seconds"], f"{where}.seconds", 1, 10**10)
            _require(
                _DURATION.fullmatch(str(limit.get("period", "P1D"))) is not None,
                f"{where}.period",
                "expected a duration",
            )
        if ir["max_offers"] is not None:
            _int(ir["max_offers"], "ir.max_offers", 1, 1000)
        rules = ir["rules"]
        _require(type(rules) is list and len(rules) <= MAX_ITEMS, "ir.rules", "expected a list")
        names: set[str] = set()
        for i, rule in enumerate(rules):
            _validate_rule(rule, schema, f"ir.rules[{i}]", names)
    except _Invalid as err:
        raise DSLError([make("E301", f"the compiled ruleset is damaged: {err}")]) from None
    return schema


def _validate_rule(rule: Any, schema: Schema, where: str, names: set[str]) -> None:
    _require(type(rule) is dict, where, "expected an object")
    _keys(
        rule,
        where,
        {"name", "line", "priority", "when", "offers", "follow_ups", "surveys"},
        {"name", "priority", "when", "offers", "follow_ups"},
    )
    _text(rule["name"], f"{where}.name")
    _require(rule["name"] not in names, f"{where}.name", "repeats another rule's name")
    names.add(rule["name"])
    _int(rule.get("line", 0), f"{where}.line", 0, 10**7)
    _int(rule["priority"], f"{where}.priority", -1_000_000, 1_000_000)
    if rule["when"] is not None:
        validate_expr(rule["when"], schema, f"{where}.when")
    offers = rule["offers"]
    _require(type(offers) is list and len(offers) <= 100, f"{where}.offers", "expected a list")
    for j, offer in enumerate(offers):
        w = f"{where}.offers[{j}]"
        _require(type(offer) is dict, w, "expected an object")
        _keys(offer, w, {"offer", "percent"}, {"offer"})
        _offer_key(offer["offer"], f"{w}.offer")
        percent = offer.get("percent")
        _require(
            percent is None or (type(percent) in (int, float) and 0 < percent <= 100),
            f"{w}.percent",
            "expected a share from 0 to 100",
        )
    follow_ups = rule["follow_ups"]
    _require(
        type(follow_ups) is list and len(follow_ups) <= 100,
        f"{where}.follow_ups",
        "expected a list",
    )
    for j, follow in enumerate(follow_ups):
        w = f"{where}.follow_ups[{j}]"
        _require(type(follow) is dict, w, "expected an object")
        _keys(follow, w, {"offer", "after", "seconds", "gate"}, {"offer", "after", "seconds"})
        _offer_key(follow["offer"], f"{w}.offer")
        _require(
            type(follow["after"]) is str and _DURATION.fullmatch(follow["after"]) is not None,
            f"{w}.after",
            "expected an ISO 8601 duration such as P7D",
        )
        _int(follow["seconds"], f"{w}.seconds", 1, 10**10)
        if "gate" in follow:
            _validate_gate(follow["gate"], follow["seconds"], f"{w}.gate")
    asked = rule.get("surveys", [])
    _require(type(asked) is list and len(asked) <= 100, f"{where}.surveys", "expected a list")
    for j, survey in enumerate(asked):
        w = f"{where}.surveys[{j}]"
        _require(type(survey) is dict, w, "expected an object")
        _keys(survey, w, {"survey", "percent"}, {"survey"})
        _offer_key(survey["survey"], f"{w}.survey")
        percent = survey.get("percent")
        _require(
            percent is None or (type(percent) in (int, float) and 0 < percent <= 100),
            f"{w}.percent",
            "expected a share from 0 to 100",
        )


def _validate_gate(gate: Any, delay: int, where: str) -> None:
    _require(type(gate) is dict, where, "expected an object")
    _keys(
        gate,
        where,
        {"offer", "infer", "window", "seconds"},
        {"offer", "infer", "window", "seconds"},
    )
    _offer_key(gate["offer"], f"{where}.offer")
    _require(type(gate["infer"]) is bool, f"{where}.infer", "expected true or false")
    _require(
        type(gate["window"]) is str and _DURATION.fullmatch(gate["window"]) is not None,
        f"{where}.window",
        "expected an ISO 8601 duration such as P7D",
    )
    _int(gate["seconds"], f"{where}.seconds", delay + 1, 366 * 86400)


def validate_expression_ir(ir: Any, schema: Schema) -> dict[str, Any]:
    """Check an eligibility IR against `schema`; return its `when` or raise `DSLError`."""
    try:
        _require(type(ir) is dict, "eligibility", "expected an object")
        _keys(ir, "eligibility", {"ir", "version", "source", "when"}, {"ir", "version", "when"})
        _require(ir["ir"] == EXPR_KIND, "eligibility.ir", f"expected {EXPR_KIND!r}")
        _require(ir["version"] == IR_VERSION, "eligibility.version", f"expected {IR_VERSION}")
        _text(ir.get("source", ""), "eligibility.source")
        validate_expr(ir["when"], schema, "eligibility.when")
    except _Invalid as err:
        raise DSLError([make("E301", f"the compiled eligibility is damaged: {err}")]) from None
    when: dict[str, Any] = ir["when"]
    return when
