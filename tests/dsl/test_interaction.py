"""Every decider prepares an interaction the same way: shorthands, problems, tone."""

from __future__ import annotations

from typing import Any

import pytest

from dsl.interaction import InvalidInteraction, prepare_interaction
from dsl.schema import default_schema
from dsl.tone import distress_terms, lexicon_tone

SCHEMA = default_schema()


def test_a_tone_given_as_a_label_string_means_the_tone_object() -> None:
    prepared = prepare_interaction(SCHEMA, {"tone": "distressed"})
    assert prepared.ok
    assert prepared.interaction["tone"] == {"label": "distressed"}
    assert prepared.expanded == ("tone",)


def test_a_label_string_outside_the_enum_is_a_problem_at_the_label() -> None:
    prepared = prepare_interaction(SCHEMA, {"tone": "sad"})
    assert [p.field for p in prepared.problems] == ["interaction.tone.label"]
    assert "'sad' is not one of" in prepared.problems[0].message


@pytest.mark.parametrize(
    ("interaction", "fields"),
    [
        ([1, 2], ["interaction"]),
        ({"tone": 3}, ["interaction.tone"]),
        (
            {"customer": {"tier": "diamond"}, "custmer": {}},
            ["interaction.customer.tier", "interaction.custmer"],
        ),
        ({"inquiry": {"channel": 7}}, ["interaction.inquiry.channel"]),
    ],
)
def test_every_field_at_fault_is_named(interaction: Any, fields: list[str]) -> None:
    assert sorted(p.field for p in prepare_interaction(SCHEMA, interaction).problems) == sorted(
        fields
    )


def test_the_typed_error_lists_every_problem() -> None:
    prepared = prepare_interaction(SCHEMA, {"customer": {"tier": "diamond"}, "custmer": {}})
    error = InvalidInteraction(prepared.problems)
    assert len(error.problems) == 2
    assert "interaction.customer.tier" in str(error) and "interaction.custmer" in str(error)
    assert error.diagnostics[0].code == "E302"


def test_text_without_tone_gets_the_lexicon_tone() -> None:
    prepared = prepare_interaction(SCHEMA, {"inquiry": {"text": "My card was STOLEN, I am scared"}})
    assert prepared.interaction["tone"]["label"] == "distressed"
    assert prepared.inferred_tone == {
        "label": "distressed",
        "score": -0.6,
        "words": ["stolen", "scared"],
    }
    assert prepared.record()["inferred_tone"]["words"] == ["stolen", "scared"]


def test_text_without_a_distress_term_leaves_the_tone_unknown() -> None:
    prepared = prepare_interaction(SCHEMA, {"inquiry": {"text": "Thanks, that was great"}})
    assert "tone" not in prepared.interaction and prepared.inferred_tone is None


def test_a_given_tone_is_never_overridden() -> None:
    body = {"inquiry": {"text": "my wallet was stolen"}, "tone": {"label": "neutral"}}
    assert prepare_interaction(SCHEMA, body).interaction["tone"] == {"label": "neutral"}


def test_the_bundle_lexicon_is_the_one_used() -> None:
    terms = distress_terms({"distress": ["lost my job", "broke*", "  "]})
    assert terms == ("lost my job", "broke*")
    assert lexicon_tone("I just LOST  my job", terms)["words"] == ["lost my job"]
    assert lexicon_tone("my card was stolen", terms) is None
    assert distress_terms(None) == distress_terms({"other": 1})  # the defaults


def test_preparing_never_changes_the_callers_interaction() -> None:
    body: dict[str, Any] = {"tone": "negative", "inquiry": {"text": "robbed"}}
    prepare_interaction(SCHEMA, body)
    assert body == {"tone": "negative", "inquiry": {"text": "robbed"}}


@pytest.mark.parametrize(
    "interaction",
    [
        {"tone": 3},
        {"custmer": {}, "customer": {"tier": "diamond", "x": 1}, "inquiry": "no"},
        {"tone": {"label": "sad", "score": "x"}, "at": "bad", "data": {"q": 1}, 5: 1},
        {"customer": {"recent_offers": [{"offer": 1}]}, "inquiry": {"channel": None}},
    ],
)
def test_the_one_walk_check_reports_what_validate_interaction_reports(interaction: dict) -> None:
    from dsl.interaction import problems_of
    from dsl.schema import validate_interaction

    expected = [
        (f"interaction.{d.message.partition(': ')[0]}", d.message.partition(": ")[2], d.hint)
        for d in validate_interaction(SCHEMA, interaction)
    ]
    assert [(p.field, p.message, p.hint) for p in problems_of(SCHEMA, interaction)] == expected
