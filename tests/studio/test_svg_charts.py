"""Server-side charts: an empty chart is its message alone; counts get whole-number ticks."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bundle.replay import empty_tally
from studio.services import attribution, backtest_charts, svg_charts


def _tally(before: dict[str, int], after: dict[str, int]) -> dict:
    tally = empty_tally()
    tally["decided"] = 16
    tally["before"]["rules"], tally["after"]["rules"] = before, after
    tally["before"]["offers"], tally["after"]["offers"] = before, after
    return tally


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (0, [0, 1]),
        (3, [0, 1, 2, 3]),
        (10, list(range(11))),
        (11, [0, 2, 4, 6, 8, 10, 12]),
        (137, [0, 20, 40, 60, 80, 100, 120, 140]),
        (2.5, [0, 1, 2, 3]),
    ],
)
def test_whole_number_ticks_step_by_one_two_or_five_times_a_power_of_ten(top, ticks) -> None:
    assert svg_charts.whole_number_ticks(top) == ticks


def test_a_chart_of_offers_made_is_labelled_in_whole_numbers() -> None:
    """ "Offers made, per rule" of 1, 2 and 3 offers was ticked 0, 0.2, 0.4 ... 3."""
    svg = backtest_charts.chart(_tally({"a/r1": 1, "b/r2": 2}, {"a/r1": 3}), "rules")
    assert svg is not None
    labels = re.findall(r'<text x="[^"]*" y="[^"]*" class="(?:major)?">([0-9.,]+)</text>', svg)
    assert labels == ["0", "1", "2", "3"]
    assert ">0.2<" not in svg and ">2.5<" not in svg


def test_an_empty_backtest_chart_is_its_title_and_message_without_grid_or_axes() -> None:
    """ "No data" was written across dashed guides and a 0-to-1 scale."""
    svg = backtest_charts.chart(_tally({}, {}), "offers")
    assert svg is not None
    assert "No offer made, by the published rules or the drafts" in svg
    assert "Offers made, per offer" in svg
    assert 'class="guide line"' not in svg and 'class="axis' not in svg
    assert ">0.1<" not in svg and 'class="legend' not in svg  # no scale, no legend


def test_an_empty_trend_says_why_without_grid_lines() -> None:
    thin = attribution.Trend(
        "day", "offer", [date(2026, 11, d) for d in range(1, 9)], {"autopay": {}}
    )
    svg = attribution.trend_chart(thin)
    assert "No day has 5 or more decisions yet" in svg
    assert 'class="guide line"' not in svg and 'class="axis' not in svg


def test_a_trend_with_data_keeps_its_grid_and_percent_labels() -> None:
    days = [date(2026, 11, d) for d in range(1, 4)]
    found = attribution.Trend("day", "offer", days, {"autopay": {d: (10, 3) for d in days}})
    svg = attribution.trend_chart(found)
    assert 'class="guide line"' in svg and "30.0%" in svg
