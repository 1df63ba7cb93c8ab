"""How long hostile markup takes to check: the bound is 1 s at each field's size limit.

Markup an author pastes by mistake (or on purpose) is checked on every save and every
preview, so each check must stay bounded. Three parts, each one token repeated up to
the size limit, none of them closed:

1. the MJML structure check alone (`check_mjml`) on a layout at its limit
   (`content.mjml.MAX_MJML_CHARS`, 200,000 characters) of `<!--`, `{{`, `{%`, `{#` and the
   four mixed, with the same at a tenth of the limit in the same run as the peer (a ratio
   of about 10 is linear growth);
2. the whole save of a layout (`build_layout`: template, structure, lint, sanitizer
   audit, MJML) at the template size limit (100,000 characters: a longer layout is
   refused at once), an email (MJML) and a message-center (HTML) layout, for each of the
   tokens in `TOKENS`; the five slowest are printed;
3. an offer's body at its limit (`blocks.body_html`, 20,000 characters) checked and
   rendered for every channel with the demo layouts, for the same tokens.

Before, at 200,000 characters: 40,000 unclosed `<!--` took 36 s in part 1; in part 2,
`on` repeated took 228 s (the URL-scheme scan), 30,000 unclosed comments 28 s (the
standard library's HTMLParser, searching again from each), and 20,000 nested `<p>`
crashed the process (mjml-python's parser recursing past the stack); in part 3,
`<a href=` repeated took 1.7 s.

Run: ``.venv/bin/python benchmarks/hostile_layout_speed.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from content.channels import RenderContext
from content.diagnostics import ContentError
from content.layouts import build_layout
from content.mjml import MAX_MJML_CHARS, check_mjml
from content.model import MAX_LENGTHS, Offer, validate_offer
from content.rendering import render_offer
from content.templates import Limits

BUDGET_MS = 1000.0
ROOT = "<mjml><mj-body></mj-body></mjml>"
OPENERS = ("<!--", "{{", "{%", "{#", "<!--{{{%{#")
TOKENS = (
    "<", "<a", "<a href=", '<a href="', "<mj-text", "<mj-text>", "<style", "<style>",
    "<script>", "{{", "{%", "{#", "<!--", '"', "'", "=", "&", "&#", "<![CDATA[", "</",
    "</mj-text", "\n", "{{ x", "{{ '", "<mj-raw>", '<mj-button href="{{', "<p>", "<b><i>",
    "}}", "%}", "-->", "<mj-section><mj-column>", "javascript:", "on", " on",
)  # fmt: skip
DEMO = Path(__file__).resolve().parents[1] / "studio" / "demo"


def best_ms(work: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            work()
        except ContentError:
            pass  # refused with diagnostics: that is the expected answer
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def structure(repeat: int) -> bool:
    print("1. MJML structure check, unclosed openers:")
    ok = True
    for opener in OPENERS:

        def layout(size: int, opener: str = opener) -> str:
            return ROOT + opener * ((size - len(ROOT)) // len(opener))

        small = best_ms(lambda: check_mjml(layout(MAX_MJML_CHARS // 10)), repeat)
        large = best_ms(lambda: check_mjml(layout(MAX_MJML_CHARS)), repeat)
        ok = ok and large <= BUDGET_MS
        print(
            f"   {opener!r:14} x {MAX_MJML_CHARS // len(opener):7,}: {large:7.1f} ms "
            f"(a tenth: {small:6.1f} ms, ratio {large / max(small, 1e-6):4.1f})"
        )
    return ok


def worst(label: str, timings: list[tuple[float, str]]) -> bool:
    timings.sort(reverse=True)
    slowest = timings[0][0]
    print(f"{label}: slowest five of {len(timings)}")
    for spent, what in timings[:5]:
        print(f"   {spent:8.1f} ms  {what}")
    print(f"   {'ok' if slowest <= BUDGET_MS else 'OVER'} (budget {BUDGET_MS:.0f} ms)")
    return slowest <= BUDGET_MS


def layouts(repeat: int) -> bool:
    timings = []
    limit = Limits().max_source_chars
    for token in TOKENS:
        body = token * ((limit - 60) // len(token))
        for channel, source in (
            ("email_html", f"<mjml><mj-body><mj-raw>{body}</mj-raw></mj-body></mjml>"),
            ("message_center", f"<div>{body}</div>"),
        ):
            spent = best_ms(lambda c=channel, s=source: build_layout("k", "K", c, s), repeat)
            timings.append((spent, f"{channel:15} {token!r}"))
    over = "<mjml><mj-body><mj-raw>" + "&" * limit + "</mj-raw></mj-body></mjml>"
    refused = best_ms(lambda: build_layout("k", "K", "email_html", over), repeat)
    print(f"   (a layout over {limit:,} characters is refused at once: {refused:.1f} ms)")
    return worst(f"2. saving a layout of {limit:,} characters (the template limit)", timings)


def offers(repeat: int) -> bool:
    specs = json.loads((DEMO / "layouts" / "layouts.json").read_text())
    chosen = {
        s["channel"]: build_layout(
            s["key"], s["name"], s["channel"], (DEMO / "layouts" / s["file"]).read_text()
        )
        for s in specs
    }
    base = json.loads((DEMO / "offers.json").read_text())[0]
    context = RenderContext(customer={"id": "c-1", "first_name": "Ann"}, inquiry={})
    limit = MAX_LENGTHS["blocks.body_html"]
    timings = []
    for token in TOKENS:
        data = {**base, "blocks": {**base["blocks"], "body_html": token * (limit // len(token))}}

        def check_and_render(d: dict[str, object] = data) -> None:
            validate_offer(d)
            render_offer(Offer.from_dict(d), chosen, context)

        timings.append((best_ms(check_and_render, repeat), repr(token)))
    return worst(f"3. an offer body of {limit:,} characters, checked and rendered", timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    results = [structure(args.repeat), layouts(args.repeat), offers(args.repeat)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
