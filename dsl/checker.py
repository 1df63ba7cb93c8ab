"""Static checks: names and types against the schema, offers, structure, logic.

The checker turns a parsed ruleset (or one eligibility expression) into
diagnostics. Errors stop compilation; warnings (unreachable and shadowed rules, an
inactive offer, a guard that always fires) are reported alongside a compiled result.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar, cast

from dsl import ast, logic
from dsl.diagnostics import Diagnostic, Span, make, quote
from dsl.formatter import format_expr, format_value
from dsl.schema import FieldSpec, Schema, parse_datetime
from dsl.suggest import did_you_mean
from dsl.unknown import names_unknown, unknown_tone_warnings

#: Upper bound on pairwise implication checks for shadowed rules in one ruleset.
MAX_SHADOW_CHECKS = 20_000
#: Rules testing more fields than this are not checked for being shadowed.
MAX_SHADOW_FIELDS = 10
MAX_PRIORITY = 1_000_000
#: Conditions with more tests than this are not analysed for contradictions.
MAX_ANALYSED_TESTS = 500

_ORDERED = ("number", "datetime", "any")


@dataclass
class _Context:
    schema: Schema
    diagnostics: list[Diagnostic]
    #: Survey keys rules may ask; None when surveys are not checked.
    surveys: frozenset[str] | None = None

    #: Normal forms worked out in this check, by the identity of the formula (kept
    #: alive beside them): a rule's formula is compared with every guard and with the
    #: rules that may shadow it, and each comparison would normalise both again.
    normal_forms: dict[int, tuple[logic.Formula, list[logic.Term] | None]] = field(
        default_factory=dict
    )
    #: "One of the guards fires", built once per check (see `_any_guard`).
    any_guard: logic.Formula | None = None

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.append(make(code, message, span, hint))

    def terms(self, f: logic.Formula, *, negated: bool = False) -> list[logic.Term] | None:
        key = -id(f) if negated else id(f)
        found = self.normal_forms.get(key)
        if found is None or found[0] is not f:
            terms, _conflict = logic.normal_form(logic.NotF(f) if negated else f)
            found = self.normal_forms[key] = (f, terms)
        return found[1]

    def implies(self, a: logic.Formula, b: logic.Formula) -> bool:
        """`logic.implies(a, b)`, from the normal forms of `a` and `not b` kept here."""
        return logic.implies_terms(self.terms(a), lambda: self.terms(b, negated=True))


def _field(ctx: _Context, path: ast.Path) -> FieldSpec | None:
    """The spec of a path used as a value, reporting unknown or non-value fields."""
    dotted = path.dotted
    spec = ctx.schema.lookup(dotted)
    if spec is not None and spec.type != "history":
        return spec
    if spec is not None:
        ctx.error(
            "E209",
            f"`{dotted}` is {spec.describe()}; rules cannot test it directly",
            path.span,
            hint="limits read it: write `limit offers to N per customer per D days`",
        )
        return None
    children = [s.path for s in ctx.schema.fields if s.path.startswith(dotted + ".")]
    if children or dotted in ctx.schema.free_roots:
        shown = ", ".join(f"`{c}`" for c in children[:4]) or f"`{dotted}.something`"
        ctx.error(
            "E209",
            f"`{dotted}` is a group of fields, not a single value",
            path.span,
            hint=f"name one of its fields, such as {shown}",
        )
        return None
    ctx.error(
        "E200",
        f"there is no field {quote(dotted, 60)}",
        path.span,
        hint=did_you_mean(dotted, ctx.schema.names()),
    )
    return None


def _value_kind(node: ast.Literal | ast.Symbol) -> str:
    return "symbol" if isinstance(node, ast.Symbol) else node.kind


def _describe_value(node: ast.Literal | ast.Symbol | ast.Path) -> str:
    if isinstance(node, ast.Symbol):
        return f"the word {quote(node.name)}"
    if isinstance(node, ast.Path):
        return f"the field `{node.dotted}`"
    if node.kind == "number":
        return f"the number {format_value(node)}"
    if node.kind == "boolean":
        return f"`{format_value(node)}`"
    return f"the text {quote(format_value(node))}"


def _check_value(
    ctx: _Context, spec: FieldSpec, node: ast.Literal | ast.Symbol, written: str
) -> bool:
    """Whether `node` can be compared with `spec` by equality; reports why not."""
    kind = _value_kind(node)
    name = written or spec.path
    if spec.type == "enum":
        if kind in ("symbol", "string"):
            word = node.name if isinstance(node, ast.Symbol) else str(node.value)
            if word not in spec.values:
                ctx.error(
                    "E201",
                    f"{quote(word)} is not a possible `{name}`: it is {spec.describe()}",
                    node.span,
                    hint=did_you_mean(word, spec.values),
                )
                return False
            return True
    elif spec.type in ("string", "any"):
        if kind == "symbol":
            word = node.name  # type: ignore[union-attr]  # kind "symbol" means a Symbol
            ctx.error(
                "E210",
                f"{quote(word)} is compared with the text field `{name}`, so it needs quotes",
                node.span,
                hint=f'write "{word[:60]}"',
            )
            return False
        if spec.type == "any" or kind == "string":
            return True
    elif spec.type == "number":
        if kind == "number":
            return True
    elif spec.type == "boolean":
        if kind == "boolean":
            return True
    elif spec.type == "datetime" and isinstance(node, ast.Literal):
        if kind == "string" and parse_datetime(node.value) is not None:
            return True
        if kind == "string":
            ctx.error(
                "E202", f'{quote(str(node.value))} is not a date such as "2026-11-20"', node.span
            )
            return False
    hint = None
    if spec.type == "list":
        hint = f"to test membership write `{name} contains ...`"
    elif spec.type == "boolean" and kind == "symbol":
        hint = f"write `{name} is true` or `{name} is false`"
    ctx.error(
        "E202",
        f"`{name}` is {spec.describe()}; it cannot be compared with {_describe_value(node)}",
        node.span,
        hint=hint,
    )
    return False


def _check_compare(ctx: _Context, c: ast.Compare) -> None:
    op = c.op
    left = c.left
    if isinstance(left, ast.Literal):
        if op in ("is", "is not", "in", "not in", "contains", "truthy"):
            ctx.error(
                "E202",
                f"a condition must start with a field, not {_describe_value(left)}",
                left.span,
            )
            return
        _check_ordered(ctx, c, None)  # only an ordered comparison may start with a literal
        return
    else:
        spec = _field(ctx, left)
        if spec is None:
            return
    if op == "truthy":
        if spec.type not in ("boolean", "any"):
            example = {
                "enum": f"is {spec.values[0]}" if spec.values else "is ...",
                "list": 'contains "..."',
                "number": "> 0",
            }.get(spec.type, 'is "..."')
            ctx.error(
                "E202",
                f"`{spec.path}` is {spec.describe()}, not true or false",
                c.span,
                hint=f"compare it, for example `{spec.path} {example}`",
            )
        return
    written = left.dotted if isinstance(left, ast.Path) else ""
    if op in ("is", "is not"):
        if not names_unknown(spec, c.right):
            _check_value(ctx, spec, c.right, written)  # type: ignore[arg-type]  # `operand IS value` in the grammar
        return
    if op in ("in", "not in"):
        for item in c.right.items:  # type: ignore[union-attr]  # `operand IN list_value` in the grammar
            _check_value(ctx, spec, item, written)
        return
    if op == "contains":
        right = cast(ast.Value, c.right)  # `operand CONTAINS value` in the grammar
        if spec.type == "list" or spec.type == "string" or spec.type == "any":
            if isinstance(right, ast.Symbol):
                ctx.error(
                    "E210",
                    f"{quote(right.name)} needs quotes here",
                    right.span,
                    hint=f'write "{right.name[:60]}"',
                )
            elif right.kind != "string" and spec.type != "any":
                ctx.error(
                    "E202",
                    f"`{spec.path}` holds texts; it cannot contain {_describe_value(right)}",
                    right.span,
                )
            return
        ctx.error(
            "E202",
            f"`{spec.path}` is {spec.describe()}; `contains` needs a list or a text",
            c.span,
            hint="use `is` or `in` instead",
        )
        return
    _check_ordered(ctx, c, spec)


def _operand_spec(ctx: _Context, node: ast.Path | ast.Literal) -> FieldSpec | None:
    if isinstance(node, ast.Path):
        return _field(ctx, node)
    return FieldSpec("", {"string": "string", "number": "number", "boolean": "boolean"}[node.kind])


def _check_ordered(ctx: _Context, c: ast.Compare, left: FieldSpec | None) -> None:
    """`==`, `!=`, `<`, `<=`, `>`, `>=` between two operands."""
    right_node = cast(ast.Operand, c.right)  # `operand COMPARE operand` in the grammar
    if (
        isinstance(right_node, ast.Path)
        and len(right_node.segments) == 1
        and left is not None
        and left.type == "enum"
        and ctx.schema.lookup(right_node.dotted) is None
    ):
        ctx.error(
            "E200",
            f"there is no field {quote(right_node.dotted)}",
            right_node.span,
            hint=f"to compare with the value write `{left.path} is {right_node.dotted}`",
        )
        return
    if left is None:
        left = _operand_spec(ctx, c.left)
    right = _operand_spec(ctx, right_node)
    if left is None or right is None:
        return
    if isinstance(right_node, ast.Literal) and left.path and c.op in ("==", "!="):
        _check_value(ctx, left, right_node, c.left.dotted if isinstance(c.left, ast.Path) else "")
        return
    lt, rt = left.type, right.type
    ordered = c.op not in ("==", "!=")

    def label(spec: FieldSpec, node: ast.Path | ast.Literal | ast.Symbol) -> str:
        return f"`{spec.path}` ({spec.describe()})" if spec.path else _describe_value(node)

    if ordered:
        ok_types = {"number", "datetime", "any"}
        if lt not in ok_types or rt not in ok_types and not (rt == "string" and lt == "datetime"):
            bad = left if lt not in ok_types else right
            node = c.left if bad is left else right_node
            if bad.path:
                ctx.error(
                    "E202",
                    f"`{bad.path}` is {bad.describe()}; it cannot be compared with `{c.op}`",
                    c.span,
                    hint=_order_hint(bad),
                )
            elif bad is right and left.path:
                ctx.error(
                    "E202",
                    f"`{left.path}` is {left.describe()}; it cannot be compared with {_describe_value(node)}",
                    node.span,
                )
            else:
                ctx.error("E202", f"{label(bad, node)} cannot be compared with `{c.op}`", c.span)
            return
        if lt == "datetime" and rt == "string" and isinstance(right_node, ast.Literal):
            if parse_datetime(right_node.value) is None:
                ctx.error(
                    "E202",
                    f'{quote(str(right_node.value))} is not a date such as "2026-11-20"',
                    right_node.span,
                )
            return
        if lt != rt and "any" not in (lt, rt):
            ctx.error(
                "E202",
                f"{label(left, c.left)} cannot be compared with {label(right, right_node)}",
                c.span,
            )
        return
    if (
        lt != rt
        and "any" not in (lt, rt)
        and not (lt == "enum" and rt == "string")
        and not (lt == "string" and rt == "enum")
    ):
        ctx.error(
            "E202",
            f"{label(left, c.left)} cannot be compared with {label(right, right_node)}",
            c.span,
        )


def _order_hint(spec: FieldSpec) -> str | None:
    if spec.type == "enum":
        return f"compare it with `is` or `in`, for example `{spec.path} in [{', '.join(spec.values[-2:])}]`"
    if spec.type == "string":
        return f'compare it with `is`, for example `{spec.path} is "..."`'
    return None


def check_expr(ctx: _Context, expr: ast.Expr) -> None:
    """Report every name and type problem in an expression."""
    for c in ast.walk(expr):
        _check_compare(ctx, c)


# Logic ----------------------------------------------------------------------

_BOOL_UNIVERSE = frozenset({True, False, logic.NULL})


def _literal(node: ast.Literal | ast.Symbol) -> object:
    return node.name if isinstance(node, ast.Symbol) else node.value


def formula(expr: ast.Expr, schema: Schema) -> logic.Formula:
    """The expression as a logic formula over the schema's fields (see `dsl.logic`)."""
    if isinstance(expr, ast.And):
        return logic.AndF(tuple(formula(i, schema) for i in expr.items))
    if isinstance(expr, ast.Or):
        return logic.OrF(tuple(formula(i, schema) for i in expr.items))
    if isinstance(expr, ast.Not):
        return logic.NotF(formula(expr.operand, schema))
    return _atom(expr, schema)


def _opaque(c: ast.Compare, text: object) -> logic.Atom:
    return logic.Atom(
        ("opaque", format_expr(c)), logic.Finite(frozenset({True, False}), frozenset({True})), text
    )


def _atom(c: ast.Compare, schema: Schema) -> logic.Formula:
    text = c
    if not isinstance(c.left, ast.Path):
        return _opaque(c, text)
    spec = schema.lookup(c.left.dotted)
    if spec is None or isinstance(c.right, ast.Path):
        return _opaque(c, text)
    key: object = spec.path
    op = c.op
    kind = spec.type
    if op == "contains":
        universe = _BOOL_UNIVERSE
        return logic.Atom(
            # `operand CONTAINS value` in the grammar
            (spec.path, "contains", _literal(c.right)),  # type: ignore[arg-type]
            logic.Finite(universe, frozenset({True})),
            text,
        )
    values: list[object]
    if op == "truthy":
        op, values = "is", [True]
    elif op in ("in", "not in"):
        values = [_literal(v) for v in c.right.items]  # type: ignore[union-attr]  # `operand IN list_value` in the grammar
    else:
        values = [_literal(c.right)]  # type: ignore[arg-type]  # a value here, a Path was refused above
    positive = {
        "is": True,
        "==": True,
        "in": True,
        "is not": False,
        "!=": False,
        "not in": False,
    }.get(op)
    if names_unknown(spec, c.right) and op in ("is", "is not"):
        universe = frozenset(spec.values) | {logic.NULL}
        return logic.Atom(
            key,
            logic.Finite(
                universe, frozenset({logic.NULL}) if positive else universe - {logic.NULL}
            ),
            text,
        )
    if kind in ("enum", "boolean"):
        universe = frozenset(spec.values) | {logic.NULL} if kind == "enum" else _BOOL_UNIVERSE
        if positive is None:
            return _opaque(c, text)
        chosen = frozenset(values) & universe
        members = chosen if positive else universe - chosen - {logic.NULL}
        return logic.Atom(key, logic.Finite(universe, members), text)
    if kind == "number" and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        nums = [float(v) for v in values]  # type: ignore[arg-type]  # every value is a number, tested just above
        if positive is True:
            return logic.Atom(key, logic.Numbers.points(nums), text)
        if positive is False:
            return logic.Atom(
                key, logic.Numbers(logic.Numbers.points(nums).complement().intervals), text
            )
        v = nums[0]
        inf = float("inf")
        bounds = {
            "<": (-inf, False, v, False),
            "<=": (-inf, False, v, True),
            ">": (v, False, inf, False),
            ">=": (v, True, inf, False),
        }[op]
        return logic.Atom(key, logic.Numbers.between(*bounds), text)
    if kind in ("string", "any") and positive is not None:
        elements = frozenset((type(v).__name__, v) for v in values)
        if positive:
            return logic.Atom((key, "eq"), logic.Open(False, elements), text)
        return logic.Atom((key, "eq"), logic.Open(True, elements | {logic.NULL}), text)
    return _opaque(c, text)


# Rulesets -------------------------------------------------------------------


def _whole(
    ctx: _Context, value: int | float, span: Span, what: str, low: float, high: float
) -> bool:
    if isinstance(value, float) and not value.is_integer() or not low <= value <= high:
        ctx.error(
            "E208",
            f"{what} must be a whole number from {int(low):,} to {int(high):,}; got {format_value(ast.Literal(value, 'number'))}",
            span,
        )
        return False
    return True


def _conflict_text(entry: tuple[object, bool]) -> str:
    source, negated = entry
    text = format_expr(source) if isinstance(source, ast.Compare) else str(source or "")
    return f"not {text}" if negated and text else text


def _too_big(expr: ast.Expr) -> bool:
    return (
        sum(1 for _ in itertools.islice(ast.walk(expr), MAX_ANALYSED_TESTS + 1))
        > MAX_ANALYSED_TESTS
    )


def _check_contradiction(ctx: _Context, expr: ast.Expr, what: str) -> logic.Formula:
    if _too_big(expr):
        return logic.Const(True, None)
    f = formula(expr, ctx.schema)
    terms, result = logic.normal_form(f)
    ctx.normal_forms[id(f)] = (f, terms)
    if terms is not None and not terms and result is not None:
        texts = [t for t in map(_conflict_text, result.texts) if t]
        if len(texts) >= 2:
            shown = " and ".join(f"`{t}`" for t in texts[:3])
            message = f"{what} can never be true: {shown} cannot all hold at once"
        elif texts:
            message = f"{what} can never be true: `{texts[0]}` never holds"
        else:
            message = f"{what} can never be true"
        ctx.error("E205", message, expr.span, hint="remove or correct one of the conditions")
    return f


def _offer_status(offers: Mapping[str, str | None] | None, key: str) -> tuple[bool, str | None]:
    if offers is None:
        return True, None
    if key not in offers:
        return False, None
    return True, offers[key]


def _check_offer_key(
    ctx: _Context, offers: Mapping[str, str | None] | None, key: str, span: Span
) -> None:
    known, status = _offer_status(offers, key)
    if not known:
        ctx.error(
            "E203", f"there is no offer {quote(key)}", span, hint=did_you_mean(key, offers or ())
        )
    elif status not in (None, "active"):
        ctx.diagnostics.append(
            make("W402", f"the offer `{key}` is {status}, so this rule will not make it", span)
        )


def _check_rule(
    ctx: _Context, rule: ast.Rule, offers: Mapping[str, str | None] | None, clean: set[int]
) -> None:
    if not rule.name.strip():
        ctx.error(
            "E211",
            "a rule needs a name",
            rule.name_span,
            hint='for example rule "Card protection after a stolen card"',
        )
    seen: dict[str, ast.Clause] = {}
    offered: set[str] = set()
    asked: set[str] = set()
    for clause in rule.clauses:
        if isinstance(clause, ast.When | ast.Priority):
            word = "when" if isinstance(clause, ast.When) else "priority"
            if word in seen:
                ctx.error(
                    "E207",
                    f"this rule already has a `{word}` clause (line {seen[word].span.line})",
                    clause.span,
                    hint="join the conditions with `and`" if word == "when" else None,
                )
            seen[word] = clause
        if isinstance(clause, ast.When):
            before = len(ctx.diagnostics)
            check_expr(ctx, clause.condition)
            if len(ctx.diagnostics) == before:
                clean.add(id(clause.condition))
        elif isinstance(clause, ast.Priority):
            _whole(ctx, clause.value, clause.span, "a priority", -MAX_PRIORITY, MAX_PRIORITY)
        elif isinstance(clause, ast.OfferClause):
            if clause.key in offered:
                ctx.error("E207", f"this rule already offers `{clause.key}`", clause.span)
            offered.add(clause.key)
            _check_offer_key(ctx, offers, clause.key, clause.key_span)
            if clause.percent is not None and not 0 < clause.percent <= 100:
                ctx.error(
                    "E208",
                    f"a share of customers must be more than 0% and at most 100%; got {format_value(ast.Literal(clause.percent, 'number'))}%",
                    clause.percent_span,
                )
        elif isinstance(clause, ast.AskSurvey):
            if clause.key in asked:
                ctx.error("E207", f"this rule already asks the survey `{clause.key}`", clause.span)
            asked.add(clause.key)
            _check_survey(ctx, clause)
        else:
            _check_offer_key(ctx, offers, clause.key, clause.key_span)
            _whole(ctx, clause.after.amount, clause.after.span, "a follow-up delay", 1, 10_000)
            if clause.gate is not None:
                _check_gate(ctx, offers, clause, clause.gate)
    if not rule.offers and not rule.follow_ups and not rule.surveys:
        ctx.error(
            "E206",
            f'the rule "{rule.name[:60]}" neither offers nor follows up',
            rule.name_span,
            hint="add `offer KEY` or `follow up after N days with KEY`",
        )


#: The longest a gated offer may wait for the customer's reply.
MAX_GATE_DAYS: Final = 365


def _check_gate(
    ctx: _Context, offers: Mapping[str, str | None] | None, follow: ast.FollowUp, gate: ast.Gate
) -> None:
    """A gated offer: a known offer, a thread to match replies on, a window that can open."""
    _check_offer_key(ctx, offers, gate.key, gate.key_span)
    if ctx.schema.thread_field is None:
        ctx.error(
            "E233",
            "a gated offer waits for a reply on the same inquiry thread, "
            "but the schema names no thread field",
            gate.span,
            hint='add a text field such as `inquiry.thread_id` and the role "thread" to the schema',
        )
    window = gate.window or ast.DEFAULT_GATE_WINDOW
    span = gate.span if gate.window is None else window.span
    if isinstance(window.amount, float) and not window.amount.is_integer() or window.amount < 1:
        ctx.error(
            "E232",
            f"the resolution window must be a whole number of {window.unit}s, at least 1",
            span,
        )
    elif window.days > MAX_GATE_DAYS:
        ctx.error(
            "E232",
            f"a gated offer can wait at most {MAX_GATE_DAYS} days; this window is "
            f"{window.days:g} days",
            span,
        )
    elif window.days <= follow.after.days:
        ctx.error(
            "E232",
            f"the resolution window ({window.days:g} days from the first contact) "
            f"ends before the check-in goes out ({follow.after.days:g} days): "
            "the customer could never answer it",
            span,
            hint=f"make the window longer than {follow.after.days:g} days"
            + ("" if gate.window is not None else " with `within N days`"),
        )


def _check_survey(ctx: _Context, clause: ast.AskSurvey) -> None:
    if ctx.surveys is not None and clause.key not in ctx.surveys:
        ctx.error(
            "E230",
            f"there is no survey {quote(clause.key)}",
            clause.key_span,
            hint=did_you_mean(clause.key, sorted(ctx.surveys)) or "publish the survey first",
        )
    if clause.percent is not None and not 0 < clause.percent <= 100:
        ctx.error(
            "E208",
            f"a share of customers must be more than 0% and at most 100%; got {format_value(ast.Literal(clause.percent, 'number'))}%",
            clause.percent_span,
        )


def _index_signature(rule: ast.Rule, schema: Schema) -> frozenset[tuple[str, object]]:
    """(field, value) pairs a rule requires by plain equality on an indexed field."""
    cond = rule.condition
    items = cond.items if isinstance(cond, ast.And) else (cond,) if cond is not None else ()
    pairs: set[tuple[str, object]] = set()
    for item in items:
        if (
            isinstance(item, ast.Compare)
            and item.op in ("is", "==")
            and isinstance(item.left, ast.Path)
            and isinstance(item.right, ast.Literal | ast.Symbol)
        ):
            spec = schema.lookup(item.left.dotted)
            if spec is not None and spec.path in schema.index:
                pairs.add((spec.path, _literal(item.right)))
    return frozenset(pairs)


class CheckMemo:
    """What checking each statement found last time, for an editor that asks again after
    every keystroke (`dsl.live`). Results are found by the identity of the AST nodes the
    editor's parse memo hands out again for unchanged statements, so an edited
    statement is always checked afresh. One memo serves one schema, offer catalogue and
    survey list (its owner keys memos by them). It keeps two generations: what the last
    check used and what this one uses, so it never holds more than two versions."""

    def __init__(self) -> None:
        self._old: dict[tuple[object, ...], tuple[tuple[object, ...], Any]] = {}
        self._new: dict[tuple[object, ...], tuple[tuple[object, ...], Any]] = {}

    def get(self, kind: str, nodes: tuple[object, ...]) -> Any:
        key = (kind, *map(id, nodes))
        found = self._new.get(key)
        if found is None:
            found = self._old.get(key)
            if found is None:
                return None
        for a, b in zip(found[0], nodes):  # noqa: B905 - same key, so same length
            if a is not b:
                return None
        self._new[key] = found
        return found[1]

    def put(self, kind: str, nodes: tuple[object, ...], value: Any) -> None:
        self._new[(kind, *map(id, nodes))] = (nodes, value)

    def turn(self) -> None:
        """End of one check: what it used becomes the last generation."""
        self._old, self._new = self._new, {}


_T = TypeVar("_T")


def _replayed(
    ctx: _Context,
    memo: CheckMemo | None,
    kind: str,
    nodes: tuple[object, ...],
    work: Callable[..., _T],
    *args: Any,
) -> _T:
    """`work(*args)`, or what it returned and reported the last time for the same nodes."""
    if memo is None:
        return work(*args)
    found = memo.get(kind, nodes)
    if found is not None:
        result, reported = found
        ctx.diagnostics.extend(reported)
        return cast(_T, result)
    before = len(ctx.diagnostics)
    result = work(*args)
    memo.put(kind, nodes, (result, tuple(ctx.diagnostics[before:])))
    return result


def check_ruleset(
    tree: ast.Ruleset,
    schema: Schema,
    offers: Mapping[str, str | None] | None = None,
    surveys: Iterable[str] | None = None,
    memo: CheckMemo | None = None,
) -> list[Diagnostic]:
    """Every diagnostic for a parsed ruleset. `offers` maps known keys to their status;
    `surveys` lists the survey keys `ask survey` may name (unchecked when None); `memo`
    reuses what checking the same statements found before (see `CheckMemo`)."""
    ctx = _Context(schema, [], None if surveys is None else frozenset(surveys))
    clean: set[int] = set()
    names: dict[str, ast.Rule] = {}
    caps: list[ast.ResponseCap] = []
    for stmt in tree.statements:
        if isinstance(stmt, ast.Guard):
            if _replayed(ctx, memo, "guard", (stmt,), _clean_expr, ctx, stmt.condition):
                clean.add(id(stmt.condition))
        elif isinstance(stmt, ast.Limit):
            _whole(ctx, stmt.count, stmt.span, "a limit", 1, 1_000_000)
            _whole(ctx, stmt.period.amount, stmt.period.span, "a limit's period", 1, 100_000)
        elif isinstance(stmt, ast.ResponseCap):
            if caps:
                ctx.error(
                    "E207", f"`at most` is already set on line {caps[0].span.line}", stmt.span
                )
            caps.append(stmt)
            _whole(ctx, stmt.count, stmt.span, "`at most`", 1, 1000)
        else:
            if stmt.name in names:
                ctx.error(
                    "E204",
                    f'another rule is already called "{stmt.name[:60]}" (line {names[stmt.name].span.line})',
                    stmt.name_span,
                    hint="give each rule its own name; decisions and traces refer to rules by name",
                )
            else:
                names[stmt.name] = stmt
            clean |= _replayed(ctx, memo, "rule", (stmt,), _clean_rule, ctx, stmt, offers)
    if any(d.is_error for d in ctx.diagnostics):
        for expr in [g.condition for g in tree.guards] + [
            r.condition for r in tree.rules if r.condition
        ]:
            if id(expr) in clean:
                _replayed(
                    ctx,
                    memo,
                    "condition",
                    (expr,),
                    _check_contradiction,
                    ctx,
                    expr,
                    "this condition",
                )
        return ctx.diagnostics
    _check_logic(ctx, tree, memo)
    ctx.diagnostics.extend(
        unknown_tone_warnings(
            tree,
            schema,
            formula,
            None
            if memo is None
            else lambda node, work: _replayed(ctx, memo, "unknown", (node,), work),
        )
    )
    return ctx.diagnostics


def _clean_expr(ctx: _Context, expr: ast.Expr) -> bool:
    """Check an expression; whether it was clean (reported nothing)."""
    before = len(ctx.diagnostics)
    check_expr(ctx, expr)
    return len(ctx.diagnostics) == before


def _clean_rule(ctx: _Context, rule: ast.Rule, offers: Mapping[str, str | None] | None) -> set[int]:
    """Check a rule; the ids of its clean conditions."""
    clean: set[int] = set()
    _check_rule(ctx, rule, offers, clean)
    return clean


def _guard_logic(ctx: _Context, guard: ast.Guard) -> logic.Formula | None:
    """A guard's formula, or None (after W403) when it fires on every interaction."""
    f = _check_contradiction(ctx, guard.condition, "this guard")
    if logic.always(f):
        ctx.diagnostics.append(
            make(
                "W403",
                "this guard fires on every interaction, so no rule will ever make an immediate offer",
                guard.condition.span,
            )
        )
        return None
    return f


def _rule_logic(ctx: _Context, cond: ast.Expr) -> logic.Formula | None:
    """A rule condition's formula, or None when it can never hold (reported)."""
    before = len(ctx.diagnostics)
    f = _check_contradiction(ctx, cond, "this rule's condition")
    return None if len(ctx.diagnostics) > before else f


def _check_logic(ctx: _Context, tree: ast.Ruleset, memo: CheckMemo | None = None) -> None:
    schema = ctx.schema
    guard_formulas: list[tuple[ast.Guard, logic.Formula]] = []
    for guard in tree.guards:
        gf = _replayed(ctx, memo, "guard logic", (guard,), _guard_logic, ctx, guard)
        if gf is not None:
            guard_formulas.append((guard, gf))
    guards = tuple(g for g, _ in guard_formulas)
    rule_formulas: dict[int, logic.Formula] = {}
    for i, rule in enumerate(tree.rules):
        cond = rule.condition
        if cond is None:
            rule_formulas[i] = logic.Const(True, None)
            continue
        found = _replayed(ctx, memo, "rule logic", (cond,), _rule_logic, ctx, cond)
        if found is None:
            continue
        f = rule_formulas[i] = found
        if not rule.offers or not guard_formulas:
            continue
        _replayed(
            ctx,
            memo,
            "guarded",
            (rule, *guards),
            _check_guarded,
            ctx,
            rule,
            f,
            guard_formulas,
        )
    _check_shadowing(ctx, tree, rule_formulas, schema, memo)


def _any_guard(
    ctx: _Context, guard_formulas: list[tuple[ast.Guard, logic.Formula]]
) -> logic.Formula:
    """The formula "one of the guards fires", built once per check (so its normal form is
    worked out once too)."""
    if ctx.any_guard is None:
        ctx.any_guard = logic.OrF(tuple(gf for _, gf in guard_formulas))
    return ctx.any_guard


def _check_guarded(
    ctx: _Context,
    rule: ast.Rule,
    f: logic.Formula,
    guard_formulas: list[tuple[ast.Guard, logic.Formula]],
) -> None:
    """W400 when a guard fires whenever the rule matches."""
    firing = [g for g, gf in guard_formulas if ctx.implies(f, gf)]
    if not firing:
        if len(guard_formulas) > 1 and ctx.implies(f, _any_guard(ctx, guard_formulas)):
            firing = [g for g, _ in guard_formulas]
    if firing:
        lines = ", ".join(str(g.span.line) for g in firing)
        where = (
            f"the guard on line {lines} fires"
            if len(firing) == 1
            else f"one of the guards on lines {lines} fires"
        )
        ctx.diagnostics.append(
            make(
                "W400",
                f'the rule "{rule.name[:60]}" can never make its offer: whenever it matches, {where}',
                rule.name_span,
                hint="guards stop immediate offers; a follow-up would still be scheduled",
            )
        )


class _Resolver:
    """Field paths after aliases, worked out once per distinct path in a ruleset."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.known: dict[tuple[str, ...], str] = {}

    def __call__(self, path: ast.Path) -> str:
        found = self.known.get(path.segments)
        if found is None:
            spec = self.schema.lookup(path.dotted)
            found = self.known[path.segments] = spec.path if spec is not None else path.dotted
        return found


def _fields(expr: ast.Expr | None, resolve: _Resolver, out: set[str]) -> set[str]:
    """Every field a condition reads (after aliases)."""
    if isinstance(expr, ast.Compare):
        if isinstance(expr.left, ast.Path):
            out.add(resolve(expr.left))
        if isinstance(expr.right, ast.Path):
            out.add(resolve(expr.right))
    elif isinstance(expr, ast.And | ast.Or):
        for item in expr.items:
            _fields(item, resolve, out)
    elif isinstance(expr, ast.Not):
        _fields(expr.operand, resolve, out)
    return out


def _shadow_keys(rule: ast.Rule, resolve: _Resolver) -> tuple[frozenset[object], frozenset[object]]:
    """What a rule requires, for finding the rules that may shadow it.

    A rule `a` can shadow `b` only if `b` implies each of `a`'s tests, so `b` must test
    every field `a` tests, with the same text where `a` requires one by `is` or
    `contains` at the top of its condition. Returns (`a`'s key: its text requirements
    plus its other fields; what `b` offers: its text requirements plus all its fields).
    A tautological test (which the rule language has no reason to write) is the one way
    this misses a shadowed rule; the warning is advice, and the index keeps it linear.
    """
    cond = rule.condition
    items = cond.items if isinstance(cond, ast.And) else (cond,) if cond is not None else ()
    pairs: set[object] = set()
    keyed = set()
    for item in items:
        if (
            isinstance(item, ast.Compare)
            and item.op in ("is", "==", "contains")
            and isinstance(item.left, ast.Path)
            and isinstance(item.right, ast.Literal | ast.Symbol)
        ):
            value = _literal(item.right)
            if type(value) is str:
                field = resolve(item.left)
                pairs.add((field, "contains" if item.op == "contains" else "is", value))
                keyed.add(field)
    fields = _fields(cond, resolve, set())
    return frozenset(pairs | (fields - keyed)), frozenset(pairs | fields)


def _check_shadowing(
    ctx: _Context,
    tree: ast.Ruleset,
    formulas: dict[int, logic.Formula],
    schema: Schema,
    memo: CheckMemo | None = None,
) -> None:
    """Warn when a rule's offer is always claimed by a stronger rule offering the same key.

    Only rules with the same offer whose requirements fit (`_shadow_keys`) are compared,
    and at most `MAX_SHADOW_CHECKS` implications per ruleset plus 4 per rule are tested
    (and `MAX_SHADOW_CHECKS` plus 64 candidates per rule looked at): compile time stays
    linear in rules and the warning stays useful at any size. With a `memo`, the rules
    offering one key are compared again only when one of them changed.
    """
    rules = tree.rules
    by_offer: dict[str, list[int]] = defaultdict(list)
    for i, rule in enumerate(rules):
        for clause in rule.offers:
            by_offer[clause.key].append(i)
    left = _ShadowBudget(MAX_SHADOW_CHECKS + 4 * len(rules), MAX_SHADOW_CHECKS + 64 * len(rules))
    reported: set[int] = set()
    keys: dict[int, tuple[frozenset[object], frozenset[object]]] = {}
    resolve = _Resolver(schema)
    for key, members in by_offer.items():
        if len(members) < 2:
            continue
        # What a group finds depends on its rules (their order, formulas and what was
        # reported of them in an earlier group) and on the budget, when it runs out.
        nodes = tuple(rules[i] for i in members)
        state = (
            tuple(i in formulas for i in members),
            frozenset(n for n, i in enumerate(members) if i in reported),
        )
        found = memo.get("shadow " + key, nodes) if memo is not None else None
        if (
            found is not None
            and found[0] == state
            and found[1].checks < left.checks
            and found[1].visits < left.visits
        ):
            _state, used, positions, reports = found
            ctx.diagnostics.extend(reports)
            reported.update(members[n] for n in positions)
            left.checks -= used.checks
            left.visits -= used.visits
            continue
        before_checks, before_visits, before = left.checks, left.visits, len(ctx.diagnostics)
        was = set(reported)
        stopped = _shadow_group(ctx, key, members, rules, formulas, keys, resolve, reported, left)
        if stopped:
            return
        if memo is not None:
            used = _ShadowBudget(before_checks - left.checks, before_visits - left.visits)
            positions = tuple(n for n, i in enumerate(members) if i in reported and i not in was)
            memo.put(
                "shadow " + key,
                nodes,
                (state, used, positions, tuple(ctx.diagnostics[before:])),
            )


@dataclass
class _ShadowBudget:
    """Implication tests (`checks`) and candidates (`visits`) still allowed."""

    checks: int
    visits: int


def _shadow_group(
    ctx: _Context,
    key: str,
    members: list[int],
    rules: tuple[ast.Rule, ...],
    formulas: dict[int, logic.Formula],
    keys: dict[int, tuple[frozenset[object], frozenset[object]]],
    resolve: _Resolver,
    reported: set[int],
    left: _ShadowBudget,
) -> bool:
    """W401 among the rules offering `key`; True when the budget ran out."""
    for i in members:
        if i not in keys:
            keys[i] = _shadow_keys(rules[i], resolve)
    # Each rule is filed under its rarest requirement; a rule it could shadow has
    # that requirement too, so looking up each of a rule's own requirements finds
    # every candidate, and usually only a few.
    counts = Counter(item for i in members for item in keys[i][0])
    anchored: dict[object, list[int]] = defaultdict(list)
    for i in members:
        key_a = keys[i][0]
        anchor = min(key_a, key=lambda item: (counts[item], repr(item))) if key_a else None
        anchored[anchor].append(i)
    for b in members:
        if b in reported or b not in formulas:
            continue
        offered = keys[b][1]
        if len(offered) > MAX_SHADOW_FIELDS:
            continue
        # The candidates in rule order, merged lazily from the anchor lists (each
        # already in rule order); every one looked at counts against `visits`, so a
        # ruleset of thousands of look-alike rules stays linear too.
        for a in heapq.merge(*(anchored.get(item, ()) for item in (None, *offered))):
            left.visits -= 1
            if left.visits <= 0:
                return True
            if (
                not keys[a][0] <= offered
                or a == b
                or a not in formulas
                or not _outranks(rules[a], a, rules[b], b)
                or _rollout(rules[a], key) is not None
            ):
                continue
            if left.checks <= 0:
                return True
            left.checks -= 1
            if ctx.implies(formulas[b], formulas[a]):
                ctx.diagnostics.append(
                    make(
                        "W401",
                        f'the rule "{rules[b].name[:60]}" is shadowed: whenever it matches, the rule "{rules[a].name[:60]}" (line {rules[a].span.line}) also offers `{key}` and ranks higher',
                        rules[b].name_span,
                        hint="raise this rule's priority, narrow the other rule, or remove this one",
                    )
                )
                reported.add(b)
                break
    return False


def _rollout(rule: ast.Rule, key: str) -> float | None:
    for clause in rule.offers:
        if clause.key == key:
            return clause.percent
    return None


def _outranks(a: ast.Rule, ai: int, b: ast.Rule, bi: int) -> bool:
    return (a.priority, -ai) > (b.priority, -bi)


def check_expression_ast(expr: ast.Expr, schema: Schema) -> list[Diagnostic]:
    """Every diagnostic for an eligibility expression."""
    ctx = _Context(schema, [])
    check_expr(ctx, expr)
    if not any(d.is_error for d in ctx.diagnostics):
        _check_contradiction(ctx, expr, "this condition")
    return ctx.diagnostics
