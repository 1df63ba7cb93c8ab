"""After a syntax error the parser keeps reading, so an author sees every problem at once."""

from __future__ import annotations

import pytest

import dsl
from dsl.fixes import fixes_for
from dsl.recovery import recover_ruleset, statement_chunks

SIX_TYPOS = """never offer when tone is distresed

rule "One"
  when inquiry.category is transactonal
  offer overdraft_protection

rule Two
  when inquiry.channel is email
  offer overdraft_protection

rule "Three"
  when inquiry.category is
  offer overdraft_protection

rule "Four"
  when custmer.tier is gold
  offer overdraft_protection

limit offers to 1 per customer per 7 dayz

rule "Five"
  when inquiry.category is diagnostic
  offer overdraft_protektion
"""


def _found(source: str) -> list[tuple[str, int, int]]:
    result = dsl.compile_ruleset(source, offers=["overdraft_protection"])
    return [(d.code, d.line, d.column) for d in result.diagnostics]


def test_every_syntax_and_checker_error_is_reported_with_its_own_code_and_position() -> None:
    assert _found(SIX_TYPOS) == [
        ("E201", 1, 26),  # distresed
        ("E201", 4, 28),  # transactonal
        ("E100", 7, 6),  # rule name without quotes
        ("E100", 13, 3),  # `is` with nothing after it
        ("E200", 16, 8),  # custmer.tier
        ("E100", 19, 38),  # dayz
        ("E203", 23, 9),  # overdraft_protektion
    ]


def test_a_source_with_syntax_errors_is_never_compiled() -> None:
    result = dsl.compile_ruleset(SIX_TYPOS, offers=["overdraft_protection"])
    assert not result.ok and result.ir is None


def test_two_broken_statements_in_a_row_each_report_their_error() -> None:
    source = 'rule Alpha\n  offer a\nrule "b" when\n'
    found = [(d.code, d.line) for d in dsl.compile_ruleset(source).diagnostics]
    assert found == [("E100", 1), ("E108", 4)]


def test_a_stray_word_before_the_first_statement_is_reported_and_the_rest_still_checked() -> None:
    source = 'hello\nrule "x"\n  when tone is furios\n  offer a\n'
    codes = [(d.code, d.line) for d in dsl.compile_ruleset(source, offers=["a"]).diagnostics]
    assert codes == [("E100", 1), ("E201", 3)]


def test_an_unterminated_string_stops_only_its_own_statement() -> None:
    source = 'rule "broken\n  offer a\n\nrule "fine"\n  when tone is angry\n  offer a\n'
    codes = [d.code for d in dsl.compile_ruleset(source, offers=["a"]).diagnostics]
    assert codes[0] == "E102" and "E201" in codes


def test_a_rule_with_an_open_quote_still_reports_its_other_errors() -> None:
    source = 'rule "Refill\n  when inquiry.intnt is "refill"\n  offer refill_savingz\n'
    result = dsl.compile_ruleset(source, offers=["refill_savings"])
    assert [(d.code, d.line, d.column) for d in result.diagnostics] == [
        ("E102", 1, 6),  # the open quote
        ("E200", 2, 8),  # inquiry.intnt, which the open quote used to hide
        ("E203", 3, 9),  # refill_savingz, likewise
    ]
    assert not result.ok and result.ir is None


def test_a_rule_that_fails_again_once_its_quote_is_closed_reports_that_error_too() -> None:
    source = 'rule "Refill\n  when inquiry.intent is\n  offer a\n'
    codes = [(d.code, d.line) for d in dsl.compile_ruleset(source, offers=["a"]).diagnostics]
    assert codes == [("E102", 1), ("E100", 3)]


def test_a_clean_source_does_not_go_through_recovery_and_compiles() -> None:
    source = 'rule "x"\n  when tone is positive\n  offer a\n'
    assert dsl.compile_ruleset(source, offers=["a"]).ok


def test_statement_chunks_keep_first_line_numbers_and_cover_the_whole_source() -> None:
    source = '# top\nrule "a"\n  offer x\nnever offer when tone is negative\nat most 1 offer per response\n'
    chunks = statement_chunks(source)
    assert [line for line, _ in chunks] == [1, 2, 4, 5]
    assert "".join(text for _, text in chunks) == source


def test_recovered_statements_keep_their_true_positions() -> None:
    recovered = recover_ruleset('rule x\nrule "y"\n  when tone is positive\n  offer a\n')
    assert recovered.failed_statements == 1
    (rule,) = recovered.ruleset.rules
    assert rule.name == "y" and rule.span.line == 2


@pytest.mark.parametrize(
    ("source", "fixed"),
    [
        (
            'rule "x"\n  when inquiry.category is transactonal\n  offer a\n',
            'rule "x"\n  when inquiry.category is transactional\n  offer a\n',
        ),
        (
            'rule "x"\n  when custmer.tier is gold\n  offer a\n',
            'rule "x"\n  when customer.tier is gold\n  offer a\n',
        ),
        ("rule Welcome\n  offer a\n", 'rule "Welcome"\n  offer a\n'),
        (
            'rule "x"\n  when inquiry.intent is order_checkbook\n  offer a\n',
            'rule "x"\n  when inquiry.intent is "order_checkbook"\n  offer a\n',
        ),
    ],
)
def test_quick_fix_turns_the_error_into_a_source_that_compiles(source: str, fixed: str) -> None:
    result = dsl.compile_ruleset(source, offers=["a"])
    lines = source.split("\n")
    (diag,) = result.errors
    (fix,) = fixes_for(lines, diag)
    line = lines[fix.line - 1]
    lines[fix.line - 1] = line[: fix.column - 1] + fix.insert + line[fix.end_column - 1 :]
    assert "\n".join(lines) == fixed
    assert dsl.compile_ruleset(fixed, offers=["a"]).ok
