"""Check and compile stay bounded at the studio's ruleset size limit, valid or hostile.

The studio accepts ruleset sources up to `studio.services.rulesets.MAX_SOURCE` characters
(10,000,000: a 50,000-rule ruleset is 7-9 million). This prints, for sources filled up to
that limit, the CPU seconds of `dsl.compile_ruleset` (parse, check, compile to IR: what
saving, the problems list and publishing run), and what it answered:

- the largest valid ruleset of the mixed workload (`mixed_workload.py`) that fits, and,
  as its peer in the same run, the same workload at 5,000 rules: the per-rule figures
  show the growth is linear;
- hostile sources of the same size: one line nested 10 million deep, a list of millions
  of words (over the 2,000,000-token cap), a bidi control at the very end, 10 million characters
  the language does not have, one rule whose condition is a 10-million-character `or`
  chain, and a ruleset in which every rule has a syntax error (recovery reports each);
- a source one character over the limit, which the studio refuses by its length alone.

Times are CPU seconds of this process (`time.process_time`): on a shared machine wall
time mostly measures other work. Run:

    .venv/bin/python benchmarks/ruleset_limits_speed.py [--limit N]

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mixed_workload as mw  # noqa: E402

import dsl  # noqa: E402
from dsl.offers import OfferInfo  # noqa: E402
from dsl.parser import forget_recent  # noqa: E402
from studio.services import rulesets as rulesets_service  # noqa: E402
from studio.services.rulesets import MAX_SOURCE  # noqa: E402

OFFERS = {f"o{k}": OfferInfo(f"o{k}", value=k) for k in range(20)}


def cpu(work: Callable[[], dsl.CompileResult]) -> tuple[float, dsl.CompileResult]:
    forget_recent()
    gc.collect()
    started = time.process_time()
    result = work()
    return time.process_time() - started, result


def largest_valid(limit: int) -> tuple[int, str]:
    """The most mixed-workload rules whose source fits in `limit` characters."""
    per_rule = len(mw.dsl_source(mw.make_rules(2_000))) / 2_000
    n = int(limit / per_rule)
    while True:
        source = mw.dsl_source(mw.make_rules(n))
        if len(source) <= limit:
            return n, source
        n = int(n * 0.98)


def hostile(limit: int) -> dict[str, str]:
    rule = 'rule "r"\n  when customer.authenticated\n  offer o1\n'
    broken = 'rule "r{n}"\n  when customer.tier is is gold\n  offer o1\n'
    broken_rules = []
    size = 0
    n = 0
    while size < limit - 100:
        text = broken.format(n=n)
        broken_rules.append(text)
        size += len(text)
        n += 1
    list_head = 'rule "list"\n  when inquiry.intent in ['
    chain_head = 'rule "chain"\n  when '
    chain_tail = "\n  offer o1\n"
    part = 'inquiry.intent is "x" or '
    chain = part * ((limit - len(chain_head) - len(chain_tail) - 40) // len(part))
    return {
        "nested 10M deep": ("(" * (limit - 1)) + "x",
        "a list of millions of words": list_head
        + '"a", ' * ((limit - len(list_head) - 40) // 5)
        + '"a"]\n  offer o1\n',
        "bidi control at the end": (rule * (limit // len(rule)))[: limit - 1] + "\u202e",
        "characters not in the language": "=" * limit,
        "one 10M-character or chain": f"{chain_head}{chain}tone is positive{chain_tail}",
        "every rule a syntax error": "".join(broken_rules),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=MAX_SOURCE, help="characters")
    args = parser.parse_args()
    limit = args.limit
    print(f"source limit {limit:,} characters; load average {os.getloadavg()}")
    dsl.compile_ruleset('rule "warm" when customer.authenticated offer o1')

    peer_source = mw.dsl_source(mw.make_rules(5_000))
    peer_cpu, peer = cpu(lambda: dsl.compile_ruleset(peer_source, offers=OFFERS))
    assert peer.ok
    n, source = largest_valid(limit)
    big_cpu, big = cpu(lambda: dsl.compile_ruleset(source, offers=OFFERS))
    assert big.ok, big.diagnostics[:3]
    print(
        f"  valid, 5,000 rules (peer)       {len(peer_source):>12,} chars  "
        f"{peer_cpu:7.2f} s CPU  {peer_cpu / 5_000 * 1e6:6.0f} us/rule"
    )
    print(
        f"  valid, {n:,} rules at the limit {len(source):>12,} chars  {big_cpu:7.2f} s CPU  "
        f"{big_cpu / n * 1e6:6.0f} us/rule  ({big_cpu / n / (peer_cpu / 5_000):.2f}x the peer per rule)"
    )
    for label, text in hostile(limit).items():
        assert len(text) <= limit, label
        seconds, result = cpu(lambda text=text: dsl.compile_ruleset(text, offers=OFFERS))  # type: ignore[misc]
        codes = sorted({d.code for d in result.diagnostics})
        shown = ", ".join(codes[:4]) + (" ..." if len(codes) > 4 else "")
        print(
            f"  hostile: {label:<31} {len(text):>12,} chars  {seconds:7.2f} s CPU  "
            f"({seconds / big_cpu:.2f}x the valid one) -> {len(result.diagnostics):,} "
            f"diagnostics [{shown}]"
        )
    over = "#" * (MAX_SOURCE + 1)
    started = time.process_time()
    refused = rulesets_service._validate("over", "Over", over)
    print(
        f"  {MAX_SOURCE + 1:,} characters (one over the studio's limit): "
        f"{'refused' if refused else 'NOT refused'} by its length in "
        f"{(time.process_time() - started) * 1e6:.0f} us: {refused[0].message if refused else ''}"
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
