"""One way in for every interaction: shorthands expanded, checked, tone inferred.

Every decider (`studio decide`, `POST /api/v1/decide`, the Python client, the studio's
preview and matrix) calls `prepare_interaction` before any rule reads the interaction,
so a guard never fails open on input one entry point would have read as null:

1. **Shorthands** the schema allows are expanded. An alias that names a field of an
   object (`tone` stands for `tone.label`) may be given as that field's value, so
   ``"tone": "distressed"`` means ``"tone": {"label": "distressed"}``.
2. The interaction is **checked** against the schema (`dsl.schema.validate_interaction`);
   each problem names the field at fault. A decider refuses an interaction with
   problems unless its caller explicitly allows it, and then says so in the decision.
3. When the interaction carries text and no tone, the tone is **inferred** from the
   distress lexicon (`dsl.tone`), which travels in the bundle; without a distress term
   the tone stays unknown.

Pure: no Flask, no database, no VADER.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dsl.diagnostics import DSLError, make
from dsl.schema import FieldSpec, Schema, _check_value, _kind, validate_interaction
from dsl.suggest import did_you_mean
from dsl.tone import DEFAULT_DISTRESS_TERMS, lexicon_tone

TONE_FIELD = "tone"


@dataclass(frozen=True)
class InteractionProblem:
    """One reason an interaction does not fit the schema, at a dotted path."""

    field: str
    message: str
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        return out


@dataclass(frozen=True)
class PreparedInteraction:
    """The interaction every rule reads, and what preparing it found and did."""

    interaction: dict[str, Any]
    problems: tuple[InteractionProblem, ...] = ()
    expanded: tuple[str, ...] = ()
    inferred_tone: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def record(self, *, allowed_invalid: bool = False) -> dict[str, Any]:
        """What a decision says about its input (``decision["interaction"]``)."""
        out: dict[str, Any] = {"valid": self.ok}
        if self.problems:
            out["problems"] = [p.to_dict() for p in self.problems]
            out["allowed_invalid"] = allowed_invalid
        if self.expanded:
            out["expanded"] = list(self.expanded)
        if self.inferred_tone is not None:
            out["inferred_tone"] = dict(self.inferred_tone)
        return out


class InvalidInteraction(DSLError):
    """The interaction does not fit the bundle's schema; `problems` lists every field."""

    def __init__(self, problems: tuple[InteractionProblem, ...]) -> None:
        super().__init__([make("E302", f"{p.field}: {p.message}", hint=p.hint) for p in problems])
        self.problems = problems

    def __str__(self) -> str:
        shown = "; ".join(f"{p.field}: {p.message}" for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        return f"the interaction does not fit the schema: {shown}{more}"


def expand_shorthands(
    schema: Schema, interaction: Mapping[str, Any]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A copy with every alias shorthand expanded, and the paths that were expanded.

    An alias `A` for the field `A.x` lets an interaction give `A` as a plain value:
    ``{"tone": "distressed"}`` becomes ``{"tone": {"label": "distressed"}}``.
    """
    out = dict(interaction)
    expanded: list[str] = []
    for alias, target in schema.aliases:
        parent, _, leaf = target.rpartition(".")
        if parent != alias or "." in alias or not leaf:
            continue
        value = out.get(alias)
        if isinstance(value, str):
            out[alias] = {leaf: value}
            expanded.append(alias)
    return out, tuple(expanded)


@dataclass(frozen=True)
class _Plan:
    """What checking an interaction against one schema needs, worked out once."""

    specs: Mapping[str, tuple[int, FieldSpec]]
    prefixes: frozenset[str]
    free: frozenset[str]


_PLANS: dict[int, tuple[Schema, _Plan]] = {}


def _plan(schema: Schema) -> _Plan:
    found = _PLANS.get(id(schema))
    if found is not None and found[0] is schema:
        return found[1]
    plan = _Plan(
        {spec.path: (n, spec) for n, spec in enumerate(schema.fields)},
        frozenset(
            ".".join(s.segments[:i]) for s in schema.fields for i in range(1, len(s.segments))
        ),
        frozenset(schema.free_roots),
    )
    if len(_PLANS) > 64:
        _PLANS.clear()
    _PLANS[id(schema)] = (schema, plan)
    return plan


def problems_of(schema: Schema, interaction: Any) -> tuple[InteractionProblem, ...]:
    """Every field of `interaction` that does not fit `schema` (after no expansion).

    The same problems, in the same order, as `dsl.schema.validate_interaction` (wrong
    values in schema order, then unknown fields), in one walk over the interaction.
    """
    if not isinstance(interaction, Mapping):
        return tuple(_problem(d) for d in validate_interaction(schema, interaction))
    plan = _plan(schema)
    typed: list[tuple[int, InteractionProblem]] = []
    unknown: list[InteractionProblem] = []

    def walk(obj: Mapping[Any, Any], prefix: str) -> None:
        for key, value in obj.items():
            if len(typed) + len(unknown) >= 100:
                return
            path = prefix + key if type(key) is str else f"{prefix}?"
            entry = plan.specs.get(path)
            if entry is not None:
                if value is not None:
                    why = _check_value(entry[1], value)
                    if why:
                        typed.append((entry[0], InteractionProblem(f"interaction.{path}", why)))
                continue
            if not prefix and path in plan.free:
                continue
            if path in plan.prefixes:
                if type(value) is dict or isinstance(value, Mapping):
                    walk(value, path + ".")
                elif value is not None:
                    unknown.append(
                        InteractionProblem(
                            f"interaction.{path}", f"expected an object, got {_kind(value)}"
                        )
                    )
                continue
            unknown.append(
                InteractionProblem(
                    f"interaction.{path[:80]}",
                    "is not a field of the schema",
                    did_you_mean(path, plan.specs),
                )
            )

    walk(interaction, "")
    typed.sort(key=lambda pair: pair[0])
    return tuple(p for _n, p in typed) + tuple(unknown)


def _problem(diag: Any) -> InteractionProblem:
    path, _, why = diag.message.partition(": ")
    where = "interaction" if path == "interaction" else f"interaction.{path}"
    return InteractionProblem(where, why or diag.message, diag.hint)


def _needs_tone(interaction: Mapping[str, Any]) -> str | None:
    inquiry = interaction.get("inquiry")
    text = inquiry.get("text") if isinstance(inquiry, Mapping) else None
    if not isinstance(text, str) or not text.strip():
        return None
    tone = interaction.get(TONE_FIELD)
    if isinstance(tone, Mapping) and tone.get("label") not in (None, ""):
        return None
    return text


def prepare_interaction(
    schema: Schema, interaction: Any, distress_terms: tuple[str, ...] = DEFAULT_DISTRESS_TERMS
) -> PreparedInteraction:
    """Expand, check and complete `interaction` for deciding (see the module's doc).

    Never raises: an interaction that is not even an object is one problem at
    `interaction`, and comes back as an empty interaction.
    """
    if not isinstance(interaction, Mapping):
        return PreparedInteraction({}, problems_of(schema, interaction))
    body, expanded = expand_shorthands(schema, interaction)
    problems = problems_of(schema, body)
    inferred = None
    uses_tone = schema.lookup("tone.label") is not None
    text = _needs_tone(body) if uses_tone else None
    if text is not None:
        inferred = lexicon_tone(text, distress_terms)
        if inferred is not None:
            existing = body.get(TONE_FIELD)
            body[TONE_FIELD] = {**(existing if isinstance(existing, Mapping) else {}), **inferred}
    return PreparedInteraction(body, problems, expanded, inferred)
