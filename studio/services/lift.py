"""Treatment against holdout: is an offer better than not making it?

Both arms are counted per decision (intent to treat): the treatment arm is every
decision that made the offer, the holdout arm every decision whose rule matched but
held the customer out (`to P% of customers`). A rate is outcomes per decision in the
arm, so "acceptance in the holdout" is customers who took the product unasked.

The difference of two rates comes with a 95% interval by Newcombe's hybrid score method
(Newcombe 1998, method 10: Wilson score intervals for each rate, combined); it behaves
well at small counts and near 0% and 100%, where the textbook Wald interval does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

Z95: Final = 1.959963984540054
Z_POWER80: Final = 0.8416212335729143
MIN_ARM: Final = 30


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for `successes` out of `n` ((0, 1) when n is 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Difference:
    """p1 - p2 with its 95% interval (Newcombe hybrid score)."""

    estimate: float
    low: float
    high: float


def newcombe(k1: int, n1: int, k2: int, n2: int, z: float = Z95) -> Difference:
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    d = p1 - p2
    return Difference(
        d,
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def per_arm_needed(p1: float, p2: float) -> int | None:
    """Decisions per arm to detect p1 - p2 at 5% two-sided with 80% power (None if equal)."""
    d = abs(p1 - p2)
    if d == 0:
        return None
    pooled = (p1 + p2) / 2
    root = Z95 * math.sqrt(2 * pooled * (1 - pooled)) + Z_POWER80 * math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2)
    )
    return math.ceil(root * root / (d * d))


@dataclass(frozen=True)
class Comparison:
    treated: int
    treated_n: int
    held: int
    held_n: int
    difference: Difference | None
    verdict: str
    more_needed: int = 0

    @property
    def small(self) -> bool:
        return self.treated_n < MIN_ARM or self.held_n < MIN_ARM


def compare(
    treated: int, treated_n: int, held: int, held_n: int, *, higher_is_better: bool = True
) -> Comparison:
    """Compare a rate between the arms and say what it means, in plain words."""
    if held_n == 0:
        return Comparison(
            treated, treated_n, held, held_n, None, "no holdout: the rule offers to every customer"
        )
    short = max(0, MIN_ARM - treated_n) + max(0, MIN_ARM - held_n)
    if short:
        return Comparison(
            treated,
            treated_n,
            held,
            held_n,
            None,
            f"not enough data yet: {short} more exposures needed",
            short,
        )
    diff = newcombe(treated, treated_n, held, held_n)
    good, bad = (
        ("better than holdout", "worse than holdout")
        if higher_is_better
        else ("worse than holdout", "better than holdout")
    )
    if diff.low > 0:
        return Comparison(treated, treated_n, held, held_n, diff, good)
    if diff.high < 0:
        return Comparison(treated, treated_n, held, held_n, diff, bad)
    needed = per_arm_needed(treated / treated_n, held / held_n)
    more = 0 if needed is None else max(0, needed - treated_n) + max(0, needed - held_n)
    if more:
        return Comparison(
            treated,
            treated_n,
            held,
            held_n,
            diff,
            f"not enough data yet: {more} more exposures needed",
            more,
        )
    return Comparison(treated, treated_n, held, held_n, diff, "no clear difference")
