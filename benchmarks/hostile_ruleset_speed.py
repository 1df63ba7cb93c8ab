"""How long the large and/or ruleset takes to format and to check: the bound is 1 s each.

The ruleset is valid and large: 2,000 rules of seven lines, each mixing ``and`` and
``or`` (an ``or`` group inside the ``and`` lines and a trailing ``or``), with a comment
before every rule and one at the end of a condition line. Formatting used to attach
each comment by scanning every output slot (quadratic in the rules); it now looks the
owner up. The peer is the same work for a 100-rule ruleset of the same shape, in the same
run, to show the growth is linear.

Then junk an author might paste, each one token repeated to 2,000,000 characters (the
size of a ruleset of 10,000 rules), checked and formatted: the slowest five are printed
with their ratio to checking and formatting a valid ruleset of the same size, and the
bound is 3x (junk such as `rule "a"` on every line holds 18 times as many statements
per character as real rules do, so it may cost more per character, but only linearly). A line of `"\\` repeated took minutes (the nesting pre-scan
searched an open quote to the end of the line again from every quote in it).

Run: ``.venv/bin/python benchmarks/hostile_ruleset_speed.py [--rules N] [--repeat N]``
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from dsl import compile_ruleset
from dsl.diagnostics import DSLError
from dsl.formatter import format_source

BUDGET_MS = 1000.0
JUNK_CHARS = 2_000_000
JUNK_RATIO = 3.0
JUNK = (
    '"', "'", '"\\', "(", ")", "[", "]", "rule ", 'rule "a"\n', "when ", "and ", "or ",
    "not ", "#", "\n", " ", "x.", "customer.", "1", "1.", "-", "offer ", "limit ",
    "at most ", "in [", "is ", "((", "(a or ", "{", "@", "\\",
)  # fmt: skip


def mixed_ruleset(rules: int) -> str:
    return "".join(
        f'# rule {i}\nrule "R{i}"\n  when customer.tier is gold  # note {i}\n'
        f'   and (tone is positive or inquiry.intent is "x{i}")\n'
        '   or customer.state is "CA"\n  offer realtime_contact\n\n'
        for i in range(rules)
    )


def _best_ms(work: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ok = True
    for label, rules in (("peer", 100), ("large", args.rules)):
        source = mixed_ruleset(rules)
        fmt = _best_ms(lambda s=source: format_source(s), args.repeat)
        check = _best_ms(lambda s=source: compile_ruleset(s), args.repeat)
        print(
            f"{label:5} {rules:5} rules {source.count(chr(10)):6} lines: "
            f"format {fmt:7.1f} ms, check {check:7.1f} ms"
        )
        if label == "large":
            ok = fmt <= BUDGET_MS and check <= BUDGET_MS
            print(
                f"budget {BUDGET_MS:.0f} ms each: format {'ok' if fmt <= BUDGET_MS else 'OVER'}"
                f", check {'ok' if check <= BUDGET_MS else 'OVER'}"
            )
    ok = junk(args.repeat) and ok
    return 0 if ok else 1


def junk(repeat: int) -> bool:
    """Junk against a valid ruleset of the same size (the peer): the bound is 3x it."""

    def fmt(source: str) -> None:
        try:
            format_source(source)
        except DSLError:
            pass  # refused with diagnostics: the expected answer

    one = mixed_ruleset(1)
    valid = mixed_ruleset(JUNK_CHARS // len(one))
    peer_check = _best_ms(lambda: compile_ruleset(valid), repeat)
    peer_format = _best_ms(lambda: format_source(valid), repeat)
    print(
        f"junk peer: a valid ruleset of {len(valid):,} characters "
        f"({JUNK_CHARS // len(one):,} rules): check {peer_check:.0f} ms, format {peer_format:.0f} ms"
    )
    timings = []
    for token in JUNK:
        source = token * (JUNK_CHARS // len(token))
        check = _best_ms(lambda s=source: compile_ruleset(s, offers=["o"], name="junk"), repeat)
        timings.append((check / peer_check, check, f"check  {token!r}"))
        spent = _best_ms(lambda s=source: fmt(s), repeat)
        timings.append((spent / peer_format, spent, f"format {token!r}"))
    timings.sort(reverse=True)
    print(
        f"junk: one token repeated to {JUNK_CHARS:,} characters, the slowest five of {len(timings)}"
    )
    for ratio, spent, what in timings[:5]:
        print(f"  {spent:8.1f} ms  {ratio:4.2f}x the peer  {what}")
    within = timings[0][0] <= JUNK_RATIO
    print(f"bound {JUNK_RATIO:.0f}x the valid ruleset: {'ok' if within else 'OVER'}")
    return within


if __name__ == "__main__":
    sys.exit(main())
