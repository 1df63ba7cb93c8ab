from __future__ import annotations

import pytest

from content.plaintext import html_to_text, tidy_text


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<p>Hello <a href="https://bank.example/x">apply now</a></p>',
            "Hello apply now (https://bank.example/x)",
        ),
        ('<a href="https://bank.example/x">https://bank.example/x</a>', "https://bank.example/x"),
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("<ul><li>a</li><li>b</li></ul>", "* a\n* b"),
        ("<table><tr><td>left</td><td>right</td></tr></table>", "left  right"),
        ('<img src="/a.png" alt="ignored">text', "text"),
        ("", ""),
    ],
)
def test_html_becomes_readable_text_with_links(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


def test_layout_padding_is_removed() -> None:
    assert tidy_text("   a      b   \n\n\n\n  c  ") == "a  b\n\nc"
