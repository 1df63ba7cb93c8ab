"""The interaction schema: which fields a rule may test, their types and enum domains.

The schema is data. The studio edits it, bundles ship it, and the checker and
runtime read it, so a new channel or tier is a schema change, not a code change.
`default_schema()` covers the vocabulary of the design brief.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from dsl.diagnostics import Diagnostic, DSLError, make, quote
from dsl.suggest import did_you_mean

SCHEMA_VERSION = 1

#: Field types. `any` is the type of free-form paths under a free root (`data.*`).
TYPES = ("string", "number", "boolean", "enum", "list", "datetime", "history", "any")
#: Types a rule can test directly (a `history` is read by limits only).
VALUE_TYPES = ("string", "number", "boolean", "enum", "list", "datetime", "any")

_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_MAX_FIELDS = 500
_MAX_ENUM_VALUES = 1000
_MAX_SEGMENTS = 8


@dataclass(frozen=True)
class FieldSpec:
    """One field an interaction may carry.

    `derive_from` / `derive_equals` describe a boolean derived when the field is
    absent: `inquiry.resolved` is true when `inquiry.resolution` is `confirmed`.
    """

    path: str
    type: str
    values: tuple[str, ...] = ()
    doc: str = ""
    derive_from: str | None = None
    derive_equals: str | None = None

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))

    def describe(self) -> str:
        """The type in plain words, for messages."""
        if self.type == "enum":
            return "one of " + ", ".join(self.values)
        return {
            "string": "text",
            "number": "a number",
            "boolean": "true or false",
            "list": "a list of texts",
            "datetime": "a date and time",
            "history": "a list of past offers",
            "any": "free-form data",
        }[self.type]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.values:
            out["values"] = list(self.values)
        if self.doc:
            out["doc"] = self.doc
        if self.derive_from:
            out["derive"] = {"from": self.derive_from, "is": self.derive_equals}
        return out


@dataclass(frozen=True)
class Schema:
    """Fields, aliases, free roots and the roles the runtime relies on.

    - `aliases`: a short name standing for a field (`tone` means `tone.label`).
    - `free_roots`: roots under which any path is allowed, typed `any` (`data`).
    - `index`: fields the runtime indexes rules by when they are tested for equality.
    - `time_field`, `customer_id_field`, `history_field`: where the runtime finds the
      interaction's moment, the customer's id (rollout buckets) and the customer's
      recent offers (limits); `thread_field`: the inquiry thread a reply belongs to
      (resolution-gated offers).
    """

    fields: tuple[FieldSpec, ...]
    aliases: tuple[tuple[str, str], ...] = ()
    free_roots: tuple[str, ...] = ()
    index: tuple[str, ...] = ()
    time_field: str | None = None
    customer_id_field: str | None = None
    history_field: str | None = None
    thread_field: str | None = None
    _by_path: dict[str, FieldSpec] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _alias_map: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    _lookups: dict[str, FieldSpec | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_path", {spec.path: spec for spec in self.fields})
        object.__setattr__(self, "_alias_map", dict(self.aliases))
        object.__setattr__(self, "_lookups", {})
        # Worked out once: a schema keys caches that every decision looks up (an offer's
        # eligibility predicate), and hashing every field spec each time showed.
        object.__setattr__(
            self, "_hash", hash((self.fields, self.aliases, self.free_roots, self.index))
        )

    def __hash__(self) -> int:
        return self._hash

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Unpickled in another process (a backtest worker), where strings hash otherwise:
        # the hash is worked out again there.
        self.__dict__.update(state)
        object.__setattr__(
            self, "_hash", hash((self.fields, self.aliases, self.free_roots, self.index))
        )

    def resolve(self, path: str) -> str:
        """The field a path stands for, following aliases."""
        return self._alias_map.get(path, path)

    def lookup(self, path: str) -> FieldSpec | None:
        """The spec for a path (after aliases), `any` under a free root, else None."""
        found = self._lookups.get(path, self._lookups)
        if found is not self._lookups:
            return found  # type: ignore[return-value]  # the cache itself is the miss sentinel
        spec = self._lookup(path)
        if len(self._lookups) < 10_000:
            self._lookups[path] = spec
        return spec

    def _lookup(self, path: str) -> FieldSpec | None:
        path = self.resolve(path)
        spec = self._by_path.get(path)
        if spec is not None:
            return spec
        root, _, rest = path.partition(".")
        if root in self.free_roots and rest:
            return FieldSpec(path, "any")
        return None

    def names(self) -> list[str]:
        """Every name a rule may write, for suggestions."""
        return (
            [s.path for s in self.fields]
            + [a for a, _ in self.aliases]
            + [f"{root}." for root in self.free_roots]
        )

    def field_names(self) -> list[str]:
        return [s.path for s in self.fields]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": SCHEMA_VERSION,
            "fields": {spec.path: spec.to_dict() for spec in self.fields},
            "aliases": dict(self.aliases),
            "free": list(self.free_roots),
            "index": list(self.index),
            "roles": {
                "time": self.time_field,
                "customer_id": self.customer_id_field,
                "history": self.history_field,
                **({"thread": self.thread_field} if self.thread_field else {}),
            },
        }

    @classmethod
    def from_dict(cls, data: Any) -> Schema:
        """Validate schema data (from the studio or a bundle); raise `DSLError` if bad."""
        problems: list[Diagnostic] = []

        def bad(where: str, message: str, hint: str | None = None) -> None:
            if len(problems) < 50:
                problems.append(make("E300", f"{where}: {message}", hint=hint))

        if not isinstance(data, Mapping):
            raise DSLError([make("E300", "schema: expected an object with `fields`")])
        known = {"version", "fields", "aliases", "free", "index", "roles"}
        for key in data:
            if key not in known:
                bad(
                    f"schema.{str(key)[:40]}",
                    "is not a schema setting",
                    did_you_mean(str(key), known),
                )
        if data.get("version", SCHEMA_VERSION) != SCHEMA_VERSION:
            bad("schema.version", f"must be {SCHEMA_VERSION}")
        raw_fields = data.get("fields")
        specs: list[FieldSpec] = []
        if not isinstance(raw_fields, Mapping) or not raw_fields:
            bad("schema.fields", "expected an object mapping field paths to their types")
            raw_fields = {}
        if len(raw_fields) > _MAX_FIELDS:
            bad("schema.fields", f"has {len(raw_fields)} fields; the limit is {_MAX_FIELDS}")
            raw_fields = {}
        for path, raw in raw_fields.items():
            spec = _field_from_dict(path, raw, bad)
            if spec is not None:
                specs.append(spec)
        paths = {s.path for s in specs}
        for spec in specs:
            for other in paths:
                if other.startswith(spec.path + ".") and spec.type != "any":
                    bad(
                        f"schema.fields.{spec.path}",
                        f"is a value but `{other}` is declared under it",
                    )
            if spec.derive_from is not None and spec.derive_from not in paths:
                bad(
                    f"schema.fields.{spec.path}.derive",
                    f"refers to unknown field `{spec.derive_from}`",
                )
        aliases = data.get("aliases", {})
        alias_pairs: list[tuple[str, str]] = []
        if not isinstance(aliases, Mapping):
            bad("schema.aliases", "expected an object mapping a name to a field")
            aliases = {}
        for name, target in aliases.items():
            if not isinstance(name, str) or not _valid_path(name):
                bad("schema.aliases", f"{quote(str(name))} is not a valid name")
            elif target not in paths:
                bad(f"schema.aliases.{name}", f"refers to unknown field {quote(str(target))}")
            elif name in paths:
                bad(f"schema.aliases.{name}", "is also a field")
            else:
                alias_pairs.append((name, target))
        free = data.get("free", [])
        if not isinstance(free, list) or not all(
            isinstance(f, str) and _SEGMENT.fullmatch(f) for f in free
        ):
            bad("schema.free", 'expected a list of root names such as ["data"]')
            free = []
        index = data.get("index", [])
        if not isinstance(index, list):
            bad("schema.index", "expected a list of field paths")
            index = []
        spec_by_path = {s.path: s for s in specs}
        for path in index:
            spec = spec_by_path.get(path) if isinstance(path, str) else None
            if spec is None or spec.type not in ("string", "enum"):
                bad("schema.index", f"{quote(str(path))} is not a text or enum field")
        roles = data.get("roles", {})
        if not isinstance(roles, Mapping):
            bad("schema.roles", "expected an object")
            roles = {}
        wanted = {
            "time": ("datetime",),
            "customer_id": ("string",),
            "history": ("history",),
            "thread": ("string",),
        }
        for role, value in roles.items():
            if role not in wanted:
                bad(
                    f"schema.roles.{str(role)[:40]}",
                    "is not a role",
                    did_you_mean(str(role), wanted),
                )
            elif value is not None and (
                not isinstance(value, str)
                or spec_by_path.get(value) is None
                or spec_by_path[value].type not in wanted[role]
            ):
                bad(f"schema.roles.{role}", f"must name a {' or '.join(wanted[role])} field")
        if problems:
            raise DSLError(problems)
        return cls(
            fields=tuple(specs),
            aliases=tuple(alias_pairs),
            free_roots=tuple(free),
            index=tuple(index),
            time_field=roles.get("time"),
            customer_id_field=roles.get("customer_id"),
            history_field=roles.get("history"),
            thread_field=roles.get("thread"),
        )


def _valid_path(path: str) -> bool:
    parts = path.split(".")
    return 0 < len(parts) <= _MAX_SEGMENTS and all(_SEGMENT.fullmatch(p) for p in parts)


def _field_from_dict(path: Any, raw: Any, bad: Callable[..., None]) -> FieldSpec | None:
    where = f"schema.fields.{str(path)[:60]}"
    if not isinstance(path, str) or not _valid_path(path):
        bad(where, "is not a valid field path (names of letters, digits and _ joined by dots)")
        return None
    if not isinstance(raw, Mapping):
        bad(where, 'expected an object such as {"type": "string"}')
        return None
    kind = raw.get("type")
    if kind not in TYPES or kind == "any":
        bad(
            where,
            f"type {quote(str(kind))} is not one of {', '.join(t for t in TYPES if t != 'any')}",
            did_you_mean(str(kind), TYPES),
        )
        return None
    values: tuple[str, ...] = ()
    if kind == "enum":
        raw_values = raw.get("values")
        if (
            not isinstance(raw_values, list)
            or not raw_values
            or len(raw_values) > _MAX_ENUM_VALUES
            or not all(
                isinstance(v, str) and 0 < len(v) <= 100 and v.isprintable() for v in raw_values
            )
        ):
            bad(where, "an enum needs `values`: a list of short texts")
            return None
        if len(set(raw_values)) != len(raw_values):
            bad(where, "lists a value twice")
            return None
        values = tuple(raw_values)
    elif "values" in raw:
        bad(where, "only an enum has `values`")
    doc = raw.get("doc", "")
    if not isinstance(doc, str):
        bad(where, "`doc` must be text")
        doc = ""
    derive = raw.get("derive")
    derive_from = derive_equals = None
    if derive is not None:
        if (
            kind != "boolean"
            or not isinstance(derive, Mapping)
            or not isinstance(derive.get("from"), str)
            or not isinstance(derive.get("is"), str)
        ):
            bad(where, '`derive` is {"from": FIELD, "is": VALUE} on a boolean field')
        else:
            derive_from, derive_equals = derive["from"], derive["is"]
    return FieldSpec(path, kind, values, doc[:500], derive_from, derive_equals)


CATEGORIES = ("informational", "diagnostic", "transactional", "advisory", "feedback")
RESOLUTIONS = ("open", "proposed", "confirmed", "failed")
TONES = ("positive", "neutral", "negative", "distressed")
CHANNELS = ("email", "chat", "sms", "phone", "web", "social")
TIERS = ("basic", "silver", "gold", "platinum")


def default_schema() -> Schema:
    """The vocabulary of the design brief: inquiry, tone, customer, `at` and `data`."""
    return Schema(
        fields=(
            FieldSpec("id", "string", doc="The interaction's id."),
            FieldSpec("at", "datetime", doc="When the interaction happened (ISO 8601)."),
            FieldSpec("inquiry.category", "enum", CATEGORIES, "What kind of help was asked for."),
            FieldSpec(
                "inquiry.intent", "string", doc="What the customer wanted, e.g. order_checkbook."
            ),
            FieldSpec("inquiry.channel", "enum", CHANNELS, "Where the contact happened."),
            FieldSpec(
                "inquiry.resolved",
                "boolean",
                doc="Whether the inquiry was resolved; true when resolution is confirmed.",
                derive_from="inquiry.resolution",
                derive_equals="confirmed",
            ),
            FieldSpec("inquiry.resolution", "enum", RESOLUTIONS, "Where the resolution stands."),
            FieldSpec("inquiry.text", "string", doc="What the customer wrote or said."),
            FieldSpec(
                "inquiry.thread_id",
                "string",
                doc="The inquiry thread: a reply carries the id of the contact it answers.",
            ),
            FieldSpec("tone.label", "enum", TONES, "The tone of the exchange."),
            FieldSpec("tone.score", "number", doc="Tone score from -1 (worst) to 1 (best)."),
            FieldSpec("tone.words", "list", doc="The words that drove the tone."),
            FieldSpec("customer.id", "string", doc="The customer's id."),
            FieldSpec(
                "customer.first_name",
                "string",
                doc="The customer's first name, for the greeting in offers and messages.",
            ),
            FieldSpec(
                "customer.authenticated", "boolean", doc="Whether the customer proved who they are."
            ),
            FieldSpec("customer.tier", "enum", TIERS, "The customer's tier."),
            FieldSpec("customer.state", "string", doc="State or region, e.g. CA."),
            FieldSpec("customer.products", "list", doc="Products the customer holds."),
            FieldSpec(
                "customer.recent_offers", "history", doc="Offers made recently: {offer, at}."
            ),
        ),
        aliases=(("tone", "tone.label"),),
        free_roots=("data",),
        index=("inquiry.intent", "inquiry.category", "inquiry.channel"),
        time_field="at",
        customer_id_field="customer.id",
        history_field="customer.recent_offers",
        thread_field="inquiry.thread_id",
    )


#: The last text `parse_datetime` parsed and its answer, as one tuple (replaced whole, so
#: threads never see a text paired with another's answer): a decision reads its `at`
#: several times (the schema check, the contact policy, the ruleset), once parsed.
_last_parsed: tuple[str, datetime | None] = ("", None)


def parse_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text (date or date-time), else None."""
    global _last_parsed
    last = _last_parsed
    if type(value) is str and value == last[0]:
        return last[1]
    if not isinstance(value, str) or len(value) > 40:
        return None
    parsed = _parse_datetime(value)
    _last_parsed = (value, parsed)
    return parsed


_STAMPS: dict[str, float | None] = {}


def timestamp_of(value: Any) -> float | None:
    """Epoch seconds of an ISO 8601 text (`parse_datetime`), else None; memoised: a
    decision reads its `at` in several places (the rules, the contact policy) with other
    dates (offers' validity) parsed in between, and interactions repeat their formats."""
    if type(value) is not str:
        return None
    found = _STAMPS.get(value, _STAMPS)
    if found is not _STAMPS:
        return found  # type: ignore[return-value]  # the cache itself is the miss sentinel
    parsed = parse_datetime(value)
    stamp = parsed.timestamp() if parsed is not None else None
    if len(_STAMPS) >= 16_384:
        _STAMPS.clear()
    _STAMPS[value] = stamp
    return stamp


def _parse_datetime(value: str) -> datetime | None:
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _get(data: Any, segments: Iterable[str]) -> tuple[bool, Any]:
    current = data
    for seg in segments:
        if not isinstance(current, Mapping) or seg not in current:
            return False, None
        current = current[seg]
    return True, current


def _check_value(spec: FieldSpec, value: Any) -> str | None:
    """Why `value` does not fit `spec`, or None when it does."""
    kind = spec.type
    if kind == "enum":
        if not isinstance(value, str) or value not in spec.values:
            shown = (
                repr(value) if isinstance(value, str | int | float | bool) else type(value).__name__
            )
            return f"{shown[:60]} is not one of {', '.join(spec.values)}"
    elif kind == "string":
        if not isinstance(value, str):
            return f"expected text, got {_kind(value)}"
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected a number, got {_kind(value)}"
    elif kind == "boolean":
        if not isinstance(value, bool):
            return f"expected true or false, got {_kind(value)}"
    elif kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "expected a list of texts"
    elif kind == "datetime":
        if parse_datetime(value) is None:
            return "expected an ISO 8601 date and time such as 2026-11-20T10:15:00Z"
    elif kind == "history":
        if not isinstance(value, list):
            return 'expected a list of {"offer": KEY, "at": DATETIME}'
        for i, entry in enumerate(value):
            if (
                not isinstance(entry, Mapping)
                or not isinstance(entry.get("offer"), str)
                or parse_datetime(entry.get("at")) is None
            ):
                return f'entry {i} should be {{"offer": KEY, "at": DATETIME}}'
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def validate_interaction(schema: Schema, interaction: Any) -> list[Diagnostic]:
    """Per-field problems of a sample interaction, each message starting with its path.

    Missing fields are fine (they read as null); wrong types, values outside an enum
    and unknown fields (with a suggestion) are reported.
    """
    if not isinstance(interaction, Mapping):
        return [make("E302", "interaction: expected a JSON object")]
    problems: list[Diagnostic] = []
    for spec in schema.fields:
        present, value = _get(interaction, spec.segments)
        if present and value is not None:
            why = _check_value(spec, value)
            if why:
                problems.append(make("E302", f"{spec.path}: {why}"))
    declared = {s.path for s in schema.fields}
    prefixes = {".".join(s.segments[:i]) for s in schema.fields for i in range(1, len(s.segments))}

    def walk(obj: Mapping[object, object], prefix: str) -> None:
        for key, value in obj.items():
            path = f"{prefix}{key}" if isinstance(key, str) else f"{prefix}?"
            if len(problems) >= 100:
                return
            if path in declared or (not prefix and path in schema.free_roots):
                continue
            if path in prefixes:
                if isinstance(value, Mapping):
                    walk(value, path + ".")
                elif value is not None:
                    problems.append(make("E302", f"{path}: expected an object, got {_kind(value)}"))
                continue
            problems.append(
                make(
                    "E302",
                    f"{path[:80]}: is not a field of the schema",
                    hint=did_you_mean(path, declared),
                )
            )

    walk(interaction, "")
    return problems
