"""Loading a compiled ruleset and deciding: which offers, which follow-ups, and why.

`load_ruleset` validates the IR, generates one Python module for it
(`dsl.codegen`) and returns a `Ruleset`. `Ruleset.decide` runs the generated
matcher, then applies the language's semantics in plain Python over the (few)
matched rules:

1. Guards that fire stop immediate offers; follow-ups are still scheduled.
2. A matched rule's offer is a candidate when the offer exists, is active, its
   eligibility holds and the interaction's moment is inside its validity window.
3. `to P% of customers`: a deterministic hash of customer id and rule name puts the
   customer in or out; out means a holdout, recorded and not offered.
4. Candidates are ranked by rule priority, then offer value, then offer key (then
   source order); one offer appears once.
5. Limits count the customer's offers in the window before the interaction's `at`;
   the response keeps at most the smallest allowance and `at most N per response`.

Evaluation is total: a missing or mistyped field reads as null, comparisons with
null are false, and nothing about an interaction can make `decide` raise.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from dsl import codegen
from dsl.diagnostics import DSLError, make
from dsl.gc_pause import gc_paused
from dsl.ir import validate_expression_ir, validate_ir
from dsl.offers import OfferInfo, offer_catalog
from dsl.schema import Schema
from dsl.trace import Trace

_MISSING = object()


def _get_path(data: Any, path: str) -> Any:
    current = data
    for segment in path.split("."):
        if type(current) is not dict:
            return None
        current = current.get(segment)
    return current


def bucket(customer_id: str, rule_name: str) -> float:
    """Where a customer falls for a rule's rollout, in [0, 100): stable across runs."""
    digest = hashlib.sha256(
        f"{customer_id}\x1f{rule_name}".encode("utf-8", "surrogatepass")
    ).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


class _PredicateCache:
    """Compiled eligibility expressions, shared by every ruleset with the same schema."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self.items: dict[tuple[int, str], codegen.Predicate] = {}
        self.lock = threading.Lock()

    def get(self, schema: Schema, when: str | Mapping[str, Any]) -> codegen.Predicate:
        text = when if isinstance(when, str) else json.dumps(when, sort_keys=True)
        key = (hash(schema), ("s:" if isinstance(when, str) else "i:") + text)
        found = self.items.get(key)
        if found is not None:
            return found
        if isinstance(when, str):
            from dsl import check_expression

            result = check_expression(when, schema=schema)
            if not result.ok:
                raise DSLError(result.diagnostics)
            ir: Mapping[str, Any] | None = result.ir
        else:
            ir = when
        predicate = codegen.generate_predicate(schema, validate_expression_ir(ir, schema))
        with self.lock:
            if len(self.items) >= self.limit:
                self.items.clear()
            self.items[key] = predicate
        return predicate


_PREDICATES = _PredicateCache()


class Ruleset:
    """A loaded, ready-to-run ruleset. Build it with `load_ruleset`."""

    def __init__(self, ir: dict[str, Any], schema: Schema) -> None:
        self.ir = ir
        self.schema = schema
        self.name: str = ir.get("name", "ruleset")
        self.guards: list[dict[str, Any]] = ir["guards"]
        self.rules: list[dict[str, Any]] = ir["rules"]
        self.limits: list[dict[str, Any]] = ir["limits"]
        self.max_offers: int | None = ir["max_offers"]
        self._generated = codegen.generate(schema, self.guards, self.rules)
        self._explainer: codegen.Generated | None = None
        self._snap: Callable[[Any], dict[str, Any]] | None = None
        self._last_catalog: object = None
        self._skip_memo: dict[int, dict[str, tuple[str, ...]]] = {}
        self._lock = threading.Lock()
        self._plans = codegen.plan_rules(self.rules, schema)
        self._skip_tables: list[tuple[str, dict[str, tuple[int, int]], tuple[str, ...]]] | None = (
            None
        )
        self._explain_tables_cache: _ExplainTables | None = None
        self._rule_offers = [
            [(o["offer"], o.get("percent")) for o in rule["offers"]] for rule in self.rules
        ]

    @property
    def source(self) -> str:
        """The generated Python source, for debugging and review."""
        return self._generated.source

    def _explain_code(self) -> codegen.Generated:
        if self._explainer is None:
            with self._lock:
                if self._explainer is None:
                    tables = self._explain_tables()
                    rows = codegen.ExplainRows(
                        names=[rule["name"] for rule in self.rules],
                        lines=[rule.get("line", 0) for rule in self.rules],
                        texts=[
                            [text for text, _shown in parts] for _name, _line, parts in tables.rows
                        ],
                        shown=[
                            [shown for _text, shown in parts] for _name, _line, parts in tables.rows
                        ],
                    )
                    self._explainer = codegen.generate(
                        self.schema, self.guards, self.rules, explain=rows
                    )
        return self._explainer

    # Deciding --------------------------------------------------------------

    def decide(
        self,
        interaction: dict[str, Any],
        offers: Mapping[str, OfferInfo] | Iterable[Any],
        *,
        explain: bool = False,
    ) -> dict[str, Any]:
        """The decision for one interaction, as JSON-ready data (see docs/rules.md)."""
        catalog = (
            cast(Mapping[str, OfferInfo], offers)
            if offers is self._last_catalog or _is_catalog(offers)
            else offer_catalog(offers)
        )
        fired, matched = self._generated.run(interaction)
        snapshot = self._snapshot()(interaction) if explain else None
        self._last_catalog = catalog
        moment = (
            codegen._timestamp(_get_path(interaction, self.schema.time_field))
            if self.schema.time_field
            else None
        )
        if not matched and not explain:
            return self._empty_decision(fired, moment, interaction)
        matched.sort()
        rules = self.rules
        candidates: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        holdouts: list[dict[str, Any]] = []
        follow_ups: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = [] if explain else None  # type: ignore[assignment]  # used only when explaining
        customer_id: Any = _MISSING
        for rule_id in matched:
            rule = rules[rule_id]
            for follow in rule["follow_ups"]:
                key = follow["offer"]
                when = None if moment is None else moment + follow["seconds"]
                problem = self._unavailable(catalog, key, interaction, when, moment is None)
                if problem:
                    if explain:
                        notes.append(
                            {
                                "offer": key,
                                "rule": rule["name"],
                                "kind": "follow_up",
                                "outcome": problem,
                            }
                        )
                    continue
                entry = {"offer": key, "rule": rule["name"], "after": follow["after"]}
                if "gate" in follow:
                    entry["gate"] = follow["gate"]
                follow_ups.append(entry)
            for key, percent in self._rule_offers[rule_id]:
                problem = self._unavailable(catalog, key, interaction, moment, False)
                if problem:
                    if explain:
                        notes.append(
                            {
                                "offer": key,
                                "rule": rule["name"],
                                "kind": "offer",
                                "outcome": problem,
                            }
                        )
                    continue
                if fired:
                    if explain:
                        notes.append(
                            {
                                "offer": key,
                                "rule": rule["name"],
                                "kind": "offer",
                                "outcome": "stopped by a guard",
                            }
                        )
                    continue
                if percent is not None and customer_id is _MISSING:
                    customer_id = self._customer_id(interaction)
                if percent is not None and (
                    type(customer_id) is not str or bucket(customer_id, rule["name"]) >= percent
                ):
                    holdouts.append({"offer": key, "rule": rule["name"]})
                    if explain:
                        notes.append(
                            {
                                "offer": key,
                                "rule": rule["name"],
                                "kind": "offer",
                                "outcome": "holdout",
                            }
                        )
                    continue
                value = catalog[key].value
                rank = (-rule["priority"], -value, key, rule_id)
                candidates.append(
                    (
                        rank,
                        {
                            "offer": key,
                            "rule": rule["name"],
                            "priority": rule["priority"],
                            "value": value,
                        },
                    )
                )
        candidates.sort(key=lambda c: c[0])
        chosen: list[dict[str, Any]] = []
        seen: set[str] = set()
        allowance, reached = self._allowance(interaction, moment)
        limit = allowance if self.max_offers is None else min(allowance, self.max_offers)
        for _rank, entry in candidates:
            if entry["offer"] in seen:
                if explain:
                    notes.append(
                        {
                            "offer": entry["offer"],
                            "rule": entry["rule"],
                            "kind": "offer",
                            "outcome": "outranked by another rule making the same offer",
                        }
                    )
                continue
            seen.add(entry["offer"])
            if len(chosen) >= limit:
                if explain:
                    capped = self.max_offers is not None and len(chosen) >= self.max_offers
                    outcome = (
                        f"over `at most {self.max_offers}` per response"
                        if capped
                        else "over the customer's contact limit"
                    )
                    notes.append(
                        {
                            "offer": entry["offer"],
                            "rule": entry["rule"],
                            "kind": "offer",
                            "outcome": outcome,
                        }
                    )
                continue
            chosen.append(entry)
            if explain:
                notes.append(
                    {
                        "offer": entry["offer"],
                        "rule": entry["rule"],
                        "kind": "offer",
                        "outcome": "offered",
                    }
                )
        unique_follow: list[dict[str, Any]] = []
        followed: set[str] = set()
        for entry in sorted(follow_ups, key=lambda f: self._rank_of(f["rule"])):
            if entry["offer"] not in followed:
                followed.add(entry["offer"])
                unique_follow.append(entry)
        decision: dict[str, Any] = {
            "ruleset": self.name,
            "offers": chosen,
            "follow_ups": unique_follow,
            "guards": [
                {"line": self.guards[k].get("line", 0), "text": self.guards[k].get("text", "")}
                for k in fired
            ],
            "holdouts": holdouts,
            "limits": reached,
            "surveys": [] if fired else self._surveys(matched, interaction),
        }
        if explain:
            decision["trace"] = Trace(lambda: self._trace(snapshot, notes), {"offers": notes})
        return decision

    def _customer_id(self, interaction: Any) -> str | None:
        found = (
            _get_path(interaction, self.schema.customer_id_field)
            if self.schema.customer_id_field
            else None
        )
        return str(found) if type(found) is int else found

    def _empty_decision(
        self, fired: list[int], moment: float | None, interaction: Any
    ) -> dict[str, Any]:
        """The decision when no rule matched (the common case), without the machinery."""
        return {
            "ruleset": self.name,
            "offers": [],
            "follow_ups": [],
            "guards": [
                {"line": self.guards[k].get("line", 0), "text": self.guards[k].get("text", "")}
                for k in fired
            ],
            "holdouts": [],
            "limits": self._allowance(interaction, moment)[1] if self.limits else [],
            "surveys": [],
        }

    def _surveys(self, matched: list[int], interaction: Any) -> list[dict[str, Any]]:
        """`ask survey KEY [to P%]` of the matched rules, once per survey, strongest rule
        first. A share buckets by customer id, rule and survey key, so the customers asked
        a survey are not simply those a rollout in the same rule picked."""
        asked: list[dict[str, Any]] = []
        seen: set[str] = set()
        customer_id: Any = _MISSING
        for rule_id in sorted(matched, key=lambda r: (-self.rules[r]["priority"], r)):
            rule = self.rules[rule_id]
            for survey in rule.get("surveys", ()):
                key, percent = survey["survey"], survey.get("percent")
                if key in seen:
                    continue
                if percent is not None:
                    if customer_id is _MISSING:
                        customer_id = self._customer_id(interaction)
                    if (
                        type(customer_id) is not str
                        or bucket(customer_id, f"{rule['name']}\x1fsurvey {key}") >= percent
                    ):
                        continue
                seen.add(key)
                asked.append({"survey": key, "rule": rule["name"]})
        return asked

    def _rank_of(self, rule_name: str) -> tuple[int, int]:
        index = self._rule_index()[rule_name]
        return (-self.rules[index]["priority"], index)

    def _rule_index(self) -> dict[str, int]:
        cached = self.__dict__.get("_names")
        if cached is None:
            cached = {rule["name"]: i for i, rule in enumerate(self.rules)}
            self.__dict__["_names"] = cached
        return cached

    def offer_problem(
        self, catalog: Mapping[str, OfferInfo], key: str, interaction: Any
    ) -> str | None:
        """Why offer `key` cannot be made now to `interaction` (unknown, inactive, outside
        its validity window, not eligible), or None; a gated offer is checked with this
        when its resolution releases it."""
        at = _get_path(interaction, self.schema.time_field) if self.schema.time_field else None
        moment = codegen._timestamp(at)
        return self._unavailable(catalog, key, interaction, moment, moment is None)

    def _unavailable(
        self,
        catalog: Mapping[str, OfferInfo],
        key: str,
        interaction: Any,
        moment: float | None,
        unknown_time: bool,
    ) -> str | None:
        info = catalog.get(key)
        if info is None:
            return "unknown offer"
        if info.status != "active":
            return f"offer is {info.status}"
        if unknown_time and (info.window[0] is not None or info.window[1] is not None):
            return "not valid: the interaction has no `at`"
        if not unknown_time and not info.valid_at(moment):
            return "outside the offer's validity window"
        if info.eligible_when is not None and not self._eligible(info, interaction):
            return "not eligible"
        return None

    def _eligible(self, info: OfferInfo, interaction: Any) -> bool:
        cache = info.__dict__.setdefault("_predicates", {})
        predicate: codegen.Predicate | None = cache.get(self.schema)
        if predicate is None:
            assert (
                info.eligible_when is not None
            )  # the caller asks only about offers with a condition
            predicate = _PREDICATES.get(self.schema, info.eligible_when)
            cache[self.schema] = predicate
        return predicate.test(interaction)

    def _allowance(
        self, interaction: Any, moment: float | None
    ) -> tuple[int | float, list[dict[str, Any]]]:
        if not self.limits:
            return float("inf"), []
        history = (
            _get_path(interaction, self.schema.history_field) if self.schema.history_field else None
        )
        stamps: list[float | None] = []
        if type(history) is list:
            for entry in history:
                at = entry.get("at") if type(entry) is dict else None
                stamps.append(codegen._timestamp(at))
        allowance: int | float = float("inf")
        reached = []
        for limit in self.limits:
            if moment is None:
                used = len(stamps)
            else:
                start = moment - limit["seconds"]
                used = sum(1 for s in stamps if s is None or start < s <= moment)
            left = max(limit["count"] - used, 0)
            if left == 0:
                reached.append(
                    {
                        "line": limit.get("line", 0),
                        "count": limit["count"],
                        "period": limit.get("period", ""),
                        "used": used,
                    }
                )
            allowance = min(allowance, left)
        return allowance, reached

    # Explaining ------------------------------------------------------------

    def _skip(self) -> list[tuple[str, dict[str, tuple[int, int]], tuple[str, ...]]]:
        if self._skip_tables is None:
            tables = []
            for index_field in self.schema.index:
                groups: dict[str, list[str]] = {}
                for plan in self._plans:
                    if plan.index_field == index_field:
                        # index_value is set whenever index_field is
                        groups.setdefault(plan.index_value, []).append(  # type: ignore[arg-type]
                            self.rules[plan.rule_id]["name"]
                        )
                if not groups:
                    continue
                flat: list[str] = []
                offsets: dict[str, tuple[int, int]] = {}
                for value, names in groups.items():
                    offsets[value] = (len(flat), len(flat) + len(names))
                    flat.extend(names)
                tables.append((index_field, offsets, tuple(flat)))
            self._skip_tables = tables
        return self._skip_tables

    def _skipped_names(
        self, n: int, actual: Any, offsets: dict[str, tuple[int, int]], flat: tuple[str, ...]
    ) -> tuple[str, ...]:
        """Names of the rules indexed on field `n` under values other than `actual`.

        The tuple is immutable and memoised per value, so a trace over thousands of
        rules costs a dictionary lookup, not a copy of every name.
        """
        span = offsets.get(actual) if type(actual) is str else None
        if span is None:
            return flat
        memo = self._skip_memo.setdefault(n, {})
        names = memo.get(actual)
        if names is None:
            if len(memo) >= 256:
                memo.clear()
            names = memo[actual] = flat[: span[0]] + flat[span[1] :]
        return names

    def _explain_tables(self) -> _ExplainTables:
        """What a trace shows for each rule and guard, worked out once per ruleset: the
        text of every conjunct and the fields whose values it shows."""
        tables = self._explain_tables_cache
        if tables is None:
            tables = _ExplainTables(self.schema, self.rules, self.guards)
            self._explain_tables_cache = tables
        return tables

    def _snapshot(self) -> Callable[[Any], dict[str, Any]]:
        """The copier of every value a trace reads: the fields the rules and guards test
        and the fields shown beside an alias's target."""
        snap = self._snap
        if snap is None:
            paths = list(self._generated.slots)
            for root in {target.rsplit(".", 1)[0] for _alias, target in self.schema.aliases}:
                paths.extend(s.path for s in self.schema.fields if s.path.startswith(root + "."))
            snap = self._snap = codegen.generate_snapshot(paths)
        return snap

    def _trace(self, interaction: Any, notes: list[dict[str, Any]]) -> dict[str, Any]:
        """The trace of `interaction` (a snapshot taken when deciding): a row per rule the
        index did not skip, the skipped rules per index field, every guard, and `notes`
        (what became of each matched rule's offers)."""
        code = self._explain_code()
        tables = self._explain_tables()
        actual = _Actual(interaction)
        shown_values: list[dict[str, Any] | None] = [None] * len(tables.shown)

        def show(n: int) -> dict[str, Any]:
            values = shown_values[n] = actual.of(tables.shown[n])
            return values

        fired_flags, traced, _matched, index_values = code.run(interaction, shown_values, show)
        traced.sort()  # runs already in rule order; rule numbers are unique, rows never compared
        rules_out = [row for _rule_id, row in traced]
        skipped = []
        for n, (index_field, offsets, flat) in enumerate(self._skip()):
            names = self._skipped_names(n, index_values[n], offsets, flat)
            if names:
                skipped.append(
                    {"field": index_field, "actual": actual.value(index_field), "rules": names}
                )
        guards = []
        for k, (line, text, shown) in enumerate(tables.guards):
            guards.append(
                {
                    "line": line,
                    "text": text,
                    "fired": bool(fired_flags[k]),
                    "actual": actual.of(shown),
                }
            )
        return {"rules": rules_out, "skipped": skipped, "guards": guards, "offers": notes}


#: The fields a trace line shows, in order: (path, always). A path shown only
#: sometimes is a field beside an alias's target, shown when it has a value.
_Shown = tuple[tuple[str, bool], ...]


class _ExplainTables:
    """Per ruleset: for each rule a row template and, per conjunct, its text and the
    fields it shows (`tone` also shows `tone.score` and `tone.words`: the fields beside
    an alias's target explain it)."""

    def __init__(
        self, schema: Schema, rules: list[dict[str, Any]], guards: list[dict[str, Any]]
    ) -> None:
        aliased = {target.rsplit(".", 1)[0] for _alias, target in schema.aliases}
        siblings = {
            root: tuple(spec.path for spec in schema.fields if spec.path.startswith(root + "."))
            for root in aliased
        }
        interned: dict[tuple[str, ...], int] = {}
        #: Every distinct set of shown fields; rows refer to them by number.
        self.shown: list[_Shown] = []

        def shown(node: dict[str, Any]) -> int:
            fields = tuple(codegen.expr_fields(node, []))
            found = interned.get(fields)
            if found is None:
                order: list[tuple[str, bool]] = []
                for path in fields:
                    order.append((path, True))
                    order.extend(
                        (other, False) for other in siblings.get(path.rsplit(".", 1)[0], ())
                    )
                found = interned[fields] = len(self.shown)
                self.shown.append(tuple(order))
            return found

        self.rows: list[tuple[str, int, list[tuple[str, int]]]] = [
            (
                rule["name"],
                rule.get("line", 0),
                [(_text_of(part), shown(part)) for part in codegen.conjuncts(rule["when"])],
            )
            for rule in rules
        ]
        self.guards = [
            (g.get("line", 0), g.get("text", ""), self.shown[shown(g["when"])]) for g in guards
        ]


class _Actual:
    """The values a trace shows, read from one interaction at most once per field.

    Trace lines that show the same fields share one `actual` dict: a trace is read, or
    serialised, never edited."""

    __slots__ = ("interaction", "values")

    def __init__(self, interaction: Any) -> None:
        self.interaction = interaction
        self.values: dict[str, Any] = {}

    def value(self, path: str) -> Any:
        values = self.values
        if path in values:
            return values[path]
        found = values[path] = _json_safe(_get_path(self.interaction, path))
        return found

    def of(self, shown: _Shown) -> dict[str, Any]:
        done: dict[str, Any] = {}
        for path, always in shown:
            if always:
                done[path] = self.value(path)
            elif path not in done:
                found = self.value(path)
                if found is not None:
                    done[path] = found
        return done


def _text_of(node: dict[str, Any]) -> str:
    if "text" in node:
        text: str = node["text"]
        return text
    if "not" in node:
        return f"not ({_text_of(node['not'])})"
    word = "and" if "and" in node else "or"
    return f" {word} ".join(f"({_text_of(item)})" for item in node[word])


def _json_safe(value: Any) -> Any:
    if value is None or type(value) in (str, int, float, bool):
        return value
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError, RecursionError):
        return repr(value)[:200]


def _is_catalog(offers: Any) -> bool:
    if not isinstance(offers, Mapping):
        return False
    for info in offers.values():
        return isinstance(info, OfferInfo)
    return True


def load_ruleset(ir: Any) -> Ruleset:
    """Validate a compiled ruleset IR and make it runnable; raise `DSLError` if damaged."""
    with gc_paused():
        schema = validate_ir(ir)
        try:
            return Ruleset(ir, schema)
        except (ValueError, SyntaxError, RecursionError, MemoryError) as err:
            raise DSLError(
                [make("E301", f"the compiled ruleset could not be loaded: {type(err).__name__}")]
            ) from None
