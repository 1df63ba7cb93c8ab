"""The rule language: when to offer, written by the service team.

A ruleset source goes through parse (Lark LALR) -> typed AST -> checker ->
portable JSON IR (what bundles carry) -> generated Python at load time. The same
expression language and checker serve offers' eligibility. This module is the
facade the studio, the preview and the downstream SDK use; see docs/rules.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dsl.checker import check_expression_ast, check_ruleset
from dsl.compiler import compile_expression
from dsl.compiler import compile_ruleset as _compile_ruleset
from dsl.diagnostics import CODES, Diagnostic, DSLError, render_excerpt, sort_key
from dsl.formatter import format_source
from dsl.gc_pause import gc_paused as _gc_paused
from dsl.offers import OfferInfo
from dsl.parser import parse_expression, parse_ruleset
from dsl.recovery import STOPPING_CODES, recover_ruleset
from dsl.runtime import Ruleset, load_ruleset
from dsl.schema import Schema, default_schema, validate_interaction

__all__ = [
    "CODES",
    "CompileResult",
    "Diagnostic",
    "DSLError",
    "OfferInfo",
    "Ruleset",
    "Schema",
    "check_expression",
    "compile_ruleset",
    "default_schema",
    "format_source",
    "load_ruleset",
    "render_excerpt",
    "validate_interaction",
]


@dataclass(frozen=True)
class CompileResult:
    """Diagnostics, sorted by position, and the IR when there are no errors."""

    ok: bool
    diagnostics: tuple[Diagnostic, ...] = ()
    ir: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if not d.is_error)


def _offer_statuses(
    offers: Mapping[str, OfferInfo] | Iterable[str] | None,
) -> dict[str, str | None] | None:
    if offers is None:
        return None
    if isinstance(offers, Mapping):
        return {key: getattr(info, "status", None) for key, info in offers.items()}
    return {key: None for key in offers}


def _result(diagnostics: list[Diagnostic], ir: dict[str, Any] | None) -> CompileResult:
    ordered = tuple(sorted(diagnostics, key=sort_key))
    ok = not any(d.is_error for d in ordered)
    return CompileResult(ok, ordered, ir if ok else None)


def compile_ruleset(
    source: str,
    *,
    schema: Schema | None = None,
    offers: Mapping[str, OfferInfo] | Iterable[str] | None = None,
    name: str = "ruleset",
    surveys: Iterable[str] | None = None,
) -> CompileResult:
    """Parse, check and compile a ruleset. Never raises for any `source` text.

    `offers` lists the offer keys rules may name (a mapping to `OfferInfo` also
    reports inactive offers); without it, offer keys are not checked. `surveys` lists
    the survey keys `ask survey` may name, checked the same way.
    """
    if not isinstance(source, str):
        raise TypeError("source must be a str")
    with _gc_paused():
        return _compile(
            source,
            schema or default_schema(),
            offers,
            name,
            None if surveys is None else tuple(surveys),
        )


def _compile(
    source: str,
    schema: Schema,
    offers: Mapping[str, OfferInfo] | Iterable[str] | None,
    name: str,
    surveys: tuple[str, ...] | None = None,
) -> CompileResult:
    tree, diagnostics = parse_ruleset(source)
    if tree is None:
        if not any(d.code in STOPPING_CODES for d in diagnostics):
            return _result(diagnostics, None)
        # Keep reading after a syntax error, and check what did parse, so an author
        # sees every problem at once; the result is never compiled.
        recovered = recover_ruleset(source)
        checked = check_ruleset(recovered.ruleset, schema, _offer_statuses(offers), surveys)
        return _result(list(dict.fromkeys([*diagnostics, *recovered.diagnostics, *checked])), None)
    diagnostics = diagnostics + check_ruleset(tree, schema, _offer_statuses(offers), surveys)
    if any(d.is_error for d in diagnostics):
        return _result(diagnostics, None)
    return _result(diagnostics, _compile_ruleset(tree, schema, name))


def check_expression(source: str, *, schema: Schema | None = None) -> CompileResult:
    """Parse, check and compile an eligibility expression such as `customer.authenticated`."""
    if not isinstance(source, str):
        raise TypeError("source must be a str")
    schema = schema or default_schema()
    expr, diagnostics = parse_expression(source)
    if expr is None:
        return _result(diagnostics, None)
    diagnostics = diagnostics + check_expression_ast(expr, schema)
    if any(d.is_error for d in diagnostics):
        return _result(diagnostics, None)
    return _result(diagnostics, compile_expression(expr, schema, source))
