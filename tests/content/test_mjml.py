from __future__ import annotations

import pytest

from content.diagnostics import ContentError
from content.mjml import (
    UNSUPPORTED_FEATURE_NOTES,
    UNSUPPORTED_FEATURES,
    check_mjml,
    compile_mjml,
    unsupported_features,
)


def mjml(body: str, head: str = "") -> str:
    return f"<mjml>\n<mj-head>{head}</mj-head>\n<mj-body>\n{body}\n</mj-body>\n</mjml>"


SECTION = "<mj-section><mj-column><mj-text>{}</mj-text></mj-column></mj-section>"


def test_a_layout_compiles_to_html() -> None:
    html = compile_mjml(mjml(SECTION.format("Hello")))
    assert html.startswith("<!doctype html>") and "Hello" in html


@pytest.mark.parametrize(
    "jinja",
    [
        "{% if data.x < 5 %}small{% endif %}",
        "{{ customer.first_name or 'there' }}",
        "{# a note for marketing #}",
    ],
)
def test_jinja_survives_compilation(jinja: str) -> None:
    assert jinja in compile_mjml(mjml(SECTION.format(jinja)))


def test_jinja_in_attributes_survives_compilation() -> None:
    source = mjml(
        '<mj-section><mj-column><mj-button href="{{ offer.cta_url }}">Go</mj-button>'
        "</mj-column></mj-section>"
    )
    assert 'href="{{ offer.cta_url }}"' in compile_mjml(source)


@pytest.mark.parametrize(
    ("source", "code", "line", "column"),
    [
        (
            "<mjml>\n<mj-body>\n<mj-section>\n<mj-column>\n</mj-section>\n</mj-body>\n</mjml>",
            "mjml-mismatched-tag",
            5,
            1,
        ),
        ("<mjml>\n<mj-body>\n  <mj-section>\n</mj-body>\n</mjml>", "mjml-mismatched-tag", 4, 1),
        ("<mjml>\n<mj-body>\n<mj-section>", "mjml-unclosed-tag", 3, 1),
        (
            '<mjml>\n<mj-body>\n<mj-section padding="4px>\n</mj-section></mj-body></mjml>',
            "mjml-malformed-tag",
            3,
            1,
        ),
        ("<mjml><mj-body></mj-body></mjml>\n</mj-section>", "mjml-unexpected-close", 2, 1),
        ("<mj-body></mj-body>", "mjml-root", 1, 1),
        ("<mjml></mjml>", "mjml-no-body", 1, 1),
        ("<mjml><mj-body></mj-body></mjml>\n\n<p>Thanks</p>\n", "mjml-outside-root", 3, 1),
        ("Dear customer,\n<mjml><mj-body></mj-body></mjml>", "mjml-outside-root", 1, 1),
        ('<?xml version="1.0"?>\n<mjml><mj-body></mj-body></mjml>', "mjml-outside-root", 1, 1),
        (
            '<mjml><mj-body>\n<mj-include path="footer.mjml" /></mj-body></mjml>',
            "mjml-unsupported-mj-include",
            2,
            1,
        ),
    ],
)
def test_broken_mjml_is_reported_by_line_and_column(
    source: str, code: str, line: int, column: int
) -> None:
    with pytest.raises(ContentError) as caught:
        compile_mjml(source)
    first = caught.value.diagnostics[0]
    assert (first.code, first.line, first.column) == (code, line, column)


def test_comments_and_blank_lines_around_the_root_are_allowed() -> None:
    source = "<!-- footer, v2 -->\n\n<mjml><mj-body></mj-body></mjml>\n<!-- end -->\n\n"
    assert check_mjml(source) == []
    compile_mjml(source)


def test_an_mrml_failure_is_still_a_content_error() -> None:
    with pytest.raises(ContentError) as caught:
        compile_mjml(mjml(SECTION.format("a < b")))
    assert caught.value.diagnostics[0].code == "mjml-compile"


def test_unknown_elements_warn_but_compile() -> None:
    source = mjml("<mj-section><mj-column><mj-sparkle /></mj-column></mj-section>")
    assert [d.code for d in check_mjml(source)] == ["mjml-unknown-tag"]
    compile_mjml(source)


@pytest.mark.parametrize(
    ("head", "code"),
    [
        (
            '<mj-style inline="inline">.x { color: red }</mj-style>',
            "mjml-unsupported-mj-style-inline",
        ),
        (
            '<mj-html-attributes><mj-selector path=".x"><mj-html-attribute name="data-x">1'
            "</mj-html-attribute></mj-selector></mj-html-attributes>",
            "mjml-unsupported-mj-html-attributes",
        ),
    ],
)
def test_features_mjml_python_lacks_are_detected_not_crashed_on(head: str, code: str) -> None:
    source = mjml(SECTION.format("x"), head)
    found = unsupported_features(source)
    assert [(d.code, d.severity, d.line) for d in found] == [(code, "warning", 2)]
    assert compile_mjml(source)


def test_the_editor_can_list_every_unsupported_feature() -> None:
    assert {f.feature for f in UNSUPPORTED_FEATURES} >= {"mj-html-attributes", "mj-style inline"}
    assert len(UNSUPPORTED_FEATURE_NOTES) == len(UNSUPPORTED_FEATURES)
    assert all(note.endswith(".") for note in UNSUPPORTED_FEATURE_NOTES)


def test_oversized_layouts_are_refused() -> None:
    assert check_mjml("x" * 200_001)[0].code == "mjml-too-large"


@pytest.mark.parametrize("opener", ["<!--", "{{", "{%", "{#"])
def test_an_opener_that_never_closes_is_text_and_the_tags_after_it_are_still_checked(
    opener: str,
) -> None:
    source = f"<mjml>\n<mj-body>\n{opener * 3} <mj-section>\n</mj-body>\n</mjml>"
    codes = [(d.code, d.line) for d in check_mjml(source)]
    assert codes == [("mjml-mismatched-tag", 4)]


def test_a_closed_comment_still_hides_the_tags_inside_it() -> None:
    source = "<mjml>\n<mj-body>\n<!-- <mj-section> -->{{ '<mj-column>' }}\n</mj-body>\n</mjml>"
    assert check_mjml(source) == []
