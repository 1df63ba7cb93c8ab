"""The contact policy language: statements, diagnostics, the compiled form."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dsl
from dsl.policy import (
    Cap,
    Contact,
    History,
    compile_policy,
    load_policy,
    parse_rank,
    rank_value,
)

OFFERS = ["refill_generic", "advisor_consultation", "check_in"]


def codes(source: str) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in compile_policy(source, offers=OFFERS).diagnostics]


def test_every_statement_compiles() -> None:
    source = (
        "# the workspace policy\n"
        "never offer when tone is distressed\n"
        "never offer when inquiry.intent in\n"
        '    ["bereavement", "fraud_claim"]\n'
        "never offer anything again after a complaint within 180 days\n"
        "never offer refill_generic again after it was declined within 30 days\n"
        "limit refill_generic to 1 per customer per 7 days\n"
        "limit offers by sms to 2 per customer per 30 days\n"
        "limit refill_generic by chat to 1 per customer per week\n"
        "limit advisor_consultation to 200 per day\n"
        "at most 1 offer per response\n"
        "at most 2 offers per response by chat\n"
        "rank by (priority + 1) * value\n"
        "when nothing qualifies offer check_in by chat\n"
        "when nothing qualifies offer nothing\n"
    )
    result = compile_policy(source, offers=OFFERS)
    assert result.ok and result.diagnostics == ()
    ir = result.ir
    assert [g["line"] for g in ir["guards"]] == [2, 3]
    assert ir["suppressions"] == [
        {
            "line": 5,
            "text": "never offer anything again after a complaint within 180 days",
            "offer": None,
            "outcome": "complaint",
            "seconds": 180 * 86400,
        },
        {
            "line": 6,
            "text": "never offer refill_generic again after it was declined within 30 days",
            "offer": "refill_generic",
            "outcome": "declined",
            "seconds": 30 * 86400,
        },
    ]
    assert [
        (c["scope"], c["offer"], c["channel"], c["count"], c["seconds"]) for c in ir["caps"]
    ] == [
        ("customer", "refill_generic", None, 1, 7 * 86400),
        ("customer", None, "sms", 2, 30 * 86400),
        ("customer", "refill_generic", "chat", 1, 7 * 86400),
        ("day", "advisor_consultation", None, 200, 86400),
    ]
    assert [(a["channel"], a["count"]) for a in ir["at_most"]] == [(None, 1), ("chat", 2)]
    assert [(f["channel"], f["offer"]) for f in ir["fallbacks"]] == [
        ("chat", "check_in"),
        (None, None),
    ]
    assert load_policy(ir).window_seconds == 180 * 86400


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("hello world", [("E220", 1)]),
        ("never offer when tone is sad", [("E201", 1)]),
        ("limit refil to 1 per customer per 7 days", [("E203", 1)]),
        ("limit refill_generic to 1 per customer per 0 days", [("E221", 1)]),
        ("limit refill_generic to 1 per customer per 4000 days", [("E221", 1)]),
        ("limit refill_generic to 1 per customer per 7 fortnights", [("E221", 1)]),
        ("limit refill_generic to 20000 per customer per 7 days", [("E208", 1)]),
        ("limit offers by fax to 1 per customer per 7 days", [("E222", 1)]),
        ("never offer refill_generic again after angry within 5 days", [("E223", 1)]),
        ("rank by priority * cost", [("E224", 1)]),
        ("rank by priority *", [("E224", 1)]),
        ("rank by value\nrank by priority", [("E207", 2)]),
        ("at most 1 offer per response\nat most 2 offers per response", [("E207", 2)]),
        (
            "when nothing qualifies offer check_in\nwhen nothing qualifies offer nothing",
            [("E207", 2)],
        ),
        ("limit refill_generic to 0 per customer per 7 days", [("W405", 1)]),
        ("at most 0 offers per response", [("W405", 1)]),
        (
            "limit check_in to 0 per day\nwhen nothing qualifies offer check_in",
            [("W405", 1), ("W405", 2)],
        ),
    ],
)
def test_each_problem_has_its_code_and_line(source: str, expected: list[tuple[str, int]]) -> None:
    assert codes(source) == expected


def test_a_condition_error_points_into_the_policy() -> None:
    (diag,) = compile_policy("# first\n\nnever offer when customer.teir is gold").diagnostics
    assert (diag.code, diag.line, diag.column) == ("E200", 3, 18)
    assert diag.hint == "did you mean `customer.tier`?"


def test_a_suggestion_for_an_unknown_offer() -> None:
    (diag,) = compile_policy("limit refill_generc to 1 per day", offers=OFFERS).diagnostics
    assert diag.code == "E203" and diag.hint == "did you mean `refill_generic`?"


def test_ranking_expressions_evaluate_with_precedence_and_safe_division() -> None:
    tree, problem = parse_rank("priority + value * 2 - 1")
    assert problem is None and rank_value(tree, 10, 3) == 15
    tree, _ = parse_rank("value / (priority - 10)")
    assert rank_value(tree, 10, 3) == 0.0
    assert parse_rank("(" * 30 + "value" + ")" * 30)[1] == "the ranking is nested too deeply"


@pytest.mark.parametrize(
    "damage",
    [
        {"ir": "pos-rules"},
        {
            "caps": [
                {
                    "line": 1,
                    "text": "",
                    "scope": "customer",
                    "offer": None,
                    "channel": None,
                    "count": -1,
                    "seconds": 10,
                }
            ]
        },
        {
            "suppressions": [
                {"line": 1, "text": "", "offer": None, "outcome": "angry", "seconds": 10}
            ]
        },
        {"rank": {"line": 1, "text": "", "expr": ["call", "os.system"]}},
        {"guards": "all"},
    ],
)
def test_a_damaged_compiled_policy_is_refused(damage: dict) -> None:
    ir = {**compile_policy("at most 1 offer per response").ir, **damage}
    with pytest.raises(dsl.DSLError) as caught:
        load_policy(ir)
    assert caught.value.diagnostics[0].code == "E304"


@pytest.mark.parametrize(
    "source",
    [
        "",
        "\x00",
        "never offer when (((((",
        "rank by " + "(" * 500,
        "limit " * 1000,
        "never offer when tone is distressed\n\t\t  \n  x",
    ],
)
def test_any_input_gives_diagnostics_never_an_exception(source: str) -> None:
    result = compile_policy(source, offers=OFFERS)
    assert result.ok or result.errors


_contacts = st.lists(
    st.builds(
        Contact,
        st.sampled_from(["o1", "o2", "o3"]),
        st.sampled_from(["sms", "chat", None]),
        st.floats(-400.0, 50.0).map(lambda days: 1_780_000_000.0 + days * 86400),
    ),
    max_size=60,
)
_caps = st.builds(
    Cap,
    st.just(1),
    st.just("limit"),
    st.just("customer"),
    st.sampled_from(["o1", "o2", None]),
    st.sampled_from(["sms", "chat", None]),
    st.just(3),
    st.integers(1, 400 * 86400),
)


@given(_contacts, _caps, st.booleans())
@settings(max_examples=300, deadline=None)
def test_history_counts_a_cap_as_a_plain_scan_does_in_any_order_and_with_future_entries(
    contacts: list[Contact], cap: Cap, reverse: bool
) -> None:
    moment = 1_780_000_000.0
    since = moment - cap.seconds
    expected = sum(
        1
        for c in contacts
        if c.offer == (cap.offer or c.offer)
        and c.channel == (cap.channel or c.channel)
        and min(c.at, moment) > since
    )
    history = History(sorted(contacts, key=lambda c: c.at, reverse=reverse))
    assert history.count(cap, moment) == expected
    assert History(contacts).count(cap, moment) == expected
    assert Counter(history.contacts) == Counter(contacts)
