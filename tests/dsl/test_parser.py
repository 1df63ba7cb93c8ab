from __future__ import annotations

import pytest

from dsl import ast
from dsl.parser import (
    MAX_DEPTH,
    MAX_SOURCE_CHARS,
    MAX_TOKENS,
    _scanner_table,
    parse_expression,
    parse_ruleset,
)


def only(source: str):
    tree, diagnostics = parse_ruleset(source)
    assert tree is not None, diagnostics
    return tree.statements


def test_example_ruleset_parses_into_guards_limits_cap_and_rules(example_source: str) -> None:
    tree, diagnostics = parse_ruleset(example_source)
    assert diagnostics == []
    assert len(tree.guards) == 3 and len(tree.limits) == 2 and len(tree.caps) == 1
    assert [r.name for r in tree.rules][0] == "Overdraft protection with a checkbook order"
    assert tree.rules[0].priority == 60


def test_condition_may_span_lines_and_and_chains_are_flat() -> None:
    (rule,) = only('rule "r"\n  when a is b\n   and (c is d and e is f)\n  offer x')
    assert isinstance(rule.condition, ast.And)
    assert len(rule.condition.items) == 3


def test_is_not_differs_from_not_is() -> None:
    expr = parse_expression("tone is not negative")[0]
    assert isinstance(expr, ast.Compare) and expr.op == "is not"
    assert isinstance(parse_expression("not tone is negative")[0], ast.Not)


@pytest.mark.parametrize(
    ("source", "segments"),
    [
        ('customer.id is "x"', ("customer", "id")),
        ('at > "2026-01-01"', ("at",)),
        ("data.offer.limit > 1", ("data", "offer", "limit")),
    ],
)
def test_keywords_are_field_names_inside_paths(source: str, segments: tuple[str, ...]) -> None:
    expr, diagnostics = parse_expression(source)
    assert diagnostics == [] and isinstance(expr, ast.Compare)
    assert isinstance(expr.left, ast.Path) and expr.left.segments == segments


def test_follow_up_without_offer_keyword_names_the_key() -> None:
    (rule,) = only('rule "r" when a follow up after 2 days with check_in')
    (follow,) = rule.follow_ups
    assert (follow.key, follow.after.amount, follow.after.unit, follow.offer_keyword) == (
        "check_in",
        2,
        "day",
        False,
    )


def test_rollout_percentage_attaches_to_the_offer() -> None:
    (rule,) = only('rule "r" when a offer extended_warranty to 12.5% of customers')
    assert rule.offers[0].percent == 12.5


def test_spans_point_at_the_source() -> None:
    (rule,) = only('\n\nrule "r"\n  when customer.tier is gold\n  offer x')
    compare = rule.condition
    assert (compare.span.line, compare.span.column) == (4, 8)
    assert (rule.offers[0].key_span.line, rule.offers[0].key_span.column) == (5, 9)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings_do_not_change_positions(newline: str) -> None:
    source = newline.join(["# c", "never offer when tone is distressed", 'rule "r" when a offer x'])
    tree, _ = parse_ruleset(source)
    assert tree.rules[0].span.line == 3


def test_comments_are_kept_aside() -> None:
    tree, _ = parse_ruleset("# one\nnever offer when a # two\n")
    assert [c.text for c in tree.comments] == ["# one", "# two"]


def test_single_quoted_strings_and_escapes_are_read() -> None:
    expr, _ = parse_expression(
        """inquiry.text is 'it\\'s' or inquiry.text is "tab\\there \\u00e9" """
    )
    assert isinstance(expr, ast.Or)
    rights = [i.right for i in expr.items if isinstance(i, ast.Compare)]
    assert [r.value for r in rights if isinstance(r, ast.Literal)] == ["it's", "tab\there é"]


@pytest.mark.parametrize(
    ("source", "code", "line", "column"),
    [
        ("rule x when a offer b", "E100", 1, 6),
        ('rule "x" when a is', "E108", 1, 19),
        ('never offer when inquiry.text is "open', "E102", 1, 34),
        ("never offer when a = b", "E101", 1, 20),
        ("never offer when a is \x00", "E105", 1, 23),
        ('never offer when a is "\u202e"', "E105", 1, 24),
        ("never offer when a > 1e309", "E106", 1, 22),
        ("never offer when a > " + "9" * 50, "E106", 1, 22),
        ('never offer when a is "\\q"', "E107", 1, 23),
        ('never offer when a is "\\ud800"', "E107", 1, 23),
        (
            "never offer when " + "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1),
            "E104",
            1,
            18 + MAX_DEPTH,
        ),
        ("never offer when " + "not " * (MAX_DEPTH + 1) + "a", "E104", 1, 18 + 4 * MAX_DEPTH),
        # Parentheses inside a quote left open are text, not nesting ...
        ('never offer when a is "' + "(" * (MAX_DEPTH + 1), "E102", 1, 23),
        # ... and the quote ends with its line: the next line's nesting still counts.
        (
            'rule "open\n  when ' + "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1),
            "E104",
            2,
            8 + MAX_DEPTH,
        ),
        # A line of quotes and backslashes was searched again from each quote (quadratic).
        ('"\\' * 20_000, "E102", 1, 1),
    ],
)
def test_bad_source_reports_code_and_position(
    source: str, code: str, line: int, column: int
) -> None:
    tree, diagnostics = parse_ruleset(source)
    assert tree is None
    assert [(d.code, d.line, d.column) for d in diagnostics][:1] == [(code, line, column)]


def test_oversized_source_is_refused_before_parsing() -> None:
    tree, diagnostics = parse_ruleset("#" * (MAX_SOURCE_CHARS + 1))
    assert tree is None and diagnostics[0].code == "E103"


def test_a_fifty_thousand_rule_ruleset_fits_the_limits() -> None:
    rule = (
        'rule "Overdraft protection {k}"\n  when inquiry.intent is "order_checkbook_{k}"\n'
        "   and data.basket_total > 120 and tone is not negative\n  offer overdraft_protection\n  priority 60\n"
    )
    source = "".join(rule.format(k=k) for k in range(50_000))
    tokens = sum(1 for _ in _scanner_table().fresh().lex(source))
    assert len(source) <= MAX_SOURCE_CHARS and tokens <= MAX_TOKENS


def test_unquoted_rule_name_gets_a_hint() -> None:
    _, diagnostics = parse_ruleset("rule Overdraft when a offer b")
    assert 'rule "Overdraft"' in diagnostics[0].hint


def test_expected_words_are_plain() -> None:
    _, diagnostics = parse_ruleset("limit offers to 1 per customer per 7")
    assert (
        diagnostics[0].message == "the source ends too early: expected `days`, `hours` or `weeks`"
    )


def test_a_large_source_parsed_again_gives_the_same_tree_and_its_own_diagnostics_list() -> None:
    source = "".join(f'rule "r{k}" when inquiry.intent is "i{k}" offer o\n' for k in range(400))
    source += "rule oops when a offer b\n"
    first_tree, first = parse_ruleset(source)
    first.clear()
    second_tree, second = parse_ruleset(source)
    assert first_tree is None and second_tree is None
    assert [d.code for d in second] == ["E100"]
