"""Source text -> typed AST, or diagnostics.

The grammar lives in `grammar.lark` and is parsed with Lark's LALR(1) tables. Tokens
come from a small scanner built from the grammar's own terminal patterns: one
compiled regular expression, with keywords looked up in a table, is several times
faster than Lark's contextual lexer, which matters for 50,000-rule files. The tables
are driven by `dsl.lalr`, the one module that reads Lark's private attributes (see
there why, and how a Lark upgrade is caught).

Hostile input is handled before Lark sees it: the source is capped in size and token
count, control and bidi characters are refused, and nesting depth is counted up front
so neither Lark's tree building nor the recursive passes after it can run out of
stack. Every failure becomes a `Diagnostic`: parsing returns them, it never raises.
"""

from __future__ import annotations

import gc
import itertools
import math
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final, TypeVar

from lark import Lark, Transformer
from lark.lexer import Lexer

from dsl import ast, lalr
from dsl.diagnostics import NO_SPAN, Diagnostic, Span, make, quote

#: Largest source accepted, in characters (a 50,000-rule file is about 8 MB).
MAX_SOURCE_CHARS = 16_000_000
#: Most tokens accepted (a 50,000-rule file has about 1.2 million). Parsing and
#: checking are linear in tokens, so this bounds compile time on any input.
MAX_TOKENS = 2_000_000
#: Deepest nesting of parentheses and `not` accepted.
MAX_DEPTH = 64
#: Largest magnitude a number literal may have.
MAX_NUMBER = 1e15

_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)
_FORBIDDEN_NAMES = {
    "\x00": "a NUL byte",
    "\u202e": "a right-to-left override (bidi control)",
    "\u202d": "a left-to-right override (bidi control)",
    "\u202a": "a left-to-right embedding (bidi control)",
    "\u202b": "a right-to-left embedding (bidi control)",
    "\u202c": "a bidi pop (bidi control)",
    "\u2066": "a bidi isolate (bidi control)",
    "\u2067": "a bidi isolate (bidi control)",
    "\u2068": "a bidi isolate (bidi control)",
    "\u2069": "a bidi isolate (bidi control)",
    "\u200b": "a zero-width space",
    "\ufeff": "a zero-width no-break space",
}
# A quoted text left open runs to the end of its line (as the parser reports it, E102):
# matched only when closed, an open quote was searched to the end of the line again
# from every quote in it, so a line of 100,000 `"\` took minutes.
_NESTING = re.compile(
    r"\"[^\"\\\n]*(?:\\.[^\"\\\n]*)*(?:\"|\\?(?=\n|\Z))"
    r"|'[^'\\\n]*(?:\\.[^'\\\n]*)*(?:'|\\?(?=\n|\Z))"
    r"|#[^\n]*|[()\[\]]|[A-Za-z0-9_.-]+"
)
_ESCAPES = {
    '"': '"',
    "'": "'",
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|.)", re.DOTALL)

#: Plain words for the grammar's terminals, used in "expected ..." messages.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": "a quoted text",
    "NUMBER": "a number",
    "COMPARE": "a comparison such as `<`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "COMMA": "`,`",
    "DOT": "`.`",
    "PERCENT": "`%`",
    "UNIT": "`days`, `hours` or `weeks`",
    "$END": "the end of the file",
}


_MOST = re.compile(r"[ \t\n]+most(?![A-Za-z0-9_.-])")


#: A token is a plain tuple: (type, text, line, column, end_column). Lark's LALR
#: tables only need the type, and tuples are the cheapest thing Python can build.
_Tok = tuple[str, str, int, int, int]
_TYPE: Final = 0  # Final, so that token[TEXT] is known to be a str and token[LINE] an int
TEXT: Final = 1
LINE: Final = 2
COLUMN: Final = 3
END_COLUMN: Final = 4
_Chained = TypeVar("_Chained", ast.And, ast.Or)


class _ScanError(Exception):
    """Raised by the scanner; turned into a diagnostic by `_parse`."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


@cache
def _grammar() -> str:
    return Path(__file__).with_name("grammar.lark").read_text(encoding="utf-8")


class _Scanner(Lexer):
    """One-regex scanner over the grammar's terminals (see module docstring)."""

    def __init__(self, lexer_conf: Any) -> None:
        keywords: dict[str, str] = {}
        patterns: dict[str, str] = {}
        for term in lexer_conf.terminals:
            if term.pattern.type == "str" and re.fullmatch(r"[a-z]+", term.pattern.value):
                keywords[term.pattern.value] = term.name
            elif term.name == "UNIT":
                for word in re.findall(r"[a-z]+", term.pattern.value):
                    keywords[word] = "UNIT"
            else:
                patterns[term.name] = term.pattern.to_regexp()
        order = ("WS", "COMMENT", "STRING", "NUMBER", "NAME", "COMPARE")
        parts = [f"(?P<{name}>{patterns[name]})" for name in order]
        singles = {v: k for k, v in patterns.items() if k not in order}
        parts.append(
            "(?P<PUNCT>[" + re.escape("".join(re.sub(r"\\", "", s) for s in singles)) + "])"
        )
        parts.append("(?P<ERROR>.)")
        self.master = re.compile("|".join(parts), re.DOTALL)
        self.keywords = keywords
        self.punct = {re.sub(r"\\", "", v): k for v, k in singles.items()}
        self.comments: list[ast.Comment] = []
        self.blank_lines: list[int] = []

    def fresh(self) -> _Scanner:
        """A scanner sharing this one's compiled tables, with empty comment lists."""
        clone = object.__new__(_Scanner)
        clone.master, clone.keywords, clone.punct = self.master, self.keywords, self.punct
        clone.comments, clone.blank_lines = [], []
        return clone

    def lex(self, data: str, first_line: int = 1) -> Iterator[_Tok]:  # type: ignore[override]  # plain tuples, not Lark Tokens (see module docstring)
        keywords = self.keywords
        punct = self.punct
        comments = self.comments
        blank_lines = self.blank_lines
        most = _MOST.match
        line = first_line
        line_start = 0
        count = 0
        previous = ""
        for m in self.master.finditer(data):
            kind: str = m.lastgroup  # type: ignore[assignment]  # every alternative of `master` is a named group
            if kind == "WS":
                text = m.group()
                newlines = text.count("\n")
                if newlines:
                    if newlines > 1:
                        blank_lines.append(line + 1)
                        blank_lines.append(line + newlines - 1)
                    line += newlines
                    line_start = m.start() + text.rindex("\n") + 1
                continue
            pos = m.start()
            column = pos - line_start + 1
            text = m.group()
            if kind == "NAME":
                kind = keywords.get(text, "NAME")
                if kind == "AT" and not most(data, m.end()):
                    kind = "NAME"
                elif kind == "CUSTOMER" and previous != "PER":
                    kind = "NAME"
            elif kind == "PUNCT":
                kind = punct[text]
            elif kind == "COMMENT":
                comments.append(ast.Comment(text, line, column))
                continue
            elif kind == "ERROR":
                raise _ScanError(_bad_character(data, pos, line, column))
            count += 1
            if count > MAX_TOKENS:
                raise _ScanError(
                    make(
                        "E103",
                        f"this source has more than {MAX_TOKENS:,} words and symbols, too many to check",
                        Span(line, column, line, column + 1),
                        hint="split it into several rulesets",
                    )
                )
            previous = kind
            yield (kind, text, line, column, column + len(text))


def _bad_character(data: str, pos: int, line: int, column: int) -> Diagnostic:
    ch = data[pos]
    span = Span(line, column, line, column + 1)
    if ch in "\"'":
        return make(
            "E102",
            "this text is missing its closing quote",
            span,
            hint=f"close it with {ch} on the same line",
        )
    if ch == "-":
        return make("E101", "a `-` must be followed by a number here", span)
    shown = ch if ch.isprintable() else f"U+{ord(ch):04X}"
    hint = None
    if ch in "“”‘’":
        hint = 'use straight quotes: "like this"'
    elif ch == "=":
        hint = "write `is` or `==` to compare"
    elif ch in "&|!":
        hint = "write `and`, `or` and `not`"
    return make("E101", f"the character `{shown}` is not allowed here", span, hint=hint)


@dataclass(frozen=True)
class _Rollout:
    percent: int | float
    span: Span


class _ParseState(threading.local):
    """Per-thread diagnostics of the parse in progress (Lark's callbacks are shared)."""

    diagnostics: list[Diagnostic]

    def __init__(self) -> None:
        self.diagnostics = []


_state = _ParseState()


class _AstBuilder(Transformer[_Tok, object]):
    """Lark callbacks building `dsl.ast` nodes while the LALR parser reduces.

    One instance is bound into the cached Lark parser; anything a parse reports goes
    to the thread-local `_state`, so concurrent parses never mix diagnostics.
    """

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return _state.diagnostics

    # Positions -------------------------------------------------------------

    @staticmethod
    def _span(node: Any) -> Span:
        if type(node) is tuple:
            return Span(node[LINE], node[COLUMN], node[LINE], node[END_COLUMN])
        span: Span = node.span
        return span

    def _join(self, first: Any, last: Any) -> Span:
        return self._span(first).to(self._span(last))

    # Literals --------------------------------------------------------------

    def _number(self, token: _Tok) -> int | float:
        text = token[TEXT]
        span = self._span(token)
        if len(text) > 40:
            self.diagnostics.append(make("E106", "this number is too long", span))
            return 0
        value: int | float
        value = float(text) if any(c in text for c in ".eE") else int(text)
        if not math.isfinite(value) or abs(value) > MAX_NUMBER:
            self.diagnostics.append(
                make(
                    "E106",
                    f"the number {quote(text)} is out of range",
                    span,
                    hint=f"numbers must lie between -{MAX_NUMBER:,.0f} and {MAX_NUMBER:,.0f}",
                )
            )
            return 0
        return value

    def _string(self, token: _Tok) -> str:
        body = token[TEXT][1:-1]
        if "\\" not in body:
            return body
        span = self._span(token)

        def unescape(m: re.Match[str]) -> str:
            seq = m.group(1)
            if seq[0] == "u" and len(seq) == 5:
                ch = chr(int(seq[1:], 16))
                if 0xD800 <= ord(ch) <= 0xDFFF:
                    self.diagnostics.append(
                        make("E107", f"{quote(m.group())} is half of a surrogate pair", span)
                    )
                    return "?"
                return ch
            if seq in _ESCAPES:
                return _ESCAPES[seq]
            self.diagnostics.append(
                make(
                    "E107",
                    f"{quote(m.group())} is not a known escape",
                    span,
                    hint='write \\\\ for a backslash, \\" for a quote, \\n for a new line',
                )
            )
            return seq

        return _ESCAPE.sub(unescape, body)

    def string(self, children: list[Any]) -> ast.Literal:
        (tok,) = children
        return ast.Literal(self._string(tok), "string", span=self._span(tok))

    def number(self, children: list[Any]) -> ast.Literal:
        (tok,) = children
        return ast.Literal(self._number(tok), "number", span=self._span(tok))

    def true(self, children: list[Any]) -> ast.Literal:
        return ast.Literal(True, "boolean", span=self._span(children[0]))

    def false(self, children: list[Any]) -> ast.Literal:
        return ast.Literal(False, "boolean", span=self._span(children[0]))

    def symbol(self, children: list[Any]) -> ast.Symbol:
        (tok,) = children
        return ast.Symbol(tok[TEXT], span=self._span(tok))

    def path(self, children: list[Any]) -> ast.Path:
        (tok,) = children
        return ast.Path(tuple(tok[TEXT].split(".")), span=self._span(tok))

    def list_value(self, children: list[Any]) -> ast.ListValue:
        items = tuple(c for c in children if type(c) is not tuple)
        return ast.ListValue(items, span=self._join(children[0], children[-1]))

    def key(self, children: list[Any]) -> _Tok:
        tok: _Tok = children[0]
        return tok

    # Expressions -----------------------------------------------------------

    def _compare(self, op: str, children: list[Any], right: Any) -> ast.Compare:
        return ast.Compare(op, children[0], right, span=self._join(children[0], children[-1]))

    def is_(self, children: list[Any]) -> ast.Compare:
        return self._compare("is", children, children[2])

    def is_not(self, children: list[Any]) -> ast.Compare:
        return self._compare("is not", children, children[3])

    def in_(self, children: list[Any]) -> ast.Compare:
        return self._compare("in", children, children[2])

    def not_in(self, children: list[Any]) -> ast.Compare:
        return self._compare("not in", children, children[3])

    def contains(self, children: list[Any]) -> ast.Compare:
        return self._compare("contains", children, children[2])

    def compare(self, children: list[Any]) -> ast.Compare:
        return self._compare(children[1][TEXT], children, children[2])

    def truthy(self, children: list[Any]) -> ast.Compare:
        return self._compare("truthy", children, None)

    def group(self, children: list[Any]) -> ast.Expr:
        inner: ast.Expr = children[1]
        return inner

    def negation(self, children: list[Any]) -> ast.Not:
        return ast.Not(children[1], span=self._join(children[0], children[1]))

    def _chain(self, cls: type[_Chained], children: list[Any]) -> _Chained:
        items: list[ast.Expr] = []
        for child in children:
            if type(child) is tuple:
                continue
            if isinstance(child, cls):
                items.extend(child.items)
            else:
                items.append(child)
        return cls(tuple(items), span=self._join(children[0], children[-1]))

    def and_expr(self, children: list[Any]) -> ast.And:
        return self._chain(ast.And, children)

    def or_expr(self, children: list[Any]) -> ast.Or:
        return self._chain(ast.Or, children)

    # Statements ------------------------------------------------------------

    def _duration(self, amount: _Tok, unit: _Tok) -> ast.Duration:
        word = unit[TEXT].rstrip("s")
        return ast.Duration(self._number(amount), word, span=self._join(amount, unit))  # type: ignore[arg-type]  # the grammar's UNIT is hour(s), day(s) or week(s)

    def guard(self, children: list[Any]) -> ast.Guard:
        return ast.Guard(children[3], span=self._join(children[0], children[-1]))

    def limit(self, children: list[Any]) -> ast.Limit:
        count = self._number(children[3])
        period = self._duration(children[7], children[8])
        return ast.Limit(count, period, span=self._join(children[0], children[-1]))

    def cap(self, children: list[Any]) -> ast.ResponseCap:
        return ast.ResponseCap(
            self._number(children[2]), span=self._join(children[0], children[-1])
        )

    def rule(self, children: list[Any]) -> ast.Rule:
        name_tok = children[1]
        return ast.Rule(
            self._string(name_tok),
            tuple(children[2:]),
            span=self._join(children[0], children[-1]),
            name_span=self._span(name_tok),
        )

    def when_clause(self, children: list[Any]) -> ast.When:
        return ast.When(children[1], span=self._join(children[0], children[1]))

    def rollout(self, children: list[Any]) -> _Rollout:
        return _Rollout(self._number(children[1]), self._join(children[1], children[2]))

    def offer_clause(self, children: list[Any]) -> ast.OfferClause:
        key = children[1]
        rollout = children[2] if len(children) > 2 else None
        return ast.OfferClause(
            key[TEXT],
            rollout.percent if rollout else None,
            span=self._span(children[0]).to(rollout.span if rollout else self._span(key)),
            key_span=self._span(key),
            percent_span=rollout.span if rollout else NO_SPAN,
        )

    def follow_clause(self, children: list[Any]) -> ast.FollowUp:
        gate = children[-1] if isinstance(children[-1], ast.Gate) else None
        if gate is not None:
            children = children[:-1]
        key = children[-1]
        return ast.FollowUp(
            key[TEXT],
            self._duration(children[3], children[4]),
            offer_keyword=len(children) == 8,
            gate=gate,
            span=self._join(children[0], gate if gate is not None else key),
            key_span=self._span(key),
        )

    def _gate_word(self, token: _Tok, word: str) -> None:
        if token[TEXT] != word:
            self.diagnostics.append(
                make(
                    "E100",
                    f"unexpected {quote(token[TEXT])}: expected `{word}`",
                    self._span(token),
                    hint="a gated offer reads `then offer KEY when resolution is confirmed`, "
                    "optionally followed by `or not reopened within N days`",
                )
            )

    def gate(self, children: list[Any]) -> ast.Gate:
        if children[0][_TYPE] == "COMMA":
            children = children[1:]
        key, subject, state = children[2], children[4], children[6]
        self._gate_word(subject, "resolution")
        self._gate_word(state, "confirmed")
        window: tuple[ast.Duration, bool] | None = children[7] if len(children) > 7 else None
        last = window[0] if window is not None else state
        return ast.Gate(
            key[TEXT],
            window[0] if window is not None else None,
            window[1] if window is not None else False,
            span=self._join(children[0], last),
            key_span=self._span(key),
        )

    def inferred_window(self, children: list[Any]) -> tuple[ast.Duration, bool]:
        self._gate_word(children[2], "reopened")
        return self._duration(children[4], children[5]), True

    def expiry_window(self, children: list[Any]) -> tuple[ast.Duration, bool]:
        return self._duration(children[1], children[2]), False

    def ask_clause(self, children: list[Any]) -> ast.AskSurvey:
        key = children[2]
        rollout = children[3] if len(children) > 3 else None
        return ast.AskSurvey(
            key[TEXT],
            rollout.percent if rollout else None,
            span=self._span(children[0]).to(rollout.span if rollout else self._span(key)),
            key_span=self._span(key),
            percent_span=rollout.span if rollout else NO_SPAN,
        )

    def priority_clause(self, children: list[Any]) -> ast.Priority:
        return ast.Priority(self._number(children[1]), span=self._join(children[0], children[1]))

    def start(self, children: list[Any]) -> tuple[ast.Statement, ...]:
        return tuple(children)

    def expression_start(self, children: list[Any]) -> ast.Expr:
        expr: ast.Expr = children[0]
        return expr


@cache
def _lark() -> Lark:
    return Lark(
        _grammar(),
        parser="lalr",
        lexer=_Scanner,
        start=["start", "expression_start"],
        maybe_placeholders=False,
        transformer=_AstBuilder(),
    )


@cache
def _scanner_table() -> _Scanner:
    return _Scanner(_lark().lexer_conf)


def _normalize(source: str) -> str:
    if source.startswith("\ufeff"):
        source = source[1:]
    if "\r" in source:
        source = source.replace("\r\n", "\n").replace("\r", "\n")
    return source


def _position(source: str, index: int, first_line: int = 1) -> tuple[int, int]:
    line = source.count("\n", 0, index) + first_line
    return line, index - (source.rfind("\n", 0, index) + 1) + 1


def _prescan(source: str, first_line: int = 1) -> list[Diagnostic]:
    """Refuse oversize sources, invisible characters and deep nesting, cheaply."""
    if len(source) > MAX_SOURCE_CHARS:
        return [
            make(
                "E103",
                f"this source is {len(source):,} characters long; the limit is {MAX_SOURCE_CHARS:,}",
                Span(1, 1, 1, 2),
                hint="split it into several rulesets",
            )
        ]
    found: list[Diagnostic] = []
    for m in _FORBIDDEN.finditer(source):
        ch = m.group()
        line, column = _position(source, m.start(), first_line)
        name = _FORBIDDEN_NAMES.get(ch, f"the invisible character U+{ord(ch):04X}")
        found.append(
            make(
                "E105",
                f"this line contains {name}, which could hide what the rule really says",
                Span(line, column, line, column + 1),
                hint="delete it; write it as an escape such as \\u202e inside quotes if it is really wanted",
            )
        )
        if len(found) >= 5:
            break
    if found:
        return found
    depth = 0
    nots = 0
    for m in _NESTING.finditer(source):
        text = m.group()
        first = text[0]
        if first == "(" or first == "[":
            depth += 1
        elif first == ")" or first == "]":
            depth = max(depth - 1, 0)
            nots = 0
        elif text == "not":
            nots += 1
        elif first != "#":
            nots = 0
        if depth + nots > MAX_DEPTH:
            line, column = _position(source, m.start(), first_line)
            return [
                make(
                    "E104",
                    f"parentheses and `not` are nested more than {MAX_DEPTH} levels deep here",
                    Span(line, column, line, column + len(text)),
                    hint="flatten the condition, or split it across several rules",
                )
            ]
    return []


_NAME_LIKE = frozenset(
    {
        "CUSTOMER",
        "AT",
        "OFFERS",
        "TO",
        "PER",
        "MOST",
        "RESPONSE",
        "OF",
        "CUSTOMERS",
        "UP",
        "AFTER",
        "WITH",
        "THEN",
        "WITHIN",
        "UNIT",
        "NEVER",
        "LIMIT",
        "RULE",
        "WHEN",
        "OFFER",
        "FOLLOW",
        "PRIORITY",
        "NOT",
        "TRUE",
        "FALSE",
        "AND",
        "OR",
        "IS",
        "IN",
        "CONTAINS",
    }
)


def _expected_words(expected: set[str]) -> str:
    """Plain words for the set of terminals the parser would have accepted."""
    names = "NAME" in expected
    keywords = sorted(
        f"`{t.lower()}`"
        for t in expected
        if t.isalpha()
        and t.isupper()
        and t not in _TERMINAL_WORDS
        and t != "UNIT"
        and not (names and t in _NAME_LIKE and t not in ("NOT", "TRUE", "FALSE"))
    )
    if "UNIT" in expected and not names:
        keywords.append(_TERMINAL_WORDS["UNIT"])
    symbols = [_TERMINAL_WORDS[t] for t in _TERMINAL_WORDS if t in expected and t != "UNIT"]
    words = keywords + symbols
    if not words:
        return "something else"
    if len(words) > 8:
        words = words[:7] + ["…"]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _number_before(source: str, first_line: int, token: _Tok) -> str:
    """The digits written right before `token` with no space between (`6` of `6x`), or ''."""
    kind, _text, line, column, _end = token
    if kind == "$END" or column < 2:
        return ""
    lines = source.split("\n", line - first_line + 1)
    text = lines[line - first_line] if 0 <= line - first_line < len(lines) else ""
    start = column - 1
    while start > 0 and (text[start - 1].isdigit() or text[start - 1] == "."):
        start -= 1
    number = text[start : column - 1]
    return number if any(c.isdigit() for c in number) else ""


def _syntax_diagnostic(token: _Tok, expected: set[str], number_before: str = "") -> Diagnostic:
    kind, text, line, column, end_column = token
    span = Span(line, column, line, end_column)
    if kind == "$END":
        return make(
            "E108", f"the source ends too early: expected {_expected_words(expected)}", span
        )
    if number_before and (kind in ("NAME", "CUSTOMER", "UNIT") or text[:1].isalpha()):
        glued = number_before + text
        return make(
            "E100",
            f"{quote(glued[:40])} is not a number: a number is written with digits alone",
            Span(line, column - len(number_before), line, end_column),
            hint=f"write {quote(number_before)}, or put a space between the number and "
            f"{quote(text[:40])}",
        )
    hint = None
    if kind in ("NAME", "CUSTOMER") and expected == {"STRING"}:
        hint = f'rule names are written in quotes: rule "{text[:40]}"'
    elif kind == "STRING" and expected == {"NAME"}:
        hint = "offer keys are written without quotes"
    elif kind == "NAME" and expected & {"NEVER", "LIMIT", "RULE"}:
        hint = "a statement starts with `rule`, `never offer when`, `limit offers to` or `at most`"
    elif kind in ("NAME", "STRING", "NUMBER") and "IS" in expected:
        hint = "compare with `is`, `in`, `contains` or `<`, and join conditions with `and` / `or`"
    return make(
        "E100", f"unexpected {quote(text)}: expected {_expected_words(expected)}", span, hint=hint
    )


@dataclass
class ParseOutcome:
    """What `_parse` found: a value (statements or an expression) or diagnostics."""

    value: object
    diagnostics: list[Diagnostic]
    comments: tuple[ast.Comment, ...] = ()
    blank_lines: tuple[int, ...] = ()


def _parse(source: str, start: str, first_line: int = 1) -> ParseOutcome:
    """Parse `source` as if its first line were line `first_line` of a larger file."""
    source = _normalize(source)
    problems = _prescan(source, first_line)
    if problems:
        return ParseOutcome(None, problems)
    table = lalr.table(_lark(), start)
    scanner = _scanner_table().fresh()
    diagnostics: list[Diagnostic] = []
    _state.diagnostics = diagnostics
    line, column = _position(source, len(source), first_line)
    end = ("$END", "", line, column, column + 1)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        value = lalr.run(table, scanner.lex(source, first_line), end)
    except _ScanError as err:
        return ParseOutcome(None, [err.diagnostic])
    except lalr.SyntaxFailure as err:
        expected = lalr.expected_before(
            table,
            itertools.chain(_scanner_table().fresh().lex(source, first_line), (end,)),
            err.token,
        )
        return ParseOutcome(
            None,
            [
                _syntax_diagnostic(
                    err.token, expected, _number_before(source, first_line, err.token)
                )
            ],
        )
    finally:
        _state.diagnostics = []
        if gc_was_enabled:
            gc.enable()
    return ParseOutcome(value, diagnostics, tuple(scanner.comments), tuple(scanner.blank_lines))


#: The last few large sources parsed, and what they gave (the AST is immutable). A
#: publish compiles a ruleset and then reads its offer references from the same text.
_RECENT: dict[str, tuple[ast.Ruleset | None, tuple[Diagnostic, ...]]] = {}
_RECENT_SIZE = 8
_RECENT_MIN_CHARS = 10_000
_recent_lock = threading.Lock()


def forget_recent() -> None:
    """Drop the remembered parses (benchmarks time a cold parse)."""
    with _recent_lock:
        _RECENT.clear()


def parse_ruleset(source: str) -> tuple[ast.Ruleset | None, list[Diagnostic]]:
    """Parse a ruleset; the AST is None when there are syntax errors."""
    remember = len(source) >= _RECENT_MIN_CHARS
    if remember:
        found = _RECENT.get(source)
        if found is not None:
            return found[0], list(found[1])
    tree, diagnostics = _parse_ruleset(source)
    if remember:
        with _recent_lock:
            if len(_RECENT) >= _RECENT_SIZE:
                _RECENT.pop(next(iter(_RECENT)))
            _RECENT[source] = (tree, tuple(diagnostics))
    return tree, diagnostics


def parse_statements(source: str, first_line: int) -> tuple[ast.Ruleset | None, list[Diagnostic]]:
    """Parse a piece of a ruleset that starts on line `first_line` of its file, with
    every position as in the whole file (error recovery and live diagnostics parse
    statement by statement). Not remembered, unlike `parse_ruleset`."""
    return _parse_ruleset(source, first_line)


def _parse_ruleset(source: str, first_line: int = 1) -> tuple[ast.Ruleset | None, list[Diagnostic]]:
    outcome = _parse(source, "start", first_line)
    if outcome.value is None or any(d.is_error for d in outcome.diagnostics):
        return None, outcome.diagnostics
    statements: tuple[ast.Statement, ...] = outcome.value  # type: ignore[assignment]  # what the `start` rule builds
    return ast.Ruleset(
        statements, outcome.comments, frozenset(outcome.blank_lines)
    ), outcome.diagnostics


def parse_expression(source: str) -> tuple[ast.Expr | None, list[Diagnostic]]:
    """Parse one expression (an offer's eligibility), or return diagnostics."""
    outcome = _parse(source, "expression_start")
    if outcome.value is None or any(d.is_error for d in outcome.diagnostics):
        return None, outcome.diagnostics
    return outcome.value, outcome.diagnostics  # type: ignore[return-value]  # what `expression_start` builds
