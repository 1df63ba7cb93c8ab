from __future__ import annotations

import pytest

from dsl import DSLError, Schema, default_schema, validate_interaction

from .conftest import BASE_INTERACTION


def test_default_schema_round_trips_through_data() -> None:
    schema = default_schema()
    assert Schema.from_dict(schema.to_dict()) == schema


def test_default_schema_covers_the_design_vocabulary() -> None:
    schema = default_schema()
    assert schema.lookup("inquiry.channel").values == (
        "email",
        "chat",
        "sms",
        "phone",
        "web",
        "social",
    )
    assert schema.lookup("customer.tier").values == ("basic", "silver", "gold", "platinum")
    assert schema.lookup("tone").path == "tone.label"
    assert schema.lookup("data.any.path").type == "any"
    assert schema.lookup("customer.recent_offers").type == "history"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"fields": {"a": {"type": "enm"}}}, "did you mean `enum`?"),
        ({"fields": {"a b": {"type": "string"}}}, "not a valid field path"),
        ({"fields": {"__import__('os')": {"type": "string"}}}, "not a valid field path"),
        ({"fields": {"a": {"type": "enum", "values": []}}}, "an enum needs"),
        ({"fields": {"a": {"type": "enum", "values": ["x", "x"]}}}, "twice"),
        ({"aliases": {"t": "nope"}}, "unknown field"),
        ({"index": ["tone.score"]}, "not a text or enum field"),
        ({"roles": {"time": "tone.score"}}, "datetime"),
        ({"bogus": 1}, "not a schema setting"),
        ({"version": 2}, "must be 1"),
    ],
)
def test_bad_schema_data_raises_dsl_error(change: dict, fragment: str) -> None:
    data = {**default_schema().to_dict(), **change}
    with pytest.raises(DSLError) as err:
        Schema.from_dict(data)
    shown = " ".join(f"{d.message} {d.hint or ''}" for d in err.value.diagnostics)
    assert fragment in shown and all(d.code == "E300" for d in err.value.diagnostics)


def test_sample_interaction_is_valid() -> None:
    assert validate_interaction(default_schema(), BASE_INTERACTION) == []


@pytest.mark.parametrize(
    ("interaction", "message"),
    [
        (
            {"customer": {"tier": "diamond"}},
            "customer.tier: 'diamond' is not one of basic, silver, gold, platinum",
        ),
        ({"tone": {"score": "low"}}, "tone.score: expected a number, got text"),
        (
            {"customer": {"authenticated": "yes"}},
            "customer.authenticated: expected true or false, got text",
        ),
        ({"at": "yesterday"}, "at: expected an ISO 8601 date and time"),
        (
            {"customer": {"recent_offers": [{"offer": "x"}]}},
            "customer.recent_offers: entry 0 should be",
        ),
        ({"inquiry": 3}, "inquiry: expected an object, got a number"),
        ({"customer": {"teir": "gold"}}, "customer.teir: is not a field of the schema"),
    ],
)
def test_interaction_problems_name_the_field(interaction: dict, message: str) -> None:
    (diag,) = validate_interaction(default_schema(), interaction)
    assert diag.code == "E302" and diag.message.startswith(message)


def test_interaction_that_is_not_an_object_is_reported() -> None:
    assert validate_interaction(default_schema(), [1, 2])[0].code == "E302"
