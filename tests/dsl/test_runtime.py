from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dsl
from dsl.offers import OfferInfo
from dsl.runtime import bucket

from .conftest import simple_offers

GUARDED = """
never offer when tone is distressed
rule "offer" when inquiry.category is transactional offer rewards_card
rule "later" when inquiry.category is transactional follow up after 7 days with offer card_protection_plan
"""


def test_guard_blocks_offer_when_tone_is_distressed(ruleset, interaction) -> None:
    decision = ruleset(GUARDED).decide(
        interaction(tone={"label": "distressed"}),
        simple_offers("rewards_card", "card_protection_plan"),
    )
    assert decision["offers"] == []
    assert decision["guards"] == [{"line": 2, "text": "tone is distressed"}]


def test_guard_does_not_stop_follow_ups(ruleset, interaction) -> None:
    decision = ruleset(GUARDED).decide(
        interaction(tone={"label": "distressed"}),
        simple_offers("rewards_card", "card_protection_plan"),
    )
    assert decision["follow_ups"] == [
        {"offer": "card_protection_plan", "rule": "later", "after": "P7D"}
    ]


def test_offer_is_made_when_no_guard_fires(ruleset, interaction) -> None:
    decision = ruleset(GUARDED).decide(
        interaction(), simple_offers("rewards_card", "card_protection_plan")
    )
    assert [o["offer"] for o in decision["offers"]] == ["rewards_card"]
    assert decision["guards"] == []


ARBITRATION = """
at most {n} offers per response
rule "low" when customer.authenticated offer cheap priority 10
rule "high" when customer.authenticated offer dear priority 90
rule "tie-a" when customer.authenticated offer tie_b priority 50
rule "tie-b" when customer.authenticated offer tie_a priority 50
"""


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, ["dear"]), (2, ["dear", "tie_a"]), (4, ["dear", "tie_a", "tie_b", "cheap"])],
)
def test_arbitration_ranks_by_priority_then_value_then_key(
    ruleset, interaction, n, expected
) -> None:
    offers = simple_offers(cheap=1, dear=1, tie_a=5, tie_b=5)
    decision = ruleset(ARBITRATION.format(n=n)).decide(interaction(), offers)
    assert [o["offer"] for o in decision["offers"]] == expected


def test_equal_priority_prefers_higher_value(ruleset, interaction) -> None:
    source = 'rule "a" when customer.authenticated offer small\nrule "b" when customer.authenticated offer big'
    decision = ruleset(source).decide(interaction(), simple_offers(small=1, big=2))
    assert [o["offer"] for o in decision["offers"]] == ["big", "small"]


def test_same_offer_from_two_rules_is_made_once_by_the_stronger_rule(ruleset, interaction) -> None:
    source = 'rule "a" when customer.authenticated offer x priority 1\nrule "b" when inquiry.resolved offer x priority 2'
    decision = ruleset(source).decide(interaction(), simple_offers("x"))
    assert decision["offers"] == [{"offer": "x", "rule": "b", "priority": 2, "value": 10}]


LIMITED = """
limit offers to 1 per customer per 7 days
limit offers to 2 per customer per 30 days
rule "r" when customer.authenticated offer x
"""


@pytest.mark.parametrize(
    ("history", "offered"),
    [
        ([], True),
        ([{"offer": "y", "at": "2026-11-12T10:00:00Z"}], True),
        ([{"offer": "y", "at": "2026-11-18T10:00:00Z"}], False),
        (
            [
                {"offer": "y", "at": "2026-11-01T10:00:00Z"},
                {"offer": "z", "at": "2026-10-25T10:00:00Z"},
            ],
            False,
        ),
        ([{"offer": "y", "at": "2026-11-25T10:00:00Z"}], True),
        ([{"offer": "y", "at": "not a date"}], False),
    ],
)
def test_limits_count_recent_offers_relative_to_at(ruleset, interaction, history, offered) -> None:
    decision = ruleset(LIMITED).decide(
        interaction(customer={"recent_offers": history}), simple_offers("x")
    )
    assert bool(decision["offers"]) is offered
    assert bool(decision["limits"]) is not offered


ROLLOUT = 'rule "pilot" when customer.authenticated offer x to 30% of customers'


def test_rollout_is_deterministic_and_records_holdouts(ruleset, interaction) -> None:
    rules = ruleset(ROLLOUT)
    offered = held = 0
    for n in range(400):
        decision = rules.decide(interaction(customer={"id": f"c-{n}"}), simple_offers("x"))
        again = rules.decide(interaction(customer={"id": f"c-{n}"}), simple_offers("x"))
        assert decision == again
        in_treatment = bucket(f"c-{n}", "pilot") < 30
        assert bool(decision["offers"]) is in_treatment
        assert decision["holdouts"] == ([] if in_treatment else [{"offer": "x", "rule": "pilot"}])
        offered += in_treatment
        held += not in_treatment
    assert 80 < offered < 160


def test_rollout_without_customer_id_is_a_holdout(ruleset, interaction) -> None:
    decision = ruleset(ROLLOUT).decide(interaction(customer={"id": None}), simple_offers("x"))
    assert decision["offers"] == [] and decision["holdouts"] == [{"offer": "x", "rule": "pilot"}]


@pytest.mark.parametrize(
    ("offer", "offered"),
    [
        (OfferInfo("x", 1), True),
        (OfferInfo("x", 1, status="paused"), False),
        (OfferInfo("x", 1, valid_from="2026-11-20", valid_to="2026-11-20"), True),
        (OfferInfo("x", 1, valid_from="2026-11-21"), False),
        (OfferInfo("x", 1, valid_to="2026-11-19"), False),
        (
            OfferInfo(
                "x", 1, eligible_when='customer.state not in ["NY"] and customer.authenticated'
            ),
            True,
        ),
        (OfferInfo("x", 1, eligible_when='customer.state in ["NY"]'), False),
        (OfferInfo("x", 1, eligible_when="data.refill.savings_pct > 5"), True),
        (
            OfferInfo(
                "x", 1, eligible_when=dsl.check_expression("data.refill.savings_pct > 50").ir
            ),
            False,
        ),
    ],
)
def test_offer_status_validity_and_eligibility_filter_candidates(
    ruleset, interaction, offer, offered
) -> None:
    decision = ruleset('rule "r" when customer.authenticated offer x').decide(
        interaction(), {"x": offer}
    )
    assert bool(decision["offers"]) is offered


def test_offers_may_be_given_as_a_list_of_dicts(ruleset, interaction) -> None:
    decision = ruleset('rule "r" when customer.authenticated offer x').decide(
        interaction(), [{"key": "x", "value": 3, "eligible_when": "customer.tier is gold"}]
    )
    assert decision["offers"][0]["value"] == 3


def test_follow_up_validity_is_checked_at_the_follow_up_time(ruleset, interaction) -> None:
    rules = ruleset('rule "r" when customer.authenticated follow up after 7 days with x')
    ends_soon = {"x": OfferInfo("x", 1, valid_to="2026-11-22")}
    assert rules.decide(interaction(), ends_soon)["follow_ups"] == []
    assert rules.decide(interaction(), {"x": OfferInfo("x", 1)})["follow_ups"][0]["after"] == "P7D"


@pytest.mark.parametrize(
    ("condition", "changes", "matched"),
    [
        ("tone is not negative", {"tone": None}, False),
        ("not tone is negative", {"tone": None}, True),
        ("tone.score < -0.5", {"tone": {"score": "very low"}}, False),
        ("customer.tier in [gold, platinum]", {"customer": {"tier": 7}}, False),
        ('customer.products contains "checking"', {"customer": {"products": "checking"}}, False),
        ("data.refill.savings_pct > 5", {"data": {"refill": {"savings_pct": "8"}}}, False),
        ("data.refill.savings_pct > 5", {"data": {"refill": {"savings_pct": 8}}}, True),
        ("data.flag", {"data": {"flag": 1}}, False),
        ("inquiry.resolved", {"inquiry": {"resolution": "confirmed"}}, True),
        ("inquiry.resolved", {"inquiry": {"resolution": "proposed"}}, False),
        ("inquiry.resolved", {"inquiry": {"resolution": "proposed", "resolved": True}}, True),
        ('inquiry.text contains "CHECKBOOK"', {}, True),
        ('at > "2026-11-20"', {}, True),
        ('at < "2026-11-20"', {"at": "garbage"}, False),
        ("tone.score < data.limit", {"data": {"limit": 1}}, True),
        ("tone.score < data.limit", {"data": {"limit": "1"}}, False),
    ],
)
def test_missing_or_mistyped_fields_read_as_null(
    ruleset, interaction, condition, changes, matched
) -> None:
    decision = ruleset(f'rule "r" when {condition} offer x').decide(
        interaction(**changes), simple_offers("x")
    )
    assert bool(decision["offers"]) is matched


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
junk = (
    st.fixed_dictionaries(
        {},
        optional={
            "at": json_values,
            "inquiry": json_values,
            "tone": json_values,
            "customer": json_values,
            "data": json_values,
        },
    )
    | json_values
)


@settings(max_examples=150, deadline=None)
@given(junk)
def test_decide_never_raises_on_any_interaction(example_source, example_offers, value) -> None:
    rules = dsl.load_ruleset(dsl.compile_ruleset(example_source).ir)
    decision = rules.decide(value, example_offers, explain=True)
    json.dumps(decision)
    assert {k: v for k, v in decision.items() if k != "trace"} == rules.decide(
        value, example_offers
    )


def test_explain_traces_every_rule(ruleset, interaction, example_source, example_offers) -> None:
    rules = dsl.load_ruleset(dsl.compile_ruleset(example_source).ir)
    trace = rules.decide(
        interaction(tone={"label": "negative", "score": -0.72, "words": ["furious"]}),
        example_offers,
        explain=True,
    )["trace"]
    named = [r["rule"] for r in trace["rules"]] + [
        n for group in trace["skipped"] for n in group["rules"]
    ]
    assert sorted(named) == sorted(r["name"] for r in rules.rules)
    overdraft = next(r for r in trace["rules"] if r["rule"].startswith("Overdraft"))
    assert overdraft["failed"] == "tone is not negative"
    assert overdraft["actual"] == {
        "tone.label": "negative",
        "tone.score": -0.72,
        "tone.words": ["furious"],
    }
    assert {"field": "inquiry.category", "actual": "transactional"}.items() <= trace["skipped"][
        -1
    ].items()


def test_explain_reports_why_offers_were_not_made(ruleset, interaction) -> None:
    trace = ruleset(GUARDED).decide(
        interaction(tone={"label": "distressed"}),
        simple_offers("rewards_card", "card_protection_plan"),
        explain=True,
    )["trace"]
    assert trace["offers"] == [
        {"offer": "rewards_card", "rule": "offer", "kind": "offer", "outcome": "stopped by a guard"}
    ]
    assert trace["guards"][0]["fired"] is True


def test_example_interactions_decide_as_documented(example_source, example_offers) -> None:
    from .conftest import EXAMPLES

    rules = dsl.load_ruleset(dsl.compile_ruleset(example_source, offers=example_offers).ir)
    stolen = rules.decide(json.loads((EXAMPLES / "stolen_card.json").read_text()), example_offers)
    assert stolen["offers"] == [] and [f["offer"] for f in stolen["follow_ups"]] == [
        "card_protection_plan"
    ]
    checkbook = rules.decide(
        json.loads((EXAMPLES / "checkbook_order.json").read_text()), example_offers
    )
    assert [o["offer"] for o in checkbook["offers"]] == ["realtime_contact"]
    email = rules.decide(
        json.loads((EXAMPLES / "diagnostic_email.json").read_text()), example_offers
    )
    assert [f["offer"] for f in email["follow_ups"]] == ["check_in"]


def test_many_rules_are_indexed_and_only_candidates_are_evaluated(ruleset, interaction) -> None:
    source = "\n".join(
        f'rule "r{n}" when inquiry.intent is "i{n}" offer x priority {n}' for n in range(300)
    )
    rules = ruleset(source)
    decision = rules.decide(
        interaction(inquiry={"intent": "i42"}), simple_offers("x"), explain=True
    )
    assert decision["offers"][0]["rule"] == "r42"
    assert [r["rule"] for r in decision["trace"]["rules"]] == ["r42"]
    assert len(decision["trace"]["skipped"][0]["rules"]) == 299


@pytest.mark.parametrize(
    ("value", "offered"),
    [
        (False, True),
        (0, True),
        (0.0, True),
        ("0", False),
        (True, False),
        (1, False),
        (None, False),
    ],
)
def test_free_data_in_a_mixed_list_matches_by_type_and_value(value, offered) -> None:
    ruleset = dsl.load_ruleset(
        dsl.compile_ruleset(
            'rule "r" when data.flag in [0, false] offer a', offers={"a": OfferInfo("a")}
        ).ir
    )
    for explain in (False, True):
        decision = ruleset.decide({"data": {"flag": value}}, {"a": OfferInfo("a")}, explain=explain)
        assert bool(decision["offers"]) is offered
