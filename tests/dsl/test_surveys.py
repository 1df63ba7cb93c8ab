"""`ask survey KEY [to P% of customers]`: parsed, checked, compiled and decided."""

from __future__ import annotations

import copy

import pytest

import dsl

SOURCE = """never offer when tone is distressed

rule "Ask hotel guests about breakfast"
  when inquiry.category is feedback
  ask survey breakfast_hours to 50% of customers
  offer half_off

rule "Everyone rates the lobby"
  when inquiry.category is feedback
  ask survey lobby
  priority 5
"""
OFFERS = [{"key": "half_off", "value": 10}]
SURVEYS = ["breakfast_hours", "lobby"]


def _interaction(customer: str, tone: str = "neutral") -> dict:
    return {
        "inquiry": {"category": "feedback"},
        "customer": {"id": customer},
        "tone": {"label": tone},
    }


def _ruleset() -> dsl.Ruleset:
    result = dsl.compile_ruleset(SOURCE, offers=["half_off"], surveys=SURVEYS)
    assert result.ok, result.diagnostics
    return dsl.load_ruleset(result.ir)


def test_a_survey_clause_survives_formatting() -> None:
    formatted = dsl.format_source(SOURCE)
    assert "  ask survey breakfast_hours to 50% of customers" in formatted
    assert (
        dsl.compile_ruleset(formatted, surveys=SURVEYS).ir
        == dsl.compile_ruleset(SOURCE, surveys=SURVEYS).ir
    )


def test_an_unknown_survey_key_is_an_error_with_a_suggestion() -> None:
    result = dsl.compile_ruleset(SOURCE.replace("survey lobby", "survey lobbby"), surveys=SURVEYS)
    [problem] = result.errors
    assert (problem.code, problem.line, problem.hint) == ("E230", 10, "did you mean `lobby`?")
    assert result.ir is None


def test_without_published_surveys_the_hint_says_to_publish_one() -> None:
    [problem] = dsl.compile_ruleset(SOURCE, surveys=[]).errors[:1]
    assert problem.code == "E230" and "publish" in problem.hint


def test_survey_keys_are_not_checked_when_none_are_given() -> None:
    assert dsl.compile_ruleset(SOURCE).ok


@pytest.mark.parametrize("percent", ["0", "101", "-5"])
def test_a_survey_share_must_lie_between_0_and_100(percent: str) -> None:
    source = SOURCE.replace("to 50%", f"to {percent}%")
    assert "E208" in [d.code for d in dsl.compile_ruleset(source, surveys=SURVEYS).errors]


def test_asking_the_same_survey_twice_in_a_rule_is_refused() -> None:
    source = SOURCE.replace("  ask survey lobby\n", "  ask survey lobby\n  ask survey lobby\n")
    assert [d.code for d in dsl.compile_ruleset(source, surveys=SURVEYS).errors] == ["E207"]


def test_a_rule_that_only_asks_a_survey_does_something() -> None:
    source = 'rule "Only a survey"\n  ask survey lobby\n'
    assert dsl.compile_ruleset(source, surveys=SURVEYS).ok


def test_rules_without_surveys_compile_to_the_same_ir_as_before() -> None:
    ir = dsl.compile_ruleset('rule "r"\n  offer half_off\n').ir
    assert "surveys" not in ir["rules"][0]


def test_the_decision_lists_each_survey_once_strongest_rule_first() -> None:
    ruleset = _ruleset()
    asked = [ruleset.decide(_interaction(f"c{n}"), OFFERS)["surveys"] for n in range(200)]
    assert all(a[0] == {"survey": "lobby", "rule": "Everyone rates the lobby"} for a in asked)
    sampled = sum(
        1
        for a in asked
        if {"survey": "breakfast_hours", "rule": "Ask hotel guests about breakfast"} in a
    )
    assert 60 < sampled < 140


def test_the_survey_sample_is_stable_per_customer() -> None:
    ruleset = _ruleset()
    first = [ruleset.decide(_interaction(f"c{n}"), OFFERS)["surveys"] for n in range(50)]
    again = [ruleset.decide(_interaction(f"c{n}"), OFFERS)["surveys"] for n in range(50)]
    assert first == again


def test_a_guard_that_fires_stops_surveys() -> None:
    decision = _ruleset().decide(_interaction("c1", tone="distressed"), OFFERS)
    assert decision["surveys"] == [] and decision["guards"]


def test_a_decision_without_matches_has_an_empty_survey_list() -> None:
    decision = _ruleset().decide({"inquiry": {"category": "advisory"}}, OFFERS)
    assert decision["surveys"] == []


@pytest.mark.parametrize(
    "damage",
    [
        {"survey": "bad key!"},
        {"survey": "lobby", "percent": 500},
        {"survey": "lobby", "x": 1},
        "lobby",
    ],
)
def test_a_damaged_survey_entry_in_the_ir_is_refused(damage: object) -> None:
    ir = copy.deepcopy(dsl.compile_ruleset(SOURCE, surveys=SURVEYS).ir)
    ir["rules"][1]["surveys"] = [damage]
    with pytest.raises(dsl.DSLError) as failed:
        dsl.load_ruleset(ir)
    assert failed.value.diagnostics[0].code == "E301"
