from __future__ import annotations

import pytest

from content.diagnostics import ContentError, Diagnostic, Severity, errors_only


def test_a_diagnostic_reads_as_location_code_message_and_hint() -> None:
    diagnostic = Diagnostic(
        "bad-date",
        "valid_from is not a date",
        field="valid_from",
        line=3,
        column=7,
        hint="use YYYY-MM-DD",
    )
    assert str(diagnostic) == (
        "valid_from, line 3:7: error bad-date: valid_from is not a date (use YYYY-MM-DD)"
    )


def test_content_error_carries_every_diagnostic() -> None:
    first = Diagnostic("a", "first")
    second = Diagnostic("b", "second", severity="warning")
    error = ContentError([first, second])
    assert error.diagnostics == [first, second]
    assert "first" in str(error) and "second" in str(error)


@pytest.mark.parametrize(
    ("severity", "blocks"), [("error", True), ("warning", False), ("info", False)]
)
def test_only_errors_block(severity: Severity, blocks: bool) -> None:
    diagnostic = Diagnostic("x", "y", severity=severity)
    assert (errors_only([diagnostic]) == [diagnostic]) is blocks


def test_with_field_relocates_a_template_error_into_an_offer_field() -> None:
    moved = Diagnostic("template-syntax", "oops", line=2).with_field("blocks.headline")
    assert (moved.field, moved.line) == ("blocks.headline", 2)
    assert moved.to_dict()["field"] == "blocks.headline"
