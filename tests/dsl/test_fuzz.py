"""Any input at all yields the DSL's own diagnostics, quickly and without echoing it."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dsl
from dsl.diagnostics import render_excerpt

NASTY = [
    "",
    "\x00",
    'rule "a\x00b" when a offer b',
    "a" * 1_000_000,
    '"' + "a" * 1_000_000,
    '"' + "a" * 1_000_000 + '"',
    "#" + "x" * 1_000_000,
    "(" * 10_000 + "a" + ")" * 10_000,
    "never offer when " + "(" * 10_000 + "a" + ")" * 10_000,
    "never offer when " + "not " * 10_000 + "a",
    "never offer when " + "[" * 10_000,
    "never offer when a is 1e309",
    "never offer when a is -1e309",
    "never offer when a > " + "9" * 100_000,
    'never offer when a is "\\u202e"',
    "never offer when a is \u202etxet\u202c",
    'rule "\u2066x\u2069" when a offer b',
    'never offer when a is "unterminated',
    'never offer when a is \'unterminated\nrule "x"',
    'rule "a"\r\nwhen a\rand b\n offer c\r\n',
    '\ufeffrule "a" when a offer b',
    'rule "a" when a offer b\u2028rule "c"',
    'never offer when a is "\\',
    'never offer when a is "\\ud800"',
    "rule " + '"x" ' * 50_000,
    "never offer when " + " and ".join(["tone is negative"] * 10_000),
    "never offer when "
    + " or ".join(f"(tone is negative and tone.score < {n})" for n in range(3_000)),
    "never offer when "
    + " and ".join(f"(tone is negative or tone.score < {n})" for n in range(40)),
    "\n" * 500_000,
    "\t \x0b\x0c",
    'rule "r" when customer.tier is ' + "é" * 100_000 + " offer x",
    "\udcff",
    "🙂 rule",
    "limit offers to 99999999999999999999999 per customer per 7 days",
    "at most 1.5 offers per response",
]


def _assert_well_behaved(source: str) -> None:
    started = time.process_time()
    result = dsl.compile_ruleset(source)
    elapsed = time.process_time() - started
    assert elapsed < 1.0, f"took {elapsed:.2f}s of CPU"
    assert all(d.code in dsl.CODES for d in result.diagnostics)
    for diag in result.diagnostics:
        assert len(diag.message) < 400
        assert len(render_excerpt(source, diag)) < 400
    if result.ok and len(source) < 100_000:
        dsl.load_ruleset(result.ir)


@pytest.mark.parametrize("source", NASTY, ids=range(len(NASTY)))
def test_nasty_input_gets_diagnostics_within_a_second(source: str) -> None:
    _assert_well_behaved(source)


def test_nasty_input_for_expressions_and_formatter() -> None:
    for source in NASTY:
        result = dsl.check_expression(source)
        assert all(d.code in dsl.CODES for d in result.diagnostics)
        try:
            dsl.format_source(source)
        except dsl.DSLError as err:
            assert err.diagnostics


tokens = st.sampled_from(
    [
        "rule",
        '"r"',
        "when",
        "offer",
        "x",
        "never",
        "limit",
        "offers",
        "to",
        "per",
        "customer",
        "days",
        "at",
        "most",
        "response",
        "follow",
        "up",
        "after",
        "with",
        "priority",
        "and",
        "or",
        "not",
        "is",
        "in",
        "contains",
        "(",
        ")",
        "[",
        "]",
        ",",
        "%",
        "of",
        "customers",
        "tone",
        "customer.tier",
        "gold",
        "1",
        "-2.5",
        "==",
        "<",
        "#c\n",
        "\n",
        "'",
        '"',
        "\\",
        "\x00",
        "\u202e",
        "1e999",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(tokens, max_size=40).map(" ".join))
def test_token_soup_never_escapes_the_dsl(source: str) -> None:
    _assert_well_behaved(source)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_escapes_the_dsl(source: str) -> None:
    _assert_well_behaved(source)
