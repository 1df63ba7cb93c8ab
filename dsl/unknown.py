"""`FIELD is unknown`: what a ruleset does when an enum field has no usable value.

A missing field reads as null and every comparison with null is false, so
`never offer when tone is distressed` does not fire when the tone is missing. A
ruleset says what unknown means with the bare word `unknown` on an enum field
(`never offer when tone is unknown`). It is true when the field is absent, null, or
holds a value outside the enum (an interaction a caller decided anyway), and it
compiles to the IR every runtime already runs: `not (FIELD in [every value])`, so no
bundle reader needs to learn anything new.

An enum that lists `unknown` among its own values keeps it as an ordinary value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dsl import ast, logic
from dsl.diagnostics import Diagnostic, make
from dsl.schema import FieldSpec, Schema

UNKNOWN = "unknown"


def names_unknown(spec: FieldSpec | None, node: object) -> bool:
    """Whether `node`, compared with `spec`, is the word `unknown` (not an enum value)."""
    return (
        spec is not None
        and spec.type == "enum"
        and isinstance(node, ast.Symbol)
        and node.name == UNKNOWN
        and UNKNOWN not in spec.values
    )


def compile_unknown(expr: ast.Compare, schema: Schema, text: str) -> dict[str, Any] | None:
    """The IR of `FIELD is unknown` / `FIELD is not unknown`, or None for other tests."""
    if expr.op not in ("is", "==", "is not", "!=") or not isinstance(expr.left, ast.Path):
        return None
    spec = schema.lookup(expr.left.dotted)
    if not names_unknown(spec, expr.right):
        return None
    known = {
        "test": "in",
        "field": schema.resolve(expr.left.dotted),
        "values": list(spec.values),  # type: ignore[union-attr]
        "text": text,
    }
    return {"not": known} if expr.op in ("is", "==") else known


def mentions_unknown(expr: ast.Expr, field: str, schema: Schema) -> bool:
    """Whether `expr` tests `field is unknown` (or `is not unknown`) anywhere."""
    if isinstance(expr, ast.And | ast.Or):
        return any(mentions_unknown(item, field, schema) for item in expr.items)
    if isinstance(expr, ast.Not):
        return mentions_unknown(expr.operand, field, schema)
    if (
        isinstance(expr, ast.Compare)
        and isinstance(expr.left, ast.Path)
        and schema.resolve(expr.left.dotted) == field
    ):
        return names_unknown(schema.lookup(field), expr.right)
    return False


def mentions_field(expr: ast.Expr, field: str, schema: Schema) -> bool:
    """Whether `expr` reads `field` anywhere."""
    if isinstance(expr, ast.And | ast.Or):
        return any(mentions_field(item, field, schema) for item in expr.items)
    if isinstance(expr, ast.Not):
        return mentions_field(expr.operand, field, schema)
    if isinstance(expr, ast.Compare):
        return any(
            isinstance(side, ast.Path) and schema.resolve(side.dotted) == field
            for side in (expr.left, expr.right)
        )
    return False


def unknown_tone_warnings(
    tree: ast.Ruleset,
    schema: Schema,
    formula: Callable[[ast.Expr, Schema], logic.Formula],
    remembered: Callable[[ast.Expr, Callable[[], bool]], bool] | None = None,
) -> list[Diagnostic]:
    """W404 when a guard reads the tone but nothing says what an unknown tone means.

    Saying it anywhere is enough: a guard `never offer when tone is unknown`, or a rule
    condition that tests `tone is unknown` / `tone is not unknown`.

    Tone is often inferred, and inference may find nothing: a ruleset that stops offers
    to distressed customers should decide, in writing, whether an unknown tone is safe.
    `remembered(condition, work)` may answer `work()` from an earlier check.
    """
    spec = schema.lookup("tone")
    if spec is None or spec.type != "enum":
        return []
    field = spec.path
    guards = [g for g in tree.guards if mentions_field(g.condition, field, schema)]
    conditions = [g.condition for g in tree.guards] + [
        r.condition for r in tree.rules if r.condition
    ]
    if not guards:
        return []
    for c in conditions:
        if (
            remembered(c, lambda c=c: mentions_unknown(c, field, schema))  # type: ignore[misc]
            if remembered is not None
            else mentions_unknown(c, field, schema)
        ):
            return []
    unknown = logic.Atom(
        field, logic.Finite(frozenset(spec.values) | {logic.NULL}, frozenset({logic.NULL})), None
    )
    if logic.implies(unknown, logic.OrF(tuple(formula(g.condition, schema) for g in tree.guards))):
        return []  # the guards already stop offers when the tone is unknown
    return [
        make(
            "W404",
            "this guard reads the tone, but no guard says what happens when the tone "
            "is unknown (no tone was given and none could be inferred)",
            guards[0].condition.span,
            hint="add `never offer when tone is unknown` to stop offers then; to offer "
            "anyway, test it in a rule (`... and tone is not unknown`) to show it is meant",
        )
    ]
