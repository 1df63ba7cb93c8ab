"""How long the large and/or ruleset takes to format and to check: the bound is 1 s each.

The ruleset is valid and large: 2,000 rules of seven lines, each mixing ``and`` and
``or`` (an ``or`` group inside the ``and`` lines and a trailing ``or``), with a comment
before every rule and one at the end of a condition line. Formatting used to attach
each comment by scanning every output slot (quadratic in the rules); it now looks the
owner up. The peer is the same work for a 100-rule ruleset of the same shape, in the same
run, to show the growth is linear.

Run: ``.venv/bin/python benchmarks/hostile_ruleset_speed.py [--rules N] [--repeat N]``
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from dsl import compile_ruleset
from dsl.formatter import format_source

BUDGET_MS = 1000.0


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
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
