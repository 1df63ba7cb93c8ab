"""The document policy: what every shipped layout is reduced to, and what save refuses."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content.diagnostics import ContentError
from content.layouts import build_layout
from content.sanitize import (
    DOCUMENT_ATTRIBUTES,
    DOCUMENT_SHELL,
    DOCUMENT_TAGS,
    document_violations,
    sanitize_document,
    url_scheme,
)
from tests.shipped_html import cases, shipped_html

CASES = cases()
SHELL_TAGS = frozenset({"html", "head", "meta", "body"})
FORBIDDEN_CSS = re.compile(
    r"url|expression|import|(?:^|;)\s*(?:position|z-index|transform)\s*:"
    r"|\d(?:vw|vh)\b|:\s*-\d|\s-\d|\\",
    re.I,
)


class _Markup(HTMLParser):
    """Every tag, attribute and comment of a shipped document, read independently of nh3."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in DOCUMENT_TAGS | SHELL_TAGS:
            self.problems.append(f"<{tag}>")
        allowed = (
            DOCUMENT_ATTRIBUTES["*"]
            | DOCUMENT_ATTRIBUTES.get(tag, frozenset())
            | {"rel", "target", "charset", "name", "content"}
        )
        for name, value in attrs:
            value = value or ""
            if name not in allowed:
                self.problems.append(f"{name} on <{tag}>")
            if name in {"href", "src"} and url_scheme(value) not in {
                None,
                "http",
                "https",
                "mailto",
            }:
                self.problems.append(f"{name}={value}")
            if name == "style" and FORBIDDEN_CSS.search(value):
                self.problems.append(f"style={value}")
            if tag == "meta" and name == "content" and "refresh" in value:
                self.problems.append("meta refresh")

    def handle_comment(self, data: str) -> None:
        self.problems.append("comment")

    def unknown_decl(self, data: str) -> None:
        self.problems.append("<![")


def markup_problems(html: str) -> list[str]:
    found = _Markup()
    found.feed(html)
    found.close()
    return found.problems


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_hostile_layout_ships_inert_and_sanitizing_again_changes_nothing(case) -> None:
    html = shipped_html(case)
    if html is None:
        return
    assert html.startswith(DOCUMENT_SHELL.split("{body}")[0])
    assert markup_problems(html) == [], html
    assert sanitize_document(html) == html


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_hostile_layout_is_refused_at_save_with_a_line_unless_it_ships_as_written(case) -> None:
    try:
        build_layout("hostile", "Hostile", case.channel, case.source)
    except ContentError as refused:
        errors = [d for d in refused.diagnostics if d.is_error]
        assert errors and all(d.line for d in errors), errors
    else:
        assert document_violations(case.payload) == []


def test_the_sanitizer_names_the_line_and_the_reason() -> None:
    source = (
        "<h1>{{ offer.headline }}</h1>\n<p>fine</p>\n"
        '<div style="position:fixed;margin-top:-20px">x</div>\n<!-- note -->\n'
        "<img src=x {# c #}onerror=alert(1)>"
    )
    found = document_violations(source)
    assert (3, "style 'position' on <div>") in found
    assert (3, "style negative margin-top (-20px) on <div>") in found
    assert any(line == 4 and "comment" in why for line, why in found)
    assert any(
        line == 5 and "template tag inside the <img> start tag" in why for line, why in found
    )


def test_a_clean_layout_with_tables_styles_images_and_links_is_accepted() -> None:
    source = (
        '<table width="600" cellpadding="0"><tr><td style="padding:8px;color:#333">'
        '<img src="https://cdn.example/a.png" alt="A" width="120">'
        '<a href="mailto:help@bank.example">Mail us</a> '
        '<a href="{{ offer.cta_url }}">{{ offer.cta_label }}</a></td></tr></table>'
        "{{ offer.body }}"
    )
    assert document_violations(source) == []
    layout = build_layout("ok", "OK", "message_center", source)
    assert "url_attribute" in layout.compiled_html


def test_a_full_document_shell_is_accepted_and_replaced_by_the_studios() -> None:
    source = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Offer</title></head>\n<body><h1>{{ offer.headline }}</h1></body></html>"
    )
    assert document_violations(source) == []
    shipped = sanitize_document(
        "<html><head><title>T</title>"
        '<meta http-equiv="refresh" content="0;url=https://evil.example">'
        "</head><body><p>x</p></body></html>"
    )
    assert "refresh" not in shipped and "<title>" not in shipped and "<p>x</p>" in shipped


def test_body_css_is_bounded() -> None:
    assert '<div role="article" aria-roledescription="email">' in sanitize_document(
        '<div role="article" aria-roledescription="email" onclick="x">'
    )
    shipped = sanitize_document(
        '<div style="margin:-10px;width:5000px;font-size:200px;height:100vh;color:red;'
        'padding:8px;max-width:100%">x</div>'
    )
    assert 'style="color:red;padding:8px;max-width:100%"' in shipped


_PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<table>",
        "<tr>",
        "<td>",
        "</td>",
        "<a href='https://a.example/'>",
        "</a>",
        "<svg>",
        "<math>",
        "<style>",
        "</style>",
        "<!--",
        "-->",
        "<img src=x onerror=alert(1)>",
        "<b>",
        "</b>",
        "<li>",
        "<ul>",
        "<h1>",
        "<form>",
        "</form>",
        "<select>",
        "<option>",
        "x",
        " ",
        "\n",
        '"',
        "'",
        "<",
        ">",
        "&",
        "&amp;",
        "<br>",
        "<div style='color:red'>",
        "</div>",
        "<noscript>",
        "<title>",
        "<textarea>",
        "<template>",
        "</table>",
        "<caption>",
        "<col>",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_sanitizing_twice_changes_nothing(html: str) -> None:
    once = sanitize_document(html)
    assert sanitize_document(once) == once


@pytest.mark.parametrize(
    ("html", "kept"),
    [
        ('<img src="logo.png" alt="Logo">', False),
        ('<img src="../img/logo.png" alt="Logo">', False),
        ('<a href="?page=2">next</a>', False),
        ('<img src="/assets/0123abcd.png" alt="Logo">', True),
        ('<img src="https://cdn.example/logo.png" alt="Logo">', True),
        ('<a href="#terms">terms</a>', True),
        ('<a href="mailto:help@bank.example">write</a>', True),
    ],
)
def test_a_relative_address_that_leads_nowhere_does_not_ship(html: str, kept: bool) -> None:
    # On the message page (/m/<token>) "logo.png" is /m/logo.png, and in an email it is
    # nothing at all: a broken image or a dead link for the customer.
    address = re.search(r'(?:src|href)="([^"]*)"', html).group(1)
    assert (f'="{address}"' in sanitize_document(html)) is kept
