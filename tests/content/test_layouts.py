from __future__ import annotations

import pytest

from content.diagnostics import ContentError
from content.layouts import build_layout, guard_url_attributes, lint_layout
from content.model import Layout
from content.templates import compile_template, render_template
from tests.content.conftest import demo_layout_specs, layout_source

PAGE = "<html><body>{}<p>{{{{ offer.headline }}}}</p></body></html>"


@pytest.mark.parametrize("spec", demo_layout_specs(), ids=lambda s: s["key"])
def test_every_demo_layout_builds_without_warnings(spec: dict[str, str]) -> None:
    layout = build_layout(spec["key"], spec["name"], spec["channel"], layout_source(spec))
    assert layout.warnings == ()
    shown = (
        "{{ message_center_url() }}"
        if spec["channel"] == "notification_email"
        else "{{ offer.headline }}"
    )
    assert shown in layout.compiled_html
    assert layout.is_mjml == (spec["channel"] in ("email_html", "notification_email"))


@pytest.mark.parametrize(
    ("snippet", "code", "line"),
    [
        ("<script>alert(1)</script>", "layout-forbidden-element", 1),
        ("\n<iframe src='https://x.example'></iframe>", "layout-forbidden-element", 2),
        ('<a href="/x" onclick="steal()">x</a>', "layout-active-attribute", 1),
        ('<div hx-get="/admin">x</div>', "layout-active-attribute", 1),
        ('<a href="javascript:alert(1)">x</a>', "layout-unsafe-url", 1),
        ("<a href={{ offer.cta_url }}>x</a>", "layout-unquoted-expression", 1),
        ("<a {{ data.attrs }}>x</a>", "layout-expression-in-tag", 1),
        ('<p style="color: {{ data.colour }}">x</p>', "layout-templated-attribute", 1),
        ("<style>p { color: {{ data.colour }} }</style>", "layout-templated-style", 1),
    ],
)
def test_layouts_cannot_run_code_or_escape_autoescaping(snippet: str, code: str, line: int) -> None:
    found = lint_layout(PAGE.format(snippet))
    assert [(d.code, d.line) for d in found] == [(code, line)]


@pytest.mark.parametrize(
    "snippet",
    [
        '<a href="{{ offer.cta_url }}" title="{{ offer.headline }}">x</a>',
        '<a {% if offer.cta_url %}href="{{ offer.cta_url }}"{% endif %}>x</a>',
        '<img src="{{ offer.image_url }}" alt="{{ offer.image_alt }}">',
        "<style>p { color: red }</style>",
        '<a href="mailto:help@bank.example">mail</a>',
    ],
)
def test_ordinary_layout_markup_passes(snippet: str) -> None:
    assert lint_layout(PAGE.format(snippet)) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("javascript:alert(1)", 'href="#"'),
        ("https://bank.example/a?b=1&c=2", 'href="https://bank.example/a?b=1&amp;c=2"'),
        (" java\tscript:alert(1)", 'href="#"'),
    ],
)
def test_templated_urls_are_scheme_checked_on_render(value: str, expected: str) -> None:
    guarded = guard_url_attributes('<a href="{{ data.url }}">x</a>')
    template = compile_template(guarded, name="t")
    assert expected in render_template(template, {"data": {"url": value}}).text


def test_urls_assembled_from_pieces_are_checked_as_a_whole() -> None:
    guarded = guard_url_attributes('<a href="{{ data.a }}{{ data.b }}">x</a>')
    template = compile_template(guarded, name="t")
    rendered = render_template(template, {"data": {"a": "java", "b": "script:alert(1)"}}).text
    assert 'href="#"' in rendered


def test_a_layout_that_fails_reports_every_problem_with_lines() -> None:
    source = "<html>\n<body>\n{{ custmer.name }}\n<script>x</script>\n</body></html>"
    with pytest.raises(ContentError) as caught:
        build_layout("page", "Page", "message_center", source)
    assert {(d.code, d.line) for d in caught.value.diagnostics} >= {
        ("unknown-variable", 3),
        ("layout-forbidden-element", 4),
    }


def test_an_email_layout_must_be_mjml() -> None:
    with pytest.raises(ContentError) as caught:
        build_layout("email", "Email", "email_html", PAGE.format(""))
    assert caught.value.diagnostics[0].code == "layout-not-mjml"


def test_a_layout_that_never_shows_the_offer_warns() -> None:
    layout = build_layout("page", "Page", "message_center", "<p>Hello</p>")
    assert [w.code for w in layout.warnings] == ["layout-no-offer"]


def test_mjml_style_sheets_are_refused_because_they_never_ship() -> None:
    source = (
        '<mjml><mj-head>\n<mj-style inline="inline">.a { color: red }</mj-style></mj-head>'
        "<mj-body><mj-section><mj-column><mj-text>{{ offer.headline }}</mj-text>"
        "</mj-column></mj-section></mj-body></mjml>"
    )
    with pytest.raises(ContentError) as caught:
        build_layout("promo", "Promo", "email_html", source)
    refused = [d for d in caught.value.diagnostics if d.code == "layout-not-shippable"]
    assert [(d.line, "style sheets do not ship" in d.message) for d in refused] == [(2, True)]
    assert "mjml-unsupported-mj-style-inline" in [d.code for d in caught.value.diagnostics]


def test_unknown_channels_are_refused() -> None:
    with pytest.raises(ContentError) as caught:
        build_layout("x", "X", "fax", "<p>{{ offer.headline }}</p>")
    assert caught.value.diagnostics[0].field == "channel"


def test_a_layout_serializes_to_plain_data() -> None:
    layout = Layout("k", "K", "message_center", "<p>x</p>", "<p>x</p>")
    assert layout.to_dict()["channel"] == "message_center"
