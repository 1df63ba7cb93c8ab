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
        tree, found = parse_statements(text, first_line)
        diagnostics.extend(found)
        if tree is None:
            failed += 1
            continue
        statements.extend(tree.statements)
        comments.extend(tree.comments)
    ruleset = ast.Ruleset(tuple(statements), tuple(comments))
    return Recovered(ruleset, tuple(dict.fromkeys(diagnostics)), failed)
