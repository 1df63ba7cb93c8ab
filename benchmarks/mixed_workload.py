"""The honest rule workload shared by the speed benchmarks and the runtime's property test.

`make_rules(n)` draws `n` rules from a fixed seed: 55% are keyed on the indexed field
`inquiry.intent` (several rules share an intent), 45% test nothing the index can use
(tone, tier, products and free-form `data.*` fields, numeric and text). `make_interactions`
draws interactions over the same vocabulary, with `data.*` fields sometimes missing or
of the wrong type. Each rule is a list of `Condition`s, rendered here for every engine
(the rule language, a hand-written Python ceiling, zen-engine, CEL) and judged by
`reference_matches`, a deliberately plain evaluator of the same semantics: a missing or
mistyped value makes a comparison false.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

CATEGORIES = ("informational", "diagnostic", "transactional", "advisory", "feedback")
CHANNELS = ("email", "chat", "sms", "voice", "web")
TONES = ("positive", "neutral", "negative", "distressed")
TIERS = ("basic", "silver", "gold", "platinum")
SEGMENTS = tuple(f"s{k}" for k in range(40))
PRODUCTS = tuple(f"p{k}" for k in range(30))
#: Unkeyed rules select on a segment or a product from a vocabulary that grows with the
#: ruleset, so an interaction matches a handful of rules at any size, as in real use.
VOCABULARY_PER_RULE = 1 / 20
KEYED_SHARE = 0.55


@dataclass(frozen=True)
class Condition:
    """One test: `op` is eq, ne, gt, ge, lt, in or true; `kind` is the field's type."""

    path: str
    op: str
    value: Any
    kind: str  # "text", "number", "boolean", "list"


@dataclass(frozen=True)
class Rule:
    number: int
    conditions: tuple[Condition, ...]
    offer: str
    priority: int


def _intents(n: int) -> int:
    return max(10, n // 8)


def _extra(rng: random.Random) -> Condition:
    pick = rng.randrange(10)
    if pick == 0:
        return Condition("tone.score", "gt", round(rng.uniform(-0.8, 0.6), 2), "number")
    if pick == 1:
        return Condition("customer.tier", "in", tuple(rng.sample(TIERS, 2)), "text")
    if pick == 2:
        return Condition("customer.authenticated", "true", True, "boolean")
    if pick == 3:
        return Condition("inquiry.resolved", "true", True, "boolean")
    if pick == 4:
        return Condition("tone.label", "ne", rng.choice(TONES), "text")
    if pick == 5:
        return Condition("customer.products", "contains", rng.choice(PRODUCTS), "list")
    if pick == 6:
        return Condition(
            "data.basket_total", rng.choice(("gt", "ge", "lt")), rng.randrange(10, 400), "number"
        )
    if pick == 7:
        return Condition("data.visits", "ge", rng.randrange(1, 12), "number")
    if pick == 8:
        return Condition("data.segment", "eq", rng.choice(SEGMENTS), "text")
    return Condition("inquiry.category", "in", tuple(rng.sample(CATEGORIES, 2)), "text")


def _vocabulary(n: int) -> int:
    return max(40, int(n * VOCABULARY_PER_RULE))


def _selective(rng: random.Random, n: int) -> Condition:
    """An unkeyed rule's first test: selective, so few unkeyed rules match."""
    if rng.random() < 0.5:
        return Condition("data.segment", "eq", f"s{rng.randrange(_vocabulary(n))}", "text")
    return Condition("customer.products", "contains", f"p{rng.randrange(_vocabulary(n))}", "list")


def make_rules(n: int, seed: int = 7) -> list[Rule]:
    rng = random.Random(seed)
    rules = []
    intents = _intents(n)
    for k in range(n):
        if rng.random() < KEYED_SHARE:
            first = Condition("inquiry.intent", "eq", f"i{rng.randrange(intents)}", "text")
        else:
            first = _selective(rng, n)
        conditions = [first]
        for _ in range(rng.randrange(1, 4)):
            extra = _extra(rng)
            if all(extra.path != c.path for c in conditions):  # no impossible rules
                conditions.append(extra)
        rules.append(Rule(k, tuple(conditions), f"o{k % 20}", rng.randrange(100)))
    return rules


def make_interactions(n_rules: int, count: int = 1_000, seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    intents = _intents(n_rules)
    out = []
    for k in range(count):
        data: dict[str, Any] = {}
        if rng.random() < 0.8:
            data["segment"] = f"s{rng.randrange(_vocabulary(n_rules))}"
        if rng.random() < 0.7:
            data["basket_total"] = rng.choice(
                (rng.randrange(0, 500), round(rng.uniform(0, 500), 2))
            )
        elif rng.random() < 0.3:
            data["basket_total"] = "unknown"  # mistyped: every comparison with it is false
        if rng.random() < 0.6:
            data["visits"] = rng.randrange(0, 14)
        resolution = rng.choice(("open", "proposed", "confirmed", "failed"))
        out.append(
            {
                "id": f"x{k}",
                "at": "2026-11-20T10:15:00Z",
                "inquiry": {
                    "category": rng.choice(CATEGORIES),
                    "intent": f"i{rng.randrange(intents + intents // 10)}",
                    "channel": rng.choice(CHANNELS),
                    "resolution": resolution,
                },
                "tone": {"label": rng.choice(TONES), "score": round(rng.uniform(-1, 1), 2)},
                "customer": {
                    "id": f"c{rng.randrange(10_000)}",
                    "authenticated": rng.random() < 0.7,
                    "tier": rng.choice(TIERS),
                    "products": [
                        f"p{p}"
                        for p in rng.sample(range(_vocabulary(n_rules)), rng.randrange(0, 4))
                    ],
                    "recent_offers": [],
                },
                "data": data,
            }
        )
    return out


# The reference -----------------------------------------------------------------


def _get(interaction: dict[str, Any], path: str) -> Any:
    current: Any = interaction
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    if path == "inquiry.resolved" and current is None:
        resolution = _get(interaction, "inquiry.resolution")
        return None if resolution is None else resolution == "confirmed"
    return current


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def holds(condition: Condition, interaction: dict[str, Any]) -> bool:
    value = _get(interaction, condition.path)
    op, want = condition.op, condition.value
    if op == "true":
        return value is True
    if op == "contains":
        return isinstance(value, list) and want in value
    if condition.kind == "number":
        if not _is_number(value):
            return False
        return {"gt": value > want, "ge": value >= want, "lt": value < want}[op]
    if not isinstance(value, str):
        return False
    if op == "eq":
        return value == want
    if op == "ne":
        return value != want
    return value in want


def reference_matches(rules: Sequence[Rule], interaction: dict[str, Any]) -> list[int]:
    return [r.number for r in rules if all(holds(c, interaction) for c in r.conditions)]


# The rule language ---------------------------------------------------------------


def _dsl_value(value: Any) -> str:
    return json.dumps(value)


def _dsl_condition(c: Condition) -> str:
    if c.op == "true":
        return c.path
    if c.op == "contains":
        return f"{c.path} contains {_dsl_value(c.value)}"
    if c.op == "in":
        return f"{c.path} in [{', '.join(_dsl_value(v) for v in c.value)}]"
    if c.op == "eq":
        return f"{c.path} is {_dsl_value(c.value)}"
    if c.op == "ne":
        return f"{c.path} is not {_dsl_value(c.value)}"
    return f"{c.path} {({'gt': '>', 'ge': '>=', 'lt': '<'})[c.op]} {c.value}"


def dsl_source(rules: Sequence[Rule]) -> str:
    return "\n".join(
        f'rule "r{r.number}"\n  when '
        + "\n   and ".join(_dsl_condition(c) for c in r.conditions)
        + f"\n  offer {r.offer}\n  priority {r.priority}\n"
        for r in rules
    )


# The hand-written ceiling ------------------------------------------------------------


def _py_condition(c: Condition, var: dict[str, str]) -> str:
    v = var[c.path]
    if c.op == "true":
        return f"{v} is True"
    if c.op == "contains":
        return f"{c.value!r} in {v}"
    if c.kind == "number":
        return f"{v} is not None and {v} {({'gt': '>', 'ge': '>=', 'lt': '<'})[c.op]} {c.value!r}"
    if c.op == "eq":
        return f"{v} == {c.value!r}"
    if c.op == "ne":
        return f"{v} is not None and {v} != {c.value!r}"
    return f"{v} in {set(c.value)!r}"


def ceiling_source(rules: Sequence[Rule]) -> str:
    """What a careful programmer would write by hand: fields read and type-checked once,
    plain `if`s, and the keyed rules behind a dict on `inquiry.intent`."""
    paths = sorted({c.path for r in rules for c in r.conditions} | {"inquiry.intent"})
    var = {p: f"f{k}" for k, p in enumerate(paths)}
    kinds = {c.path: c.kind for r in rules for c in r.conditions}
    lines = [
        "def read(i):",
        "    q = i.get('inquiry') or {}",
        "    t = i.get('tone') or {}",
        "    c = i.get('customer') or {}",
        "    d = i.get('data') or {}",
    ]
    roots = {"inquiry": "q", "tone": "t", "customer": "c", "data": "d"}
    for p in paths:
        root, leaf = p.split(".", 1)
        v = var[p]
        if p == "inquiry.resolved":
            lines.append(
                f"    {v} = q.get('resolution') == 'confirmed' if q.get('resolution') is not None else None"
            )
            continue
        lines.append(f"    {v} = {roots[root]}.get({leaf!r})")
        kind = kinds.get(p, "text")
        check = {
            "number": f"type({v}) is not int and type({v}) is not float",
            "text": f"type({v}) is not str",
            "boolean": f"type({v}) is not bool",
            "list": f"type({v}) is not list",
        }[kind]
        lines.append(f"    if {check}: {v} = None")
        if kind == "list":
            lines.append(f"    if {v} is None: {v} = ()")
    lines.append("    return (" + "".join(f"{var[p]}, " for p in paths) + ")")
    unpack = "    " + ", ".join(var[p] for p in paths) + ", = V"
    buckets: dict[str, list[Rule]] = {}
    free: list[Rule] = []
    for r in rules:
        first = r.conditions[0]
        if first.path == "inquiry.intent":
            buckets.setdefault(first.value, []).append(r)
        else:
            free.append(r)
    for n, (_value, members) in enumerate(buckets.items()):
        lines.append(f"def b{n}(V, m):")
        lines.append(unpack)
        for r in members:
            lines.append(
                f"    if {' and '.join(_py_condition(c, var) for c in r.conditions[1:])}: m.append({r.number})"
            )
    lines.append("D = {" + ", ".join(f"{value!r}: b{n}" for n, value in enumerate(buckets)) + "}")
    lines.append("def match(i):")
    lines.append("    V = read(i)")
    lines.append(unpack)
    lines.append("    m = []")
    for r in free:
        lines.append(
            f"    if {' and '.join(_py_condition(c, var) for c in r.conditions)}: m.append({r.number})"
        )
    lines.append(f"    f = D.get({var['inquiry.intent']})")
    lines.append("    if f is not None: f(V, m)")
    lines.append("    return m")
    return "\n".join(lines) + "\n"


# zen-engine and CEL ------------------------------------------------------------------


def _zen_cell(c: Condition) -> str:
    if c.op == "true":
        return "$ == true"
    if c.op == "contains":
        return f"type($) == 'array' and contains($, {_dsl_value(c.value)})"
    if c.kind == "number":
        sign = {"gt": ">", "ge": ">=", "lt": "<"}[c.op]
        return f"type($) == 'number' and $ {sign} {c.value}"
    if c.op == "eq":
        return _dsl_value(c.value)
    if c.op == "ne":
        return f"type($) == 'string' and $ != {_dsl_value(c.value)}"
    return ", ".join(_dsl_value(v) for v in c.value)


def zen_table(rules: Sequence[Rule]) -> dict[str, Any]:
    """One decision table, hit policy `collect`: zen-engine's form for many rules."""
    paths = sorted({c.path for r in rules for c in r.conditions})
    columns = {p: f"c{k}" for k, p in enumerate(paths)}
    rows = []
    for r in rules:
        row: dict[str, str] = {"_id": f"r{r.number}", "out": str(r.number)}
        for p in paths:
            row[columns[p]] = ""
        for c in r.conditions:
            cell = _zen_cell(c)
            previous = row[columns[c.path]]
            row[columns[c.path]] = f"({previous}) and ({cell})" if previous else cell
        rows.append(row)
    table = {
        "hitPolicy": "collect",
        "inputs": [{"id": columns[p], "name": p, "field": p} for p in paths],
        "outputs": [{"id": "out", "name": "rule", "field": "rule"}],
        "rules": rows,
    }
    return {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "in", "position": {"x": 0, "y": 0}},
            {
                "id": "t",
                "type": "decisionTableNode",
                "name": "t",
                "position": {"x": 0, "y": 0},
                "content": table,
            },
            {"id": "out", "type": "outputNode", "name": "out", "position": {"x": 0, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "sourceId": "in", "targetId": "t", "type": "edge"},
            {"id": "e2", "sourceId": "t", "targetId": "out", "type": "edge"},
        ],
    }


def with_derived(interaction: dict[str, Any]) -> dict[str, Any]:
    """zen and CEL have no derived fields: give them `inquiry.resolved` the way the schema derives it."""
    inquiry = dict(interaction["inquiry"])
    inquiry["resolved"] = inquiry.get("resolution") == "confirmed"
    return dict(interaction, inquiry=inquiry)


def _cel_condition(c: Condition) -> str:
    root, leaf = c.path.split(".", 1)
    ref = f"i.{root}.{leaf}"
    present = f"has({ref})"
    if c.op == "true":
        return f"({present} && {ref} == true)"
    if c.op == "contains":
        return f"({present} && type({ref}) == list && {_dsl_value(c.value)} in {ref})"
    if c.kind == "number":
        sign = {"gt": ">", "ge": ">=", "lt": "<"}[c.op]
        return f"({present} && (type({ref}) == int || type({ref}) == double) && {ref} {sign} {float(c.value)})"
    guard = f"({present} && type({ref}) == string"
    if c.op == "eq":
        return f"{guard} && {ref} == {_dsl_value(c.value)})"
    if c.op == "ne":
        return f"{guard} && {ref} != {_dsl_value(c.value)})"
    return f"{guard} && {ref} in [{', '.join(_dsl_value(v) for v in c.value)}])"


def cel_programs(rules: Sequence[Rule], per_program: int = 500) -> list[tuple[list[int], str]]:
    """CEL lists of booleans, one program per `per_program` rules (fewer when a program
    would pass CEL's 100,000-character expression limit)."""
    out: list[tuple[list[int], str]] = []
    ids: list[int] = []
    parts: list[str] = []
    size = 0
    for r in rules:
        text = " && ".join(_cel_condition(c) for c in r.conditions)
        if ids and (len(ids) >= per_program or size + len(text) > 95_000):
            out.append((ids, "[" + ", ".join(parts) + "]"))
            ids, parts, size = [], [], 0
        ids.append(r.number)
        parts.append(text)
        size += len(text) + 2
    if ids:
        out.append((ids, "[" + ", ".join(parts) + "]"))
    return out
