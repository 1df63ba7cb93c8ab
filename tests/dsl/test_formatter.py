from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl import DSLError, format_source
from dsl.parser import parse_ruleset


def test_example_is_in_canonical_layout(example_source: str) -> None:
    assert format_source(example_source) == example_source


def test_layout_is_normalised() -> None:
    source = (
        "never offer when (tone is distressed)\nat most 2 offer per response\n"
        "rule 'r' when (a is b) and (c is d or e) offer x to 10.0% of customers priority 5 "
        "follow up after 1 days with offer y"
    )
    assert format_source(source) == (
        "never offer when tone is distressed\n"
        "at most 2 offers per response\n"
        "\n"
        'rule "r"\n'
        "  when a is b\n"
        "   and (c is d or e)\n"
        "  offer x to 10.0% of customers\n"
        "  priority 5\n"
        "  follow up after 1 day with offer y\n"
    )


def test_comments_stay_next_to_their_code() -> None:
    source = '# header\n\nnever offer when a  # why\n\nrule "r"\n  # lead\n  when a\n   and b  # because\n  offer x\n\n# tail\n'
    formatted = format_source(source)
    assert formatted == source
    assert format_source(formatted) == formatted


def test_strings_are_escaped_so_they_read_back() -> None:
    source = 'never offer when inquiry.text is "a\\"b\\\\c\\n\\u202e"'
    formatted = format_source(source)
    assert parse_ruleset(formatted)[0] == parse_ruleset(source)[0]
    assert "\u202e" not in formatted


def test_source_that_does_not_parse_raises_dsl_error() -> None:
    with pytest.raises(DSLError) as err:
        format_source("rule x")
    assert err.value.diagnostics[0].code == "E100"


words = st.sampled_from(
    ["tone", "customer.tier", "data.x.y", "inquiry.intent", "at", "customer.id"]
)
values = st.one_of(
    st.sampled_from(["gold", "negative", "transactional"]),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6).map(
        lambda s: (
            '"'
            + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
            + '"'
        )
    ),
    st.integers(-1000, 1000).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: repr(round(f, 3))),
    st.sampled_from(["true", "false"]),
)


def _compare(draw_values):
    return st.one_of(
        st.tuples(words, st.sampled_from(["is", "is not", "contains"]), draw_values).map(" ".join),
        st.tuples(words, st.sampled_from(["in", "not in"]), st.lists(draw_values, max_size=3)).map(
            lambda t: f"{t[0]} {t[1]} [{', '.join(t[2])}]"
        ),
        st.tuples(
            words,
            st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
            st.one_of(words, draw_values),
        ).map(" ".join),
        words,
    )


expressions = st.recursive(
    _compare(values),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from([" and ", " or ", "\n  and ", " or\n"]), inner).map(
            "".join
        ),
        inner.map(lambda e: f"not {e}"),
        inner.map(lambda e: f"( {e} )"),
    ),
    max_leaves=6,
)
clauses = st.one_of(
    expressions.map(lambda e: f"when {e}"),
    st.tuples(
        st.sampled_from(["x", "offer-2", "check_in"]),
        st.one_of(st.just(""), st.integers(1, 100).map(lambda p: f" to {p}% of customers")),
    ).map(lambda t: f"offer {t[0]}{t[1]}"),
    st.tuples(
        st.integers(1, 30),
        st.sampled_from(["day", "days", "hours", "week"]),
        st.sampled_from(["", "offer "]),
    ).map(lambda t: f"follow up after {t[0]} {t[1]} with {t[2]}y"),
    st.integers(-5, 100).map(lambda p: f"priority {p}"),
)
statements = st.one_of(
    expressions.map(lambda e: f"never offer when {e}"),
    st.tuples(st.integers(1, 9), st.integers(1, 90)).map(
        lambda t: f"limit offers to {t[0]} per customer per {t[1]} days"
    ),
    st.integers(1, 5).map(lambda n: f"at most {n} offers per response"),
    st.tuples(st.text("abc XYZ'", min_size=1, max_size=8), st.lists(clauses, max_size=4)).map(
        lambda t: f'rule "{t[0]}"\n' + "\n".join(t[1])
    ),
)
rulesets = st.lists(
    st.tuples(statements, st.sampled_from(["\n", "\n\n", "  # note\n", "\n# own line\n"])),
    max_size=5,
).map(lambda items: "".join(s + sep for s, sep in items))


@settings(max_examples=120, deadline=None)
@given(rulesets)
def test_format_preserves_meaning_and_is_idempotent(source: str) -> None:
    tree, _ = parse_ruleset(source)
    if tree is None:
        return
    formatted = format_source(source)
    assert parse_ruleset(formatted)[0] == tree
    assert format_source(formatted) == formatted
