"""Addresses in plain-text answers become links; nothing else does."""

from __future__ import annotations

import time

from studio.customer.linkify import MAX_ADDRESS, linkify


def _link(address: str) -> str:
    return f'<a href="{address}" rel="noopener noreferrer nofollow">{address}</a>'


def test_an_address_ending_a_sentence_leaves_the_full_stop_outside_the_link() -> None:
    assert linkify("See https://bank.example/help.") == f"See {_link('https://bank.example/help')}."


def test_brackets_stay_in_an_address_that_opened_them_and_outside_one_that_did_not() -> None:
    wiki = "https://en.wikipedia.org/wiki/Cheque_(banking)"
    assert linkify(f"({wiki})") == f"({_link(wiki)})"
    assert linkify("(at https://bank.example/a)") == f"(at {_link('https://bank.example/a')})"


def test_only_http_and_https_addresses_become_links_and_the_rest_is_escaped() -> None:
    text = 'javascript:alert(1) ftp://x.example/f <script>"x"</script> http://'
    assert linkify(text) == (
        "javascript:alert(1) ftp://x.example/f &lt;script&gt;&#34;x&#34;&lt;/script&gt; http://"
    )


def test_an_address_cannot_break_out_of_its_attribute() -> None:
    out = linkify('https://bank.example/a"onmouseover="x')
    assert out == f"{_link('https://bank.example/a')}&#34;onmouseover=&#34;x"


def test_an_address_over_the_limit_stays_text() -> None:
    long = "https://bank.example/" + "a" * MAX_ADDRESS
    assert "<a " not in linkify(long)


def test_a_hostile_text_is_scanned_in_linear_time() -> None:
    started = time.perf_counter()
    out = linkify(
        "https://" * 50_000 + "." * 50_000 + " http://a" + ")" * 2_000 + " http://b). " * 20_000
    )
    assert time.perf_counter() - started < 2.0
    assert out.count("<a ") == 20_001
