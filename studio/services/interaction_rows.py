"""One imported row: checked against the interaction schema, its columns pulled out.

The schema's own `validate_interaction` gives the messages people read, but it costs
~0.25 ms a row; an import of millions of rows first runs a check compiled from the same
schema (a tree walked once), and asks `validate_interaction` only about rows that check
refuses, so every refusal is worded by the schema and a valid row costs a few µs.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from dsl.schema import FieldSpec, Schema, parse_datetime, validate_interaction
from studio.services.events import MAX_FUTURE

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
    #: The whole interaction as JSON text, as it is stored. The parsed value is not kept:
    #: a batch of rows holds text, not trees of dicts the garbage collector must walk.
    body_json: str
    #: The customer's scalar attributes as (name, text), for the attribute index.
    attributes: tuple[tuple[str, str], ...] = ()


#: What an indexed customer attribute's name looks like (the search's `name=value`).
ATTRIBUTE_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,40}")
MAX_ATTRIBUTE_VALUE: Final = 100
MAX_ATTRIBUTES: Final = 50


def attributes_of(customer: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The customer's text, number and true/false values as searchable text (`tier=gold`,
    `age=42`, `authenticated=true`); lists, objects, the id and long values are left out."""
    out: list[tuple[str, str]] = []
    for name, value in customer.items():
        if name == "id" or not ATTRIBUTE_NAME.fullmatch(name):
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str):
            text = value
        elif isinstance(value, int | float):
            text = json.dumps(value)
        else:
            continue
        if 0 < len(text) <= MAX_ATTRIBUTE_VALUE:
            out.append((name, text))
            if len(out) >= MAX_ATTRIBUTES:
                break
    return tuple(out)


Check = Callable[[Any], bool]


def _is_str(item: Any) -> bool:
    return isinstance(item, str)


def _is_number(item: Any) -> bool:
    return isinstance(item, int | float) and not isinstance(item, bool)


def _is_bool(item: Any) -> bool:
    return isinstance(item, bool)


def _is_text_list(item: Any) -> bool:
    return isinstance(item, list) and all(isinstance(v, str) for v in item)


def _is_datetime(item: Any) -> bool:
    return parse_datetime(item) is not None


def _never(item: Any) -> bool:
    return False


def _is_one_of(values: frozenset[str]) -> Check:
    def check(item: Any) -> bool:
        return isinstance(item, str) and item in values

    return check


_SIMPLE: Final[dict[str, Check]] = {
    "string": _is_str,
    "number": _is_number,
    "boolean": _is_bool,
    "list": _is_text_list,
    "datetime": _is_datetime,
}


class RowChecker:
    """Validates rows against one schema, quickly when they are valid.

    The schema is compiled once into nested closures, one per object of the interaction,
    each holding a dict from field name to the check of its value, so checking a valid
    row is a dict lookup and one call per field rather than a walk that looks at the
    field's type each time.
    """

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        tree: dict[str, Any] = {}
        self._fits: Check | None = None
        for spec in schema.fields:
            node = tree
            for name in spec.segments[:-1]:
                child = node.setdefault(name, {})
                if isinstance(child, FieldSpec):  # a value with fields under it: let the
                    return  # schema's own validator decide
                node = child
            node[spec.segments[-1]] = spec
        self._fits = self._compile(tree, frozenset(schema.free_roots))

    def _compile(self, node: Mapping[str, Any], free: frozenset[str]) -> Check:
        checks: dict[str, Check] = {}
        for key, spec in node.items():
            if isinstance(spec, dict):
                checks[key] = self._compile(spec, frozenset())
            elif spec.type == "enum":
                checks[key] = _is_one_of(frozenset(spec.values))
            else:  # history and anything newer: the schema's validator decides
                checks[key] = _SIMPLE.get(spec.type, _never)

        def fits(value: Any) -> bool:
            if not isinstance(value, dict):
                return False
            for key, item in value.items():
                check = checks.get(key)
                if check is None:
                    if key in free:
                        continue
                    return False
                if item is not None and not check(item):
                    return False
            return True

        return fits

    def problems(self, body: Any) -> list[RowProblem]:
        """Why `body` cannot be imported; empty when it can."""
        if isinstance(body, dict) and self._fits is not None and self._fits(body):
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
        at = body.get("at")
        if at is None:  # present: the schema checked it is a date-time
            out.append(
                RowProblem(
                    "at",
                    "every imported interaction needs the date and time "
                    "it happened, such as 2026-11-20T10:15:00Z",
                )
            )
        else:
            moment = parse_datetime(at)
            if moment is not None and moment > datetime.now(UTC) + MAX_FUTURE:
                out.append(
                    RowProblem(
                        "at",
                        f"{str(at)[:40]} is in the future; history is what already happened "
                        "(at most a day ahead of the studio's clock is taken, for clocks "
                        "that differ)",
                    )
                )
        return out


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def row_of(body: dict[str, Any], body_json: str = "") -> Row:
    """The stored columns of a checked interaction (`body_json`: `body` as JSON text, when
    the caller has it, such as the line of a JSON lines file; it is stored as it is)."""
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
        body_json=body_json or json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        attributes=attributes_of(customer),
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
        if "\x00" in raw:
            problems.append(
                RowProblem(name, "holds a NUL character, which is not text a database stores")
            )
            continue
        spec = schema.lookup(name)
        value: Any = raw
        kind = spec.type if isinstance(spec, FieldSpec) else "string"
        if kind == "number":
            try:
                number = float(raw)
            except ValueError:
                problems.append(RowProblem(name, f"{raw[:40]!r} is not a number"))
                continue
            if not math.isfinite(number):  # NaN, inf, 1e999: no JSON number is
                problems.append(RowProblem(name, f"{raw[:40]!r} is not a finite number"))
                continue
            value = int(number) if number.is_integer() and "." not in raw else number
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
