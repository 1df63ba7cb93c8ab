"""Diagnostics of a source being typed: the answer `compile_ruleset` gives, reusing
the work done for the statements that did not change since the last keystroke.

An editor asks after every pause in typing, and a keystroke changes one statement.
`LiveSource` splits the source into statements (the same split as error recovery,
`dsl.recovery.statement_chunks`), remembers each statement's parse by its text and
first line (so positions stay exact), and checks with a `CheckMemo`, which finds the
per-statement results again by the identity of those remembered nodes. What crosses
statements (duplicate names, guards against rules, shadowing) is worked out again
each time from the remembered pieces.

The answer is the same as `compile_ruleset`'s (a property test holds it to that):
- a source with carriage returns or a byte order mark, or one longer than
  `LIVE_MAX_CHARS`, is simply compiled;
- when every statement parses, the whole-file prescan (invisible characters, nesting
  depth) has nothing to say either: each statement passed its own, and a parsed
  statement closes what it opens; otherwise a source the prescan refuses is compiled;
- when a statement has a syntax error, the whole-file parse would have stopped at the
  first such statement (the ones before it parse, and a statement boundary leaves the
  parser where it started), so only the text from there on is parsed for that first
  error, then the remembered statements are recovered and checked as
  `compile_ruleset` does.
`check` builds no compiled form (IR): the editor needs diagnostics. `compile` gives
`compile_ruleset`'s whole answer, IR included, built from the remembered statements, for
a preview that follows the text being typed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dsl import CompileResult, _offer_statuses, ast, compile_ruleset
from dsl.checker import CheckMemo, check_ruleset
from dsl.compiler import compile_ruleset as compile_tree
from dsl.diagnostics import Diagnostic, sort_key
from dsl.gc_pause import gc_paused
from dsl.offers import OfferInfo
from dsl.parser import MAX_TOKENS, _prescan, parse_statements
from dsl.recovery import STOPPING_CODES, parse_chunk, statement_chunks
from dsl.schema import Schema

_Parsed = tuple[ast.Ruleset | None, tuple[Diagnostic, ...], bool]  # tree, errors, broken

#: Longest source checked statement by statement; a longer one is compiled whole (and
#: nothing of it is kept). Below `MAX_TOKENS`, so the whole-file token cap can never
#: apply to a source checked in pieces; and it bounds what a memo holds.
LIVE_MAX_CHARS = 1_000_000
assert LIVE_MAX_CHARS <= MAX_TOKENS


@dataclass(frozen=True)
class LiveResult:
    """Diagnostics in `compile_ruleset`'s order; `rules` counts the rules when `ok`, and
    `rule_lines` gives each rule's line by name (then too)."""

    ok: bool
    diagnostics: tuple[Diagnostic, ...]
    rules: int
    rule_lines: Mapping[str, int] = field(default_factory=dict)


class LiveSource:
    """One edited source's memo: call `check` with each new version of the text.

    Valid for one schema, offer catalogue and survey list; the caller keeps one per
    (document, schema, offers, surveys). Thread-safe: checks of one memo take turns.
    """

    def __init__(
        self,
        schema: Schema,
        offers: Mapping[str, OfferInfo] | Iterable[str] | None,
        surveys: Iterable[str] | None,
    ) -> None:
        self.schema = schema
        self.catalog = offers
        self.offers = _offer_statuses(offers)
        self.surveys = None if surveys is None else tuple(surveys)
        self._old: dict[tuple[int, str], _Parsed] = {}
        self._new: dict[tuple[int, str], _Parsed] = {}
        self._memo = CheckMemo()
        self._lock = threading.Lock()
        #: What the last `_check` built besides its answer: the statements, when they all
        #: parsed, or the whole compile of a source checked whole.
        self._tree: ast.Ruleset | None = None
        self._whole: CompileResult | None = None

    def check(self, source: str) -> LiveResult:
        with self._lock, gc_paused():
            try:
                return self._check(source)
            finally:
                self._turn()

    def compile(self, source: str, name: str = "ruleset") -> CompileResult:
        """What `compile_ruleset(source, ..., name=name)` answers, IR included."""
        with self._lock, gc_paused():
            try:
                found = self._check(source)
                whole = self._whole
                if whole is not None:
                    ir = None if whole.ir is None else {**whole.ir, "name": name}
                    return CompileResult(whole.ok, whole.diagnostics, ir)
                if not found.ok or self._tree is None:
                    return CompileResult(found.ok, found.diagnostics, None)
                return CompileResult(
                    True, found.diagnostics, compile_tree(self._tree, self.schema, name)
                )
            finally:
                self._turn()

    def _turn(self) -> None:
        self._old, self._new = self._new, {}
        self._memo.turn()
        self._tree = self._whole = None

    def _parse(self, first_line: int, text: str) -> _Parsed:
        key = (first_line, text)
        found = self._new.get(key) or self._old.get(key)
        if found is None:
            tree, diagnostics, broken = parse_chunk(text, first_line)
            found = (tree, tuple(diagnostics), broken)
        self._new[key] = found
        return found

    def _check(self, source: str) -> LiveResult:
        if len(source) > LIVE_MAX_CHARS or "\r" in source or source.startswith("\ufeff"):
            return self._compiled(source)
        statements: list[ast.Statement] = []
        comments: list[ast.Comment] = []
        recovered: list[Diagnostic] = []
        first_failed: tuple[int, int] | None = None
        offset = 0
        for first_line, text in statement_chunks(source):
            start, offset = offset, offset + len(text)
            if not text.strip():
                continue
            tree, found, broken = self._parse(first_line, text)
            recovered.extend(found)
            if broken and first_failed is None:
                first_failed = (first_line, start)
            if tree is None:
                continue
            statements.extend(tree.statements)
            comments.extend(tree.comments)
        ruleset = ast.Ruleset(tuple(statements), tuple(comments))
        if first_failed is None:
            diagnostics = [*recovered, *self._checked(ruleset)]
            ok = not any(d.is_error for d in diagnostics)
            self._tree = ruleset if ok else None
            lines = {r.name: r.span.line for r in ruleset.rules} if ok else {}
            return _live(diagnostics, len(ruleset.rules) if ok else 0, lines)
        if _prescan(source):
            return self._compiled(source)
        line, start = first_failed
        _tree, first = parse_statements(source[start:], line)
        if not any(d.code in STOPPING_CODES for d in first):
            return _live(first, 0)
        return _live(list(dict.fromkeys([*first, *recovered, *self._checked(ruleset)])), 0)

    def _compiled(self, source: str) -> LiveResult:
        result = compile_ruleset(
            source, schema=self.schema, offers=self.catalog, surveys=self.surveys
        )
        self._whole = result
        rules = result.ir.get("rules", []) if result.ir else []
        lines = {str(r.get("name")): int(r.get("line") or 0) for r in rules}
        return LiveResult(result.ok, result.diagnostics, len(rules), lines)

    def _checked(self, ruleset: ast.Ruleset) -> list[Diagnostic]:
        return check_ruleset(ruleset, self.schema, self.offers, self.surveys, memo=self._memo)


def _live(
    diagnostics: list[Diagnostic], rules: int, rule_lines: Mapping[str, int] | None = None
) -> LiveResult:
    ordered = tuple(sorted(diagnostics, key=sort_key))
    ok = not any(d.is_error for d in ordered)
    return LiveResult(ok, ordered, rules if ok else 0, (rule_lines or {}) if ok else {})
