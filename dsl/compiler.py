"""Checked AST -> portable JSON IR, the form bundles carry.

The IR is plain JSON: field paths are resolved through the schema's aliases, bare
words become strings, `1 < x` is turned round to `x > 1`, and every test keeps its
source text for traces. The runtime never trusts it: `dsl.ir.validate_ir` checks
it again before any code is generated from it.
"""

from __future__ import annotations

from typing import Any

from dsl import ast
from dsl.formatter import format_expr
from dsl.schema import Schema
from dsl.unknown import compile_unknown

IR_KIND = "pos-rules"
EXPR_KIND = "pos-expr"
IR_VERSION = 1

_OPS = {
    "is": "eq",
    "==": "eq",
    "is not": "ne",
    "!=": "ne",
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
    "in": "in",
    "not in": "not_in",
    "contains": "contains",
    "truthy": "true",
}
_FLIP = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "ne": "ne"}
_SECONDS = {"hour": 3600, "day": 86400, "week": 604800}


#: Longest source text kept in the IR for traces; longer conditions are cut.
MAX_TRACE_TEXT = 1000


def _text(expr: ast.Expr) -> str:
    text = format_expr(expr)
    return text if len(text) <= MAX_TRACE_TEXT else text[: MAX_TRACE_TEXT - 1] + "…"


def _value(node: ast.Literal | ast.Symbol) -> Any:
    return node.name if isinstance(node, ast.Symbol) else node.value


def _literal_result(op: str, a: Any, b: Any) -> bool:
    if type(a) is not type(b) and not (isinstance(a, int | float) and isinstance(b, int | float)):
        return False if op != "ne" else True
    try:
        results: dict[str, bool] = {
            "eq": a == b,
            "ne": a != b,
            "lt": a < b,
            "le": a <= b,
            "gt": a > b,
            "ge": a >= b,
        }
        return results[op]
    except TypeError:
        return False


def compile_expr(expr: ast.Expr, schema: Schema) -> dict[str, Any]:
    """IR for one (checked) expression."""
    if isinstance(expr, ast.And):
        return {"and": [compile_expr(item, schema) for item in expr.items]}
    if isinstance(expr, ast.Or):
        return {"or": [compile_expr(item, schema) for item in expr.items]}
    if isinstance(expr, ast.Not):
        return {"not": compile_expr(expr.operand, schema)}
    text = _text(expr)
    unknown = compile_unknown(expr, schema, text)
    if unknown is not None:
        return unknown
    op = _OPS[expr.op]
    left, right = expr.left, expr.right
    if isinstance(left, ast.Literal):
        if isinstance(right, ast.Literal):
            return {"const": _literal_result(op, left.value, right.value), "text": text}
        left, right, op = right, left, _FLIP[op]  # type: ignore[assignment]  # flipped only when the right side is a Path
    field = schema.resolve(left.dotted)  # type: ignore[union-attr]  # a Path after the flip above
    node: dict[str, Any] = {"test": op, "field": field, "text": text}
    if op == "true":
        return node
    if op in ("in", "not_in"):
        node["values"] = [_value(v) for v in right.items]  # type: ignore[union-attr]  # `operand IN list_value` in the grammar
    elif isinstance(right, ast.Path):
        node["other"] = schema.resolve(right.dotted)
    else:
        node["value"] = _value(right)  # type: ignore[arg-type]  # a Literal or Symbol for these operators
    return node


def _iso_duration(d: ast.Duration) -> str:
    amount = int(d.amount)
    return f"PT{amount}H" if d.unit == "hour" else f"P{amount}{'W' if d.unit == 'week' else 'D'}"


def _gate(gate: ast.Gate | None) -> dict[str, Any]:
    """`gate` only on gated follow-ups, so other rulesets compile as before."""
    if gate is None:
        return {}
    window = gate.window or ast.DEFAULT_GATE_WINDOW
    return {
        "gate": {
            "offer": gate.key,
            "infer": gate.infer,
            "window": _iso_duration(window),
            "seconds": int(window.amount) * _SECONDS[window.unit],
        }
    }


def _surveys(rule: ast.Rule) -> dict[str, Any]:
    """`surveys` only on rules that ask one, so rulesets without surveys compile as before."""
    if not rule.surveys:
        return {}
    return {"surveys": [{"survey": c.key, "percent": c.percent} for c in rule.surveys]}


def compile_ruleset(tree: ast.Ruleset, schema: Schema, name: str = "ruleset") -> dict[str, Any]:
    """IR for a checked ruleset (see docs/rules.md, "The compiled form")."""
    caps = tree.caps
    return {
        "ir": IR_KIND,
        "version": IR_VERSION,
        "name": name,
        "schema": schema.to_dict(),
        "guards": [
            {
                "line": g.span.line,
                "text": _text(g.condition),
                "when": compile_expr(g.condition, schema),
            }
            for g in tree.guards
        ],
        "limits": [
            {
                "line": lim.span.line,
                "count": int(lim.count),
                "seconds": int(lim.period.amount) * _SECONDS[lim.period.unit],
                "period": _iso_duration(lim.period),
            }
            for lim in tree.limits
        ],
        "max_offers": int(caps[0].count) if caps else None,
        "rules": [
            {
                "name": rule.name,
                "line": rule.span.line,
                "priority": int(rule.priority),
                "when": compile_expr(rule.condition, schema)
                if rule.condition is not None
                else None,
                "offers": [{"offer": c.key, "percent": c.percent} for c in rule.offers],
                "follow_ups": [
                    {
                        "offer": f.key,
                        "after": _iso_duration(f.after),
                        "seconds": int(f.after.amount) * _SECONDS[f.after.unit],
                        **_gate(f.gate),
                    }
                    for f in rule.follow_ups
                ],
                **_surveys(rule),
            }
            for rule in tree.rules
        ],
    }


def compile_expression(expr: ast.Expr, schema: Schema, source: str) -> dict[str, Any]:
    """IR for an offer's eligibility expression."""
    return {
        "ir": EXPR_KIND,
        "version": IR_VERSION,
        "source": source,
        "when": compile_expr(expr, schema),
    }
