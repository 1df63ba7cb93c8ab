"""The statistics behind "better than holdout", against published values."""

from __future__ import annotations

import pytest

from studio.services import lift


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),  # Newcombe 1998, table I
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_intervals_match_published_values(k, n, low, high) -> None:
    assert lift.wilson(k, n) == pytest.approx((low, high), abs=5e-4)


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2", "d", "low", "high"),
    [
        (56, 70, 48, 80, 0.2000, 0.0524, 0.3339),  # Newcombe 1998, table II, method 10, (a)
        (9, 10, 3, 10, 0.6000, 0.1705, 0.8090),  # (b)
        (5, 56, 0, 29, 0.0893, -0.0381, 0.1926),  # (d)
    ],
)
def test_newcombe_differences_match_the_paper(k1, n1, k2, n2, d, low, high) -> None:
    found = lift.newcombe(k1, n1, k2, n2)
    assert (found.estimate, found.low, found.high) == pytest.approx((d, low, high), abs=5e-4)


def test_a_small_sample_says_how_many_more_exposures_are_needed() -> None:
    found = lift.compare(3, 5, 0, 2)
    assert found.verdict == "not enough data yet: 53 more exposures needed"
    assert found.small and found.difference is None


def test_a_clear_gain_is_better_and_a_clear_loss_worse() -> None:
    assert lift.compare(56, 70, 48, 80).verdict == "better than holdout"
    assert lift.compare(48, 80, 56, 70).verdict == "worse than holdout"


def test_for_complaints_lower_is_better() -> None:
    assert lift.compare(30, 100, 5, 100, higher_is_better=False).verdict == "worse than holdout"


def test_an_unclear_difference_asks_for_the_sample_that_would_settle_it() -> None:
    found = lift.compare(12, 100, 10, 100)
    needed = lift.per_arm_needed(0.12, 0.10)
    # (1.96 * sqrt(2 * .11 * .89) + 0.8416 * sqrt(.12 * .88 + .1 * .9))^2 / .02^2 = 3840.9
    assert needed == 3841
    assert found.verdict == f"not enough data yet: {2 * (needed - 100)} more exposures needed"


def test_equal_rates_with_enough_data_show_no_clear_difference() -> None:
    assert lift.compare(10, 100, 10, 100).verdict == "no clear difference"


def test_a_rule_without_holdout_says_so() -> None:
    assert lift.compare(10, 100, 0, 0).verdict.startswith("no holdout")
