"""Error recovery: keep reporting after the first syntax error.

The LALR parser stops at the first token it cannot shift, so a file with six typos
would take six edits to see them all. Recovery here is panic mode at statement
boundaries: a line whose first word starts a statement (`rule`, `never`, `limit`,
`at most`) begins a new statement, and each statement is parsed on its own through
the parser's public `parse_statements`. Every statement with a syntax error reports its
own first error, with its own code and position; the statements that do parse are
kept, so the checker can still report unknown fields, offers and values in them.

Positions stay exact because each statement is parsed as starting on its own line
(`parse_statements`). The work is linear in the source size: recovery only runs
when the whole-file parse has already failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dsl import ast
from dsl.diagnostics import Diagnostic
from dsl.parser import parse_statements

#: Codes after which the parser stopped reading; only these are worth recovering from
#: (a source refused as a whole, such as E103 "too large", is not).
STOPPING_CODES = frozenset({"E100", "E101", "E102", "E108"})

#: A line that starts a statement: the grammar's statement keywords, first on the line.
_STATEMENT_START = re.compile(r"^[ \t]*(?:rule\b|never\b|limit\b|at[ \t]+most\b)", re.MULTILINE)


@dataclass(frozen=True)
class Recovered:
    """The statements that parsed, and the syntax errors of those that did not."""

    ruleset: ast.Ruleset
    diagnostics: tuple[Diagnostic, ...]
    failed_statements: int


def statement_chunks(source: str) -> list[tuple[int, str]]:
    """Split a source into (first line number, text) pieces, one per statement.

    Text before the first statement (comments, or stray words) is its own piece, so
    a stray word at the top is reported too.
    """
    starts = [m.start() for m in _STATEMENT_START.finditer(source)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    chunks: list[tuple[int, str]] = []
    line = 1
    for index, begin in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(source)
        text = source[begin:end]
        chunks.append((line, text))
        line += text.count("\n")
    return chunks


def recover_ruleset(source: str) -> Recovered:
    """Parse statement by statement after a failed parse (see the module docstring)."""
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    if source.startswith("\ufeff"):
        source = source[1:]
    statements: list[ast.Statement] = []
    comments: list[ast.Comment] = []
    diagnostics: list[Diagnostic] = []
    failed = 0
    for first_line, text in statement_chunks(source):
        if not text.strip():
            continue
        tree, found, broken = parse_chunk(text, first_line)
        diagnostics.extend(found)
        failed += broken
        if tree is None:
            continue
        statements.extend(tree.statements)
        comments.extend(tree.comments)
    ruleset = ast.Ruleset(tuple(statements), tuple(comments))
    return Recovered(ruleset, tuple(dict.fromkeys(diagnostics)), failed)


def parse_chunk(text: str, first_line: int) -> tuple[ast.Ruleset | None, list[Diagnostic], bool]:
    """One statement's parse for recovery: what the checker may read of it (None when
    nothing), its syntax errors, and whether it failed to parse."""
    tree, found = parse_statements(text, first_line)
    if tree is not None:
        return tree, found, False
    repaired, again = _with_quote_closed(text, first_line, found)
    return repaired, [*found, *again], True


def _with_quote_closed(
    text: str, first_line: int, found: list[Diagnostic]
) -> tuple[ast.Ruleset | None, list[Diagnostic]]:
    """A statement whose first fault is a quote left open (E102), parsed again with the
    quote closed at the end of its line, so the rest of it is checked too (an unknown
    offer, a misspelt field): one edit should not hide the others. The statement is read
    by the checker only; the E102 error still fails the source. When it fails again, its
    next syntax error instead (None, [error])."""
    if not found or found[0].code != "E102":
        return None, []
    lines = text.split("\n")
    at = found[0].line - first_line
    if not 0 <= at < len(lines) or not 1 <= found[0].column <= len(lines[at]):
        return None, []
    quote = lines[at][found[0].column - 1]
    if quote not in "\"'":
        return None, []
    lines[at] += quote
    tree, again = parse_statements("\n".join(lines), first_line)
    return tree, [] if tree is not None else [d for d in again if d.code != "E102"]
