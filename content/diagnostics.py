"""Errors as values for the content library.

Marketing edits offers and layouts in a browser; every problem must come back as something
the editor can place next to the field or line that caused it. So nothing in `content/`
raises anything but `ContentError`, and a `ContentError` is just a list of `Diagnostic`
values with a code, a plain message, a location and a hint.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in an offer, a layout or a rendered variant.

    `field` names the offer field (dotted, e.g. ``blocks.cta_url``) and `line`/`column`
    point into a template or layout source; either may be absent.
    """

    code: str
    message: str
    field: str | None = None
    line: int | None = None
    column: int | None = None
    hint: str | None = None
    severity: Severity = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def with_field(self, field: str) -> Diagnostic:
        """Return a copy located in `field`, for errors found in a nested template."""
        return Diagnostic(
            self.code, self.message, field, self.line, self.column, self.hint, self.severity
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = []
        if self.field:
            where.append(self.field)
        if self.line is not None:
            where.append(f"line {self.line}" + (f":{self.column}" if self.column else ""))
        prefix = f"{', '.join(where)}: " if where else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{prefix}{self.severity} {self.code}: {self.message}{hint}"


class ContentError(Exception):
    """The one exception type of `content/`, carrying every diagnostic found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__("; ".join(str(d) for d in self.diagnostics) or "content error")

    @classmethod
    def single(cls, code: str, message: str, **where: Any) -> ContentError:
        return cls([Diagnostic(code, message, **where)])


def errors_only(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics that block a save; warnings are shown but do not stop anyone."""
    return [d for d in diagnostics if d.is_error]


class LineIndex:
    """Line and column (from 1) of an offset in one source, by bisection: reporting many
    problems costs a search each, not a count from the start each."""

    def __init__(self, source: str) -> None:
        starts = [0]
        find = source.find
        at = find("\n")
        while at >= 0:
            starts.append(at + 1)
            at = find("\n", at + 1)
        self.starts = starts

    def at(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1
