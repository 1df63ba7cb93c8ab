"""pygal charts as standalone SVG documents, served under `security.CHART_POLICY`.

pygal styles its SVG with a <style> element and adds a <script> (its tooltips). The
studio serves each chart as its own image document, never inside a page: the page
policy refuses inline style, so an SVG pasted into a page draws its bars black. The
script is removed here; the chart policy would refuse it anyway.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

_SCRIPT: Final = re.compile(r"<script\b.*?</script>", re.S | re.I)
#: pygal writes "No data" at 64 px, across the whole plot: as big as a body heading here.
NO_DATA_FONT_SIZE: Final = 18
#: At most this many steps on a whole-number axis (so at most 11 labels).
MAX_STEPS: Final = 10


def render(chart: Any, *, counts: bool = False) -> str:
    """The chart's SVG document without its script.

    An empty chart is its title and its message, at the size of its labels: no guides,
    axis labels or legend drawn under or around the message (pygal draws a 0-to-1 scale
    for no data). With `counts`, the values are whole numbers (offers made, answers) and
    the value axis is labelled in whole numbers, never 0.2, 0.4 ..."""
    chart.config.style.no_data_font_size = NO_DATA_FONT_SIZE
    values = _values(chart)
    if not values:
        chart.show_x_guides = chart.show_y_guides = False
        chart.show_x_labels = chart.show_y_labels = False
        chart.show_legend = False
    elif counts:
        chart.y_labels = whole_number_ticks(max(values))
        chart.value_formatter = _whole
        chart.print_zeroes = False  # a 0 over an empty bar is drawn across the axis line
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def whole_number_ticks(top: float, *, most: int = MAX_STEPS) -> list[int]:
    """Ticks 0, step, 2 x step ... up to the first at or past `top`: the step is 1, 2 or 5
    times a power of ten, the smallest that needs at most `most` steps."""
    top = max(1, math.ceil(top))
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if math.ceil(top / step) <= most:
                return list(range(0, math.ceil(top / step) * step + 1, step))
        magnitude *= 10


def _whole(value: float) -> str:
    return f"{value:,.0f}"


def _values(chart: Any) -> list[float]:
    """The numbers the chart's series hold (pygal's own test for "no data": None is a gap,
    a value may be a number or a {"value": ...} dict)."""
    found: list[float] = []
    for values, _options in chart.raw_series:
        for value in values if isinstance(values, list | tuple) else [values]:
            if isinstance(value, dict):
                value = value.get("value")
            if isinstance(value, int | float):
                found.append(value)
    return found
