"""Markup an author could paste by mistake (or on purpose) is checked in one pass and
never takes the process down: the scanners give the answers the plain regular
expressions gave, without searching the rest of the source again for each opener."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content.diagnostics import ContentError
from content.layouts import build_layout
from content.mjml import MAX_NESTING, check_mjml, compile_mjml
from content.placeholders import jinja_spans, protect_jinja, restore_jinja
from content.sanitize import _closable, _schemes, document_violations, policy_violations

#: The expressions the scanners replace, kept here as the reference.
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")

markup = st.text(alphabet="{}%#<>!-/ab1.:+ \n", max_size=60)


@settings(max_examples=400, deadline=None)
@given(markup)
def test_jinja_spans_are_those_the_regular_expression_finds(source: str) -> None:
    assert list(jinja_spans(source)) == [(m.start(), m.end()) for m in JINJA.finditer(source)]


@settings(max_examples=200, deadline=None)
@given(markup)
def test_protected_jinja_comes_back_as_written(source: str) -> None:
    protected, saved = protect_jinja(source)
    assert restore_jinja(protected, saved) == source
    assert saved == [m.group(0) for m in JINJA.finditer(source)]


@settings(max_examples=400, deadline=None)
@given(markup)
def test_the_schemes_found_are_those_the_regular_expression_finds(source: str) -> None:
    assert _schemes(source) == {m.lower() for m in SCHEME.findall(source)}


@settings(max_examples=300, deadline=None)
@given(markup)
def test_only_openers_that_never_close_are_blanked_for_the_audit(source: str) -> None:
    closable = _closable(source)
    assert len(closable) == len(source)
    changed = [i for i, (a, b) in enumerate(zip(source, closable, strict=True)) if a != b]
    assert all(source[i] == "<" and closable[i] == " " for i in changed)
    for i in changed:  # each one has nothing after it that would close it
        rest = source[i + 1 :]
        assert (
            ">" not in rest
            or (source.startswith("<!--", i) and not re.search(r"--!?>", source[i + 4 :]))
            or (source.startswith("<![", i) and not re.search(r"]\s*]\s*>", source[i + 3 :]))
        )


def test_a_document_where_everything_closes_is_audited_as_written() -> None:
    html = '<p>Hi <!-- note --> <a href="https://x.example">x</a></p>\n<div>a &amp; b</div>'
    assert _closable(html) == html


def test_an_unclosed_comment_does_not_hide_a_script_from_the_author() -> None:
    found = policy_violations("<p>Hi</p>\n<!-- draft\n<script>alert(1)</script>")
    assert any("script" in what and line == 3 for line, what in found), found


def test_the_document_audit_still_names_what_it_removes_after_an_unclosed_opener() -> None:
    found = document_violations("<div>\n<!--\n<p onclick='x()'>Hi</p></div>")
    assert any("onclick" in what and line == 3 for line, what in found), found


def test_nesting_deeper_than_the_bound_is_refused_at_the_element_that_goes_too_deep() -> None:
    source = (
        "<mjml><mj-body><mj-raw>\n" + "<div>" * (MAX_NESTING + 5) + "\n</mj-raw></mj-body></mjml>"
    )
    deep = [d for d in check_mjml(source) if d.code == "mjml-too-deep"]
    assert [(d.line, d.column) for d in deep] == [
        (2, 1 + 5 * (MAX_NESTING - 3))
    ]  # after <mjml>, <mj-body>, <mj-raw>


def test_nesting_within_the_bound_and_void_elements_compile() -> None:
    depth = MAX_NESTING - 3  # mjml, mj-body and mj-raw are three levels
    body = "<div><br><img src='https://x.example/a.png'><hr/>" * depth + "</div>" * depth
    compile_mjml(f"<mjml><mj-body><mj-raw>{body}</mj-raw></mj-body></mjml>")


def test_a_layout_nested_ten_thousand_deep_is_an_error_not_a_crash() -> None:
    # mjml-python's parser recurses per level: at about 10,000 levels it overflowed the
    # stack and the process died (SIGSEGV), the studio with it.
    source = "<mjml><mj-body><mj-raw>" + "<p>" * 20_000 + "</mj-raw></mj-body></mjml>"
    with pytest.raises(ContentError) as caught:
        build_layout("deep", "Deep", "email_html", source)
    assert "mjml-too-deep" in {d.code for d in caught.value.diagnostics}
