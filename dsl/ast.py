"""Typed syntax tree of a ruleset or an eligibility expression.

Nodes are frozen dataclasses. Source positions (`span`) and comments are excluded
from equality, so two sources that differ only in layout parse to equal trees; the
formatter's round-trip property (parse(format(x)) == parse(x)) rests on that.
`and` / `or` chains are flattened, so redundant parentheses leave no trace either.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal as TypingLiteral

from dsl.diagnostics import NO_SPAN, Span

LiteralKind = TypingLiteral["string", "number", "boolean"]
Unit = TypingLiteral["hour", "day", "week"]

#: Comparison operators as they are spelt in source.
COMPARE_OPS = ("==", "!=", "<", "<=", ">", ">=")
#: Operators that take a value or list on the right rather than an operand.
VALUE_OPS = ("is", "is not", "in", "not in", "contains")


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Path:
    """A field reference such as `customer.tier` or `data.refill.savings_pct`."""

    segments: tuple[str, ...]
    span: Span = _span()

    @property
    def dotted(self) -> str:
        return ".".join(self.segments)


@dataclass(frozen=True, slots=True)
class Literal:
    """A quoted string, a number or `true` / `false`."""

    value: str | int | float | bool
    kind: LiteralKind
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Symbol:
    """A bare word on the right of `is` or in a list: resolved against an enum."""

    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ListValue:
    """`["NY", "NJ"]` on the right of `in` / `not in`."""

    items: tuple[Literal | Symbol, ...]
    span: Span = _span()


Operand = Path | Literal
Value = Literal | Symbol


@dataclass(frozen=True, slots=True)
class Compare:
    """One test: `left op right`.

    `op` is one of `is`, `is not`, `in`, `not in`, `contains`, the symbolic
    comparisons, or `truthy` (a bare boolean field, `right` is None).
    """

    op: str
    left: Operand
    right: Operand | Value | ListValue | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]
    span: Span = _span()


Expr = Compare | Not | And | Or


@dataclass(frozen=True, slots=True)
class Duration:
    amount: int | float
    unit: Unit
    span: Span = _span()

    @property
    def days(self) -> float:
        return self.amount * {"hour": 1 / 24, "day": 1, "week": 7}[self.unit]


@dataclass(frozen=True, slots=True)
class Guard:
    """`never offer when ...`: stops every immediate offer when it holds."""

    condition: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Limit:
    """`limit offers to N per customer per D days`: a frequency cap."""

    count: int | float
    period: Duration
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ResponseCap:
    """`at most N offer(s) per response`."""

    count: int | float
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class When:
    condition: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class OfferClause:
    """`offer KEY [to P% of customers]`."""

    key: str
    percent: int | float | None = None
    span: Span = _span()
    key_span: Span = _span()
    percent_span: Span = _span()


@dataclass(frozen=True, slots=True)
class Gate:
    """`then offer KEY when resolution is confirmed [or not reopened | ] within D days`.

    The offer waits for the customer's reply on the same inquiry thread: a reply whose
    resolution is confirmed releases it; with `infer`, so does a `window` that passes
    without the inquiry being reopened. `window` None means the default expiry.
    """

    key: str
    window: Duration | None = None
    infer: bool = False
    span: Span = _span()
    key_span: Span = _span()


#: How long a gated offer written without `within` waits for the customer's confirmation.
DEFAULT_GATE_WINDOW = Duration(30, "day")


@dataclass(frozen=True, slots=True)
class FollowUp:
    """`follow up after D days with [offer] KEY [then offer KEY when ...]`."""

    key: str
    after: Duration
    offer_keyword: bool = True
    gate: Gate | None = None
    span: Span = _span()
    key_span: Span = _span()


@dataclass(frozen=True, slots=True)
class Priority:
    value: int | float
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class AskSurvey:
    """`ask survey KEY [to P% of customers]`: a narrow-cast survey marketing published."""

    key: str
    percent: int | float | None = None
    span: Span = _span()
    key_span: Span = _span()
    percent_span: Span = _span()


Clause = When | OfferClause | FollowUp | Priority | AskSurvey


@dataclass(frozen=True, slots=True)
class Rule:
    """`rule "name"` and its clauses, in source order."""

    name: str
    clauses: tuple[Clause, ...]
    span: Span = _span()
    name_span: Span = _span()

    @property
    def condition(self) -> Expr | None:
        for clause in self.clauses:
            if isinstance(clause, When):
                return clause.condition
        return None

    @property
    def priority(self) -> int | float:
        for clause in self.clauses:
            if isinstance(clause, Priority):
                return clause.value
        return 0

    @property
    def offers(self) -> tuple[OfferClause, ...]:
        return tuple(c for c in self.clauses if isinstance(c, OfferClause))

    @property
    def follow_ups(self) -> tuple[FollowUp, ...]:
        return tuple(c for c in self.clauses if isinstance(c, FollowUp))

    @property
    def surveys(self) -> tuple[AskSurvey, ...]:
        return tuple(c for c in self.clauses if isinstance(c, AskSurvey))


Statement = Guard | Limit | ResponseCap | Rule


@dataclass(frozen=True, slots=True)
class Comment:
    """A `# ...` comment, kept aside for the formatter."""

    text: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Ruleset:
    statements: tuple[Statement, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False, repr=False)
    blank_lines: frozenset[int] = field(default=frozenset(), compare=False, repr=False)

    @property
    def guards(self) -> tuple[Guard, ...]:
        return tuple(s for s in self.statements if isinstance(s, Guard))

    @property
    def limits(self) -> tuple[Limit, ...]:
        return tuple(s for s in self.statements if isinstance(s, Limit))

    @property
    def caps(self) -> tuple[ResponseCap, ...]:
        return tuple(s for s in self.statements if isinstance(s, ResponseCap))

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(s for s in self.statements if isinstance(s, Rule))


def walk(expr: Expr) -> Iterator[Compare]:
    """Every comparison in an expression, left to right."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Compare):
            yield node
        elif isinstance(node, Not):
            stack.append(node.operand)
        else:
            stack.extend(reversed(node.items))
