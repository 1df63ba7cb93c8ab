from __future__ import annotations

import re
from pathlib import Path

import pytest

import dsl

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


@pytest.mark.parametrize("code", sorted(dsl.CODES))
def test_every_diagnostic_code_is_documented_with_a_heading(code: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert re.search(rf"^### {code} {re.escape(dsl.CODES[code].title)}$", text, re.MULTILINE)


def test_documented_example_compiles(example_source: str) -> None:
    block = DOCS.read_text(encoding="utf-8").split("```")[1]
    assert dsl.compile_ruleset(block).ok
