"""dsl.lalr reads Lark's private tables: it must be the pinned Lark, and it must agree
with Lark's public parser about which terminals a broken source could continue with."""

from __future__ import annotations

import lark
import pytest
from lark import Lark, Token

from dsl import lalr
from dsl.parser import _grammar, _lark, _scanner_table


def test_lark_is_the_release_whose_private_tables_dsl_lalr_reads() -> None:
    assert lark.__version__ == lalr.LARK_VERSION, (
        f"Lark {lark.__version__} is installed; dsl/lalr.py was written against {lalr.LARK_VERSION}: "
        "check its use of Lark's parse table, then update LARK_VERSION and the pin in pyproject.toml"
    )


def _public_accepts(tokens: list[tuple], start: str) -> set[str]:
    parser = Lark(_grammar(), parser="lalr", lexer="basic", start=start, maybe_placeholders=False)
    interactive = parser.parse_interactive("")
    for kind, text, *_rest in tokens:
        interactive.feed_token(Token(kind, text))
    return set(interactive.accepts())


@pytest.mark.parametrize(
    "source",
    [
        'rule "a" when',
        "rule a",
        "never offer when tone is",
        "limit offers to 3 per",
        'rule "x" when customer.authenticated offer b priority',
        'rule "x" when inquiry.intent in ["a", ] offer b',
        "at most 1 offer per",
        'rule "x" when (tone is negative offer b',
    ],
)
def test_expected_terminals_match_larks_public_interactive_parser(source: str) -> None:
    tokens = list(_scanner_table().fresh().lex(source))
    end = ("$END", "", 1, len(source) + 1, len(source) + 2)
    with pytest.raises(lalr.SyntaxFailure) as failure:
        lalr.run(lalr.table(_lark(), "start"), iter(tokens), end)
    failed_at = (tokens + [end]).index(failure.value.token)
    expected = lalr.expected_before(
        lalr.table(_lark(), "start"), iter(tokens + [end]), failure.value.token
    )
    assert expected == _public_accepts(tokens[:failed_at], "start")
