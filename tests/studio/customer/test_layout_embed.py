"""A message-center layout placed inside the customer's page, its CSS kept to itself."""

from __future__ import annotations

from studio.customer.layout_embed import embed, scope_css

DOC = """<!doctype html><html><head><style>
body { margin: 0 } main { max-width: 640px } .offer h1, a { color: red }
@media (max-width: 400px) { .offer { padding: 0 } }
@import url(x.css); @font-face { font-family: x }
</style></head><body><main><h1>Hi</h1></main></body></html>"""


def test_body_becomes_a_section_with_its_heading_demoted() -> None:
    embedded = embed(DOC)
    assert embedded.html == "<section><h2>Hi</h2></section>"


def test_every_selector_is_scoped_and_other_at_rules_dropped() -> None:
    css = embed(DOC).css
    assert ".mc-layout { margin: 0 }" in css
    assert ".mc-layout section { max-width: 640px }" in css
    assert ".mc-layout .offer h1, .mc-layout a { color: red }" in css
    assert "@media (max-width: 400px) { .mc-layout .offer { padding: 0 } }" in css
    assert "@import" not in css and "font-face" not in css


def test_css_cannot_close_the_style_element() -> None:
    assert "<" not in scope_css("a { content: '</style><script>' }")
