"""The interaction schema as a form: one row per field (path, type, enum values, doc).

The form is another way of writing the same JSON: `body_from_form` builds the schema
body from the posted rows (plus the settings the rows do not cover: aliases, free roots,
the index and the roles, kept as JSON), and the schema's own validation
(`rulesets.save_schema`) judges it, with the same messages and locations as the JSON
view. `row_errors` puts each message next to the row its location names. A field's
`derive` rule has no column; it rides along with its row unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from dsl.schema import TYPES
from studio.errors import FieldError, ValidationFailed

#: Types a person may pick for a field (`any` is only for free roots).
FIELD_TYPES: Final = tuple(t for t in TYPES if t != "any")
#: Blank rows under the fields, for adding new ones.
BLANK_ROWS: Final = 3
#: More rows than this in one post is not a form a person filled in.
MAX_ROWS: Final = 500
_ROW = re.compile(r"^field-(\d{1,4})-(path|type|values|doc|derive|remove)$")
_SETTINGS: Final = ("aliases", "free", "index", "roles")


@dataclass(frozen=True)
class Row:
    path: str = ""
    type: str = "string"
    values: str = ""
    doc: str = ""
    derive: str = ""
    remove: bool = False

    @property
    def derive_text(self) -> str:
        """The derive rule in words, like "true when inquiry.resolution is confirmed"."""
        try:
            rule = json.loads(self.derive) if self.derive else None
        except ValueError:
            return self.derive
        if isinstance(rule, dict) and {"from", "is"} <= rule.keys():
            return f"true when {rule['from']} is {rule['is']}"
        return self.derive


def rows_of(body: Mapping[str, Any]) -> list[Row]:
    """A schema body as rows, with blank rows to add fields."""
    rows = []
    for path, spec in (body.get("fields") or {}).items():
        spec = spec if isinstance(spec, Mapping) else {}
        values = spec.get("values") or []
        rows.append(
            Row(
                path=str(path),
                type=str(spec.get("type", "string")),
                values=", ".join(str(v) for v in values) if isinstance(values, list) else "",
                doc=str(spec.get("doc", "")),
                derive=json.dumps(spec["derive"]) if spec.get("derive") else "",
            )
        )
    return rows + [Row() for _ in range(BLANK_ROWS)]


def settings_of(body: Mapping[str, Any]) -> str:
    """The settings the rows do not cover, as the JSON the form shows."""
    return json.dumps({k: body[k] for k in _SETTINGS if k in body}, indent=2)


def rows_from_form(data: Mapping[str, str]) -> list[Row]:
    """The rows as posted, in their order, blank ones included (to draw them again)."""
    parts: dict[int, dict[str, str]] = {}
    for name, value in data.items():
        match = _ROW.match(name)
        if match and (int(match.group(1)) in parts or len(parts) < MAX_ROWS):
            parts.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return [
        Row(
            path=row.get("path", "").strip(),
            type=row.get("type", "string").strip(),
            values=row.get("values", ""),
            doc=row.get("doc", "").strip(),
            derive=row.get("derive", ""),
            remove=bool(row.get("remove")),
        )
        for _, row in sorted(parts.items())
    ]


def body_from_form(rows: Sequence[Row], settings: str) -> dict[str, Any]:
    """The schema body the rows describe; refuses settings that are not a JSON object
    and a repeated path (JSON would silently keep the last one)."""
    errors: list[FieldError] = []
    try:
        extra = json.loads(settings or "{}")
        if not isinstance(extra, dict):
            raise ValueError("expected an object")
    except ValueError as bad:
        errors.append(
            FieldError("settings", f"schema: the other settings are not valid JSON: {bad}")
        )
        extra = {}
    fields: dict[str, Any] = {}
    for number, row in enumerate(rows, start=1):
        if row.remove or not row.path:
            continue
        if row.path in fields:
            errors.append(
                FieldError(
                    f"field-{number}",
                    f"schema.fields.{row.path[:60]}: is declared twice (rows "
                    f"{_row_number(rows, row.path)} and {number})",
                )
            )
            continue
        spec: dict[str, Any] = {"type": row.type}
        values = [v.strip() for v in re.split(r"[,\n]", row.values) if v.strip()]
        if values:
            spec["values"] = values
        if row.doc:
            spec["doc"] = row.doc
        if row.derive:
            try:
                spec["derive"] = json.loads(row.derive)
            except ValueError:
                errors.append(
                    FieldError(
                        f"field-{number}", f"schema.fields.{row.path}.derive: not valid JSON"
                    )
                )
        fields[row.path] = spec
    if errors:
        raise ValidationFailed(errors)
    return {**{k: v for k, v in extra.items() if k != "fields"}, "fields": fields}


def _row_number(rows: Sequence[Row], path: str) -> int:
    return next(n for n, row in enumerate(rows, start=1) if row.path == path)


def row_errors(rows: Sequence[Row], messages: Sequence[str]) -> tuple[dict[int, str], list[str]]:
    """Each message next to the row (1-based) whose field its location names; the rest
    (settings, the schema as a whole) stay general."""
    by_path = {row.path: n for n, row in enumerate(rows, start=1) if row.path and not row.remove}
    rows_out: dict[int, str] = {}
    general: list[str] = []
    for message in messages:
        number = next(
            (
                n
                for path, n in sorted(by_path.items(), key=lambda item: -len(item[0]))
                if message.startswith((f"schema.fields.{path[:60]}:", f"schema.fields.{path}."))
            ),
            None,
        )
        if number is None:
            general.append(message)
        else:
            rows_out[number] = f"{rows_out[number]} {message}" if number in rows_out else message
    return rows_out, general
