"""Diagnostics: the errors and warnings a ruleset author reads.

Diagnostics are the product of the rule language: every problem found anywhere in
the pipeline (lexing, parsing, checking, loading a schema or an IR) becomes a
`Diagnostic` value with a registered code, a plain-words message, a location and,
where one exists, a hint. Code paths never raise anything but `DSLError`, which
carries a list of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]

#: Longest piece of user input quoted back in a message or an excerpt line.
QUOTE_LIMIT = 40
EXCERPT_WIDTH = 100


@dataclass(frozen=True)
class CodeInfo:
    """What a diagnostic code means, for the registry and the language reference."""

    code: str
    severity: Severity
    title: str


_REGISTRY = (
    CodeInfo("E100", "error", "unexpected word or symbol"),
    CodeInfo("E101", "error", "character not allowed here"),
    CodeInfo("E102", "error", "unterminated string"),
    CodeInfo("E103", "error", "source too large"),
    CodeInfo("E104", "error", "nesting too deep"),
    CodeInfo("E105", "error", "invisible or control character"),
    CodeInfo("E106", "error", "number out of range"),
    CodeInfo("E107", "error", "bad escape in a string"),
    CodeInfo("E108", "error", "unexpected end of the source"),
    CodeInfo("E200", "error", "unknown field"),
    CodeInfo("E201", "error", "value outside the field's domain"),
    CodeInfo("E202", "error", "type mismatch"),
    CodeInfo("E203", "error", "unknown offer"),
    CodeInfo("E204", "error", "duplicate rule name"),
    CodeInfo("E205", "error", "condition can never be true"),
    CodeInfo("E206", "error", "rule does nothing"),
    CodeInfo("E207", "error", "repeated clause or statement"),
    CodeInfo("E208", "error", "number not allowed here"),
    CodeInfo("E209", "error", "field is not a single value"),
    CodeInfo("E210", "error", "text needs quotes"),
    CodeInfo("E211", "error", "empty rule name"),
    CodeInfo("E230", "error", "unknown survey"),
    CodeInfo("E232", "error", "impossible resolution window"),
    CodeInfo("E233", "error", "gated offer without a thread field"),
    CodeInfo("E300", "error", "invalid schema"),
    CodeInfo("E301", "error", "invalid compiled ruleset (IR)"),
    CodeInfo("E302", "error", "invalid interaction"),
    CodeInfo("E303", "error", "invalid offer"),
    CodeInfo("E220", "error", "unknown policy statement"),
    CodeInfo("E221", "error", "impossible window"),
    CodeInfo("E222", "error", "unknown channel"),
    CodeInfo("E223", "error", "unknown outcome"),
    CodeInfo("E224", "error", "bad ranking expression"),
    CodeInfo("E304", "error", "invalid compiled policy"),
    CodeInfo("W400", "warning", "rule can never make an immediate offer"),
    CodeInfo("W401", "warning", "rule is shadowed"),
    CodeInfo("W402", "warning", "offer is not active"),
    CodeInfo("W403", "warning", "condition is always true"),
    CodeInfo("W404", "warning", "tone is guarded but unknown tone is not"),
    CodeInfo("W405", "warning", "cap never allows an offer"),
    # Raised by the studio's ruleset editor (studio/services/overlaps.py), which runs
    # every ruleset over the sample library; registered here so it is documented.
    CodeInfo("W410", "warning", "rulesets overlap on a sample"),
)

#: Every diagnostic code the library can emit, by code.
CODES: Mapping[str, CodeInfo] = {info.code: info for info in _REGISTRY}


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a source, schema, IR or interaction.

    Lines and columns are 1-based; `end_column` is exclusive. A diagnostic about data
    rather than source text (an interaction field, an IR entry) has line 0 and names
    the offending path in its message.
    """

    code: str
    severity: Severity
    message: str
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "hint": self.hint,
        }

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class Span:
    """A region of source text, carried by every AST node for diagnostics."""

    line: int
    column: int
    end_line: int
    end_column: int

    def to(self, other: Span) -> Span:
        """The span from the start of this one to the end of `other`."""
        return Span(self.line, self.column, other.end_line, other.end_column)


NO_SPAN = Span(0, 0, 0, 0)


def make(code: str, message: str, span: Span = NO_SPAN, hint: str | None = None) -> Diagnostic:
    """Build a diagnostic whose severity comes from the code registry."""
    info = CODES[code]
    return Diagnostic(
        code=code,
        severity=info.severity,
        message=message,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
        hint=hint,
    )


class DSLError(Exception):
    """The only exception the rule language raises; it carries the diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        first = self.diagnostics[0].message if self.diagnostics else "invalid input"
        more = len(self.diagnostics) - 1
        super().__init__(first if more <= 0 else f"{first} (and {more} more)")


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """Quote user input for a message, shortened so huge input is never echoed back."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in text[: limit + 1])
    if len(text) > limit:
        cleaned = cleaned[: limit - 1] + "…"
    return f"`{cleaned}`"


def sort_key(diag: Diagnostic) -> tuple[int, int, int, str]:
    """Order diagnostics by position, errors before warnings at the same place."""
    return (diag.line, diag.column, 0 if diag.is_error else 1, diag.code)


def render_excerpt(source: str, diag: Diagnostic, *, lines: list[str] | None = None) -> str:
    """The offending source line with a caret line under the diagnostic's columns.

    Long lines are cut to a window around the column, so a megabyte on one line
    never ends up in a terminal. `lines` is the source already split at newlines, for
    a caller rendering many excerpts of one source.
    """
    if diag.line <= 0:
        return ""
    if lines is None:
        lines = source.split("\n")
    if diag.line > len(lines):
        return ""
    text = lines[diag.line - 1].rstrip("\r").expandtabs(1)
    start_col = max(diag.column, 1)
    if diag.end_line == diag.line and diag.end_column > start_col:
        width = diag.end_column - start_col
    elif diag.end_line > diag.line:
        width = max(len(text) - start_col + 1, 1)
    else:
        width = 1
    offset = 0
    if len(text) > EXCERPT_WIDTH:
        offset = max(0, min(start_col - 1 - EXCERPT_WIDTH // 3, len(text) - EXCERPT_WIDTH))
        text = text[offset : offset + EXCERPT_WIDTH]
        if offset:
            text = "…" + text[1:]
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    caret_start = start_col - 1 - offset
    width = max(1, min(width, len(text) - caret_start)) if caret_start < len(text) else 1
    gutter = f"{diag.line:>4} | "
    return f"{gutter}{text}\n{' ' * (len(gutter) - 2)}| {' ' * caret_start}{'^' * width}"


def format_diagnostic(filename: str, source: str | None, diag: Diagnostic) -> str:
    """`FILE:LINE:COL: severity CODE: message`, then the excerpt and hint if any."""
    head = f"{filename}:{diag.line}:{diag.column}: {diag.severity} {diag.code}: {diag.message}"
    parts = [head]
    if source is not None:
        excerpt = render_excerpt(source, diag)
        if excerpt:
            parts.append(excerpt)
    if diag.hint:
        parts.append(f"     = hint: {diag.hint}")
    return "\n".join(parts)
