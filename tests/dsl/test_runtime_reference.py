"""The optimised runtime (index, generated code, typed slots) decides as a plain
interpreter of the IR does, on random rulesets and interactions, explain included:
the lazy trace, read after the caller edited its interaction, still says what the
interaction was when deciding, and serialises as it reads."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dsl
from dsl.codegen import expr_fields
from dsl.offers import OfferInfo
from tests.dsl import ir_reference as ref

OFFERS = {key: OfferInfo(key, value=v) for v, key in enumerate(("a", "b", "c"))}
INTENTS = ("i1", "i2", "i3")
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.5, -1.5, 2.0]),
    st.sampled_from(["x", "y", "X", "i1", "gold", "2026-11-20T10:15:00Z"]),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))
LITERALS = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0.5, -1.5, 2.0]),
    st.booleans(),
    st.sampled_from(['"x"', '"y"', '"i1"']),
)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@st.composite
def conditions(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 9 if depth < 2 else 7))
    if kind == 0:
        return f'inquiry.intent is "{draw(st.sampled_from(INTENTS))}"'
    if kind == 1:
        return f"inquiry.category is {draw(st.sampled_from(['transactional', 'diagnostic']))}"
    if kind == 2:
        op = draw(st.sampled_from([">", ">=", "<", "<="]))
        return f"tone.score {op} {draw(st.sampled_from(['0', '0.5', '-0.5']))}"
    if kind == 3:
        return draw(
            st.sampled_from(["customer.authenticated", "inquiry.resolved", "tone is not negative"])
        )
    if kind == 4:
        return f'customer.products contains "{draw(st.sampled_from(["x", "y"]))}"'
    if kind == 5:
        field = f"data.{draw(st.sampled_from(['a', 'b']))}"
        op = draw(st.sampled_from(["is", "is not", ">", "<=", "contains"]))
        return f"{field} {op} {_literal(draw(LITERALS))}"
    if kind == 6:
        field = f"data.{draw(st.sampled_from(['a', 'b']))}"
        items = draw(st.lists(LITERALS, min_size=1, max_size=3))
        op = draw(st.sampled_from(["in", "not in"]))
        return f"{field} {op} [{', '.join(_literal(v) for v in items)}]"
    if kind == 7:
        return f"customer.tier in [{', '.join(draw(st.lists(st.sampled_from(['gold', 'basic']), min_size=1, max_size=2)))}]"
    if kind == 8:
        return f"not ({draw(conditions(depth + 1))})"
    return f"({draw(conditions(depth + 1))} or {draw(conditions(depth + 1))})"


@st.composite
def rulesets(draw: st.DrawFn) -> str:
    lines = []
    if draw(st.booleans()):
        lines.append(f"never offer when {draw(conditions())}")
    for k in range(draw(st.integers(1, 6))):
        when = " and ".join(draw(st.lists(conditions(), min_size=1, max_size=3)))
        lines.append(
            f'rule "r{k}"\n  when {when}\n  offer {draw(st.sampled_from(sorted(OFFERS)))}\n'
            f"  priority {draw(st.integers(0, 3))}"
        )
    return "\n".join(lines) + "\n"


@st.composite
def interactions(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "at": "2026-11-20T10:15:00Z",
        "inquiry": {
            "intent": draw(st.one_of(st.sampled_from(INTENTS), VALUES)),
            "category": draw(st.sampled_from(["transactional", "diagnostic", 3])),
            "resolution": draw(st.sampled_from(["confirmed", "open", None])),
        },
        "tone": {
            "label": draw(st.sampled_from(["negative", "positive", None])),
            "score": draw(VALUES),
        },
        "customer": {
            "id": "c-1",
            "authenticated": draw(VALUES),
            "tier": draw(st.sampled_from(["gold", "basic", 1])),
            "products": draw(VALUES),
        },
        "data": {"a": draw(VALUES), "b": draw(VALUES)},
    }


def _edit_in_place(interaction: dict[str, Any]) -> None:
    """What a caller deciding in a loop over one reused dict does between decisions."""
    for part in interaction.values():
        if isinstance(part, dict):
            for key, value in part.items():
                if isinstance(value, list):
                    value.append("edited")
                else:
                    part[key] = "edited"


def _raw(interaction: Any, path: str) -> Any:
    current = interaction
    for segment in path.split("."):
        current = current.get(segment) if isinstance(current, dict) else None
    return current


def _compiled(source: str) -> dsl.Ruleset | None:
    result = dsl.compile_ruleset(source, offers=OFFERS)
    return dsl.load_ruleset(result.ir) if result.ok else None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rulesets(), st.lists(interactions(), min_size=1, max_size=4))
def test_generated_runtime_agrees_with_a_plain_interpreter_of_the_ir(
    source: str, samples: list
) -> None:
    ruleset = _compiled(source)
    if ruleset is None:
        return  # a random ruleset the checker refuses has no runtime to compare
    schema = ruleset.schema
    for interaction in samples:
        fired, matched = ruleset._generated.run(interaction)
        want_fired = [
            k for k, g in enumerate(ruleset.guards) if ref.holds(schema, g["when"], interaction)
        ]
        want_matched = [
            k for k, r in enumerate(ruleset.rules) if ref.first_failed(schema, r, interaction) < 0
        ]
        assert sorted(fired) == want_fired, (source, json.dumps(interaction))
        assert sorted(matched) == want_matched, (source, json.dumps(interaction))

        original = copy.deepcopy(interaction)
        decision = ruleset.decide(interaction, OFFERS, explain=True)
        _edit_in_place(interaction)  # a caller reusing its dict: the trace must not change
        interaction = original
        trace = decision["trace"]
        as_read = json.loads(json.dumps(dict(trace.items())))
        assert json.loads(json.dumps(decision))["trace"] == as_read
        assert copy.deepcopy(trace) == trace and type(copy.deepcopy(trace)) is dict
        assert [g["fired"] for g in trace["guards"]] == [
            k in want_fired for k in range(len(ruleset.guards))
        ]
        by_name = {r["name"]: (k, r) for k, r in enumerate(ruleset.rules)}
        for row in trace["rules"]:
            k, rule = by_name[row["rule"]]
            failed = ref.first_failed(schema, rule, interaction)
            assert row["matched"] == (failed < 0), (source, json.dumps(interaction))
            if failed >= 0:
                part = ref.conjuncts(rule["when"])[failed]
                assert row["failed"] == part.get("text", row["failed"]), (
                    source,
                    json.dumps(interaction),
                )
                for path in expr_fields(part, []):
                    assert row["actual"][path] == _raw(interaction, path), (source, path)
        skipped = {name for group in trace["skipped"] for name in group["rules"]}
        traced = {row["rule"] for row in trace["rules"]}
        assert skipped | traced == set(by_name) and not skipped & traced
        assert all(by_name[name][0] not in want_matched for name in skipped)
        plain = ruleset.decide(interaction, OFFERS)
        assert {k: v for k, v in decision.items() if k != "trace"} == plain
        offered_rules = {o["rule"] for o in plain["offers"]}
        assert offered_rules <= {ruleset.rules[k]["name"] for k in want_matched}
        if want_fired:
            assert plain["offers"] == []
