"""Golden diagnostics: what `studio check` prints for each file under golden/.

Run with DSL_UPDATE_GOLDEN=1 to rewrite the .out files, then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import dsl
from dsl.diagnostics import format_diagnostic

GOLDEN = Path(__file__).parent / "golden"
OFFERS = [
    "overdraft_protection",
    "rewards_card",
    "card_protection_plan",
    "check_in",
    "realtime_contact",
    "extended_warranty",
    "mobile_alerts",
]
SURVEYS = ["breakfast_hours", "new_branch_hours"]
CASES = sorted(GOLDEN.glob("*.rules"))


def render(path: Path) -> str:
    source = path.read_text(encoding="utf-8")
    result = dsl.compile_ruleset(source, offers=OFFERS, surveys=SURVEYS)
    lines = [format_diagnostic(path.name, source, d) for d in result.diagnostics]
    return "\n".join(lines) + ("\n" if lines else "")


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_diagnostics_match_golden_file(path: Path) -> None:
    expected_path = path.with_suffix(".out")
    actual = render(path)
    if os.environ.get("DSL_UPDATE_GOLDEN"):
        expected_path.write_text(actual, encoding="utf-8")
    assert actual == expected_path.read_text(encoding="utf-8")


def test_every_error_code_has_a_golden_example() -> None:
    covered = {code for path in CASES for code in dsl.CODES if f" {code}: " in render(path)}
    # Data (not source) problems, a size limit, and offer statuses are covered by unit tests.
    # E233 needs a schema without a thread field (tests/dsl/test_gates.py).
    source_only = {"E300", "E301", "E302", "E303", "E103", "W402", "E233"}
    # The contact policy's own codes: one test per code in tests/dsl/test_policy.py.
    policy_only = {"E220", "E221", "E222", "E223", "E224", "E304", "W405"}
    # Overlaps are found across a workspace's rulesets (tests/preview/test_overlap.py).
    workspace_only = {"W410"}
    assert set(dsl.CODES) - covered - source_only - policy_only - workspace_only == set()
