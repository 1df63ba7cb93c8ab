"""How long a hostile MJML layout takes to check: the bound is 1 s at the size limit.

Each layout is a valid empty `<mjml>` followed by one opener repeated up to the layout
size limit (`content.mjml.MAX_MJML_CHARS`, 200,000 characters), none of them closed:
`<!--`, `{{`, `{%`, `{#`, and the four mixed. The structure check used to search the
rest of the layout for each opener's closer, once per opener: 36 s for 40,000 `<!--`.
It now remembers that a closer is absent. The peer is the same opener repeated to a
tenth of the limit, in the same run, to show the growth is linear (ratio about 10).

Run: ``.venv/bin/python benchmarks/hostile_layout_speed.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import sys
import time

from content.mjml import MAX_MJML_CHARS, check_mjml

BUDGET_MS = 1000.0
ROOT = "<mjml><mj-body></mj-body></mjml>"
OPENERS = ("<!--", "{{", "{%", "{#", "<!--{{{%{#")


def layout(opener: str, size: int) -> str:
    return ROOT + opener * ((size - len(ROOT)) // len(opener))


def best_ms(source: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        check_mjml(source)
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ok = True
    for opener in OPENERS:
        small = best_ms(layout(opener, MAX_MJML_CHARS // 10), args.repeat)
        large = best_ms(layout(opener, MAX_MJML_CHARS), args.repeat)
        ok = ok and large <= BUDGET_MS
        print(
            f"{opener!r:14} x {MAX_MJML_CHARS // len(opener):6,}: check {large:7.1f} ms "
            f"(peer, a tenth: {small:6.1f} ms, ratio {large / max(small, 1e-6):4.1f}) "
            f"{'ok' if large <= BUDGET_MS else 'OVER'} (budget {BUDGET_MS:.0f} ms)"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
