"""Quick fixes: edits an editor can offer for a diagnostic with one click.

A fix is plain data (a label, the span to replace, the new text), derived from the
diagnostic and the source line it points at, so any editor can apply it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dsl.diagnostics import Diagnostic

_DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`\?")
_QUOTE_RULE_NAME = re.compile(r"^rule names are written in quotes")


@dataclass(frozen=True)
class Fix:
    """Replace line:column..end_line:end_column (1-based, end exclusive) with `insert`."""

    label: str
    insert: str
    line: int
    column: int
    end_line: int
    end_column: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "insert": self.insert,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }


def _span_text(lines: list[str], diag: Diagnostic) -> str | None:
    if diag.line <= 0 or diag.line != diag.end_line or diag.line > len(lines):
        return None
    text = lines[diag.line - 1]
    if not 1 <= diag.column < diag.end_column <= len(text) + 1:
        return None
    return text[diag.column - 1 : diag.end_column - 1]


def fixes_for(lines: list[str], diag: Diagnostic) -> tuple[Fix, ...]:
    """The one-click fixes for `diag` in a source split into `lines` (may be none)."""
    word = _span_text(lines, diag)
    if word is None:
        return ()
    span = (diag.line, diag.column, diag.end_line, diag.end_column)
    hint = diag.hint or ""
    match = _DID_YOU_MEAN.search(hint)
    if match and match.group(1) != word:
        return (Fix(f"Change to {match.group(1)}", match.group(1), *span),)
    if diag.code == "E210" or (diag.code == "E100" and _QUOTE_RULE_NAME.match(hint)):
        if '"' not in word:
            return (Fix(f'Put "{word}" in quotes', f'"{word}"', *span),)
    if diag.code == "E101" and word in "“”":
        return (Fix('Use a straight quote "', '"', *span),)
    return ()
