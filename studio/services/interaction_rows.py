"""One imported row: checked against the interaction schema, its columns pulled out.

The schema's own `validate_interaction` gives the messages people read, but it costs
~0.25 ms a row; an import of millions of rows first runs a check compiled from the same
schema (a tree walked once), and asks `validate_interaction` only about rows that check
refuses, so every refusal is worded by the schema and a valid row costs a few µs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from dsl.schema import FieldSpec, Schema, parse_datetime, validate_interaction

MAX_PROBLEMS_PER_ROW: Final = 5


@dataclass(frozen=True)
class RowProblem:
    field: str
    message: str


@dataclass(frozen=True)
class Row:
    """The columns an interaction is stored and searched by."""

    interaction_id: str
    customer_id: str
    at: datetime
    category: str
    intent: str
    channel: str
    tone: str
    resolution: str
    text: str
    body: dict[str, Any]


class RowChecker:
    """Validates rows against one schema, quickly when they are valid."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._tree: dict[str, Any] = {}
        for spec in schema.fields:
            node = self._tree
            for name in spec.segments[:-1]:
                child = node.setdefault(name, {})
                if isinstance(child, FieldSpec):  # a value with fields under it: let the
                    self._tree = {}  # schema's own validator decide
                    return
                node = child
            node[spec.segments[-1]] = spec
        self._free = frozenset(schema.free_roots)
        self._enums = {s.path: frozenset(s.values) for s in schema.fields if s.type == "enum"}

    def _fits(self, node: Mapping[str, Any], value: Mapping[str, Any], top: bool) -> bool:
        for key, item in value.items():
            spec = node.get(key)
            if spec is None:
                if top and key in self._free:
                    continue
                return False
            if item is None:
                continue
            if isinstance(spec, dict):
                if not isinstance(item, dict) or not self._fits(spec, item, False):
                    return False
            elif not self._value_fits(spec, item):
                return False
        return True

    def _value_fits(self, spec: FieldSpec, item: Any) -> bool:
        kind = spec.type
        if kind == "string":
            return isinstance(item, str)
        if kind == "enum":
            return isinstance(item, str) and item in self._enums[spec.path]
        if kind == "number":
            return isinstance(item, int | float) and not isinstance(item, bool)
        if kind == "boolean":
            return isinstance(item, bool)
        if kind == "list":
            return isinstance(item, list) and all(isinstance(v, str) for v in item)
        if kind == "datetime":
            return parse_datetime(item) is not None
        return False  # history and anything newer: the schema's validator decides

    def problems(self, body: Any) -> list[RowProblem]:
        """Why `body` cannot be imported; empty when it can."""
        if isinstance(body, dict) and self._tree and self._fits(self._tree, body, True):
            out: list[RowProblem] = []
        else:
            out = []
            for d in validate_interaction(self.schema, body)[:MAX_PROBLEMS_PER_ROW]:
                path, _, why = d.message.partition(": ")
                hint = f" ({d.hint})" if d.hint else ""
                out.append(RowProblem(path, f"{why or d.message}{hint}"))
            if out or not isinstance(body, dict):
                return out or [RowProblem("interaction", "expected a JSON object")]
        if not isinstance(body.get("id"), str) or not body["id"].strip():
            out.append(
                RowProblem(
                    "id", "every imported interaction needs an id (text), used to skip duplicates"
                )
            )
        elif len(body["id"]) > 128:
            out.append(RowProblem("id", "is over 128 characters"))
        if body.get("at") is None:  # present: the schema checked it is a date-time
            out.append(
                RowProblem(
                    "at",
                    "every imported interaction needs the date and time "
                    "it happened, such as 2026-11-20T10:15:00Z",
                )
            )
        return out


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def row_of(body: dict[str, Any]) -> Row:
    """The stored columns of a checked interaction."""
    inquiry = _object(body.get("inquiry"))
    customer = _object(body.get("customer"))
    tone = _object(body.get("tone"))
    at = parse_datetime(body.get("at"))
    assert at is not None  # RowChecker refused rows without one
    return Row(
        interaction_id=body["id"],
        customer_id=_text(customer.get("id"), 100),
        at=at,
        category=_text(inquiry.get("category"), 32),
        intent=_text(inquiry.get("intent"), 64),
        channel=_text(inquiry.get("channel"), 32),
        tone=_text(tone.get("label"), 32),
        resolution=_text(inquiry.get("resolution"), 32),
        text=_text(inquiry.get("text"), 1_000_000),
        body=body,
    )


# --- CSV: a header of dotted field paths ----------------------------------------------------

MAX_COLUMNS: Final = 200


def check_header(schema: Schema, header: list[str]) -> list[RowProblem]:
    """Problems with a CSV header; each column must be a schema field path (or data.*)."""
    if len(header) > MAX_COLUMNS:
        return [
            RowProblem(
                "header",
                f"has {len(header):,} columns; an interaction has at most "
                f"{MAX_COLUMNS} (one per schema field, like inquiry.intent)",
            )
        ]
    known = {s.path for s in schema.fields}
    out = []
    seen: set[str] = set()
    for index, name in enumerate(header, start=1):
        if name in seen:
            out.append(RowProblem(f"column {index}", f"{name[:80]} appears twice"))
        seen.add(name)
        root = name.split(".", 1)[0]
        if name not in known and root not in schema.free_roots:
            out.append(
                RowProblem(
                    f"column {index}",
                    f"{name[:80]} is not a field of the "
                    "schema (columns are field paths such as inquiry.intent)",
                )
            )
        if len(out) >= MAX_PROBLEMS_PER_ROW:
            break
    if "id" not in seen:
        out.append(RowProblem("header", "has no id column (the interaction id)"))
    if "at" not in seen:
        out.append(RowProblem("header", "has no at column (when the contact happened)"))
    return out


def body_from_cells(
    schema: Schema, header: list[str], cells: list[str]
) -> tuple[dict[str, Any] | None, list[RowProblem]]:
    """An interaction from one CSV record; empty cells leave the field out."""
    if len(cells) != len(header):
        return None, [
            RowProblem("row", f"has {len(cells):,} cells; the header has {len(header):,} columns")
        ]
    body: dict[str, Any] = {}
    problems: list[RowProblem] = []
    for name, raw in zip(header, cells, strict=True):
        if raw == "":
            continue
        spec = schema.lookup(name)
        value: Any = raw
        kind = spec.type if isinstance(spec, FieldSpec) else "string"
        if kind == "number":
            try:
                number = float(raw)
                value = int(number) if number.is_integer() and "." not in raw else number
            except ValueError:
                problems.append(RowProblem(name, f"{raw[:40]!r} is not a number"))
                continue
        elif kind == "boolean":
            if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                problems.append(RowProblem(name, f"{raw[:40]!r} is not true or false"))
                continue
            value = raw.lower() in ("true", "1", "yes")
        elif kind in ("list",):
            value = [p.strip() for p in raw.replace("|", ";").split(";") if p.strip()]
        elif kind == "history":
            try:
                value = json.loads(raw)
            except ValueError:
                problems.append(
                    RowProblem(name, 'is not JSON (a list of {"offer": KEY, "at": DATETIME})')
                )
                continue
        target = body
        parts = name.split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return body, problems
