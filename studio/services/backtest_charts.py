"""Charts of a backtest's tally: offers made per offer before and after (pygal SVG)."""

from __future__ import annotations

from typing import Any

import pygal

from studio.services import svg_charts


def _bar(title: str, before: dict[str, int], after: dict[str, int]) -> str:
    keys = sorted(set(before) | set(after), key=lambda k: -(after.get(k, 0) + before.get(k, 0)))
    keys = keys[:15]
    chart = pygal.HorizontalBar(
        js=[],
        height=max(160, 40 + 28 * len(keys)),
        width=640,
        show_legend=True,
        legend_at_bottom=True,
        title=title,
        no_data_text="No offer made, by the published rules or the drafts",
    )
    chart.x_labels = keys
    chart.add("published", [before.get(k, 0) for k in keys])
    chart.add("drafts", [after.get(k, 0) for k in keys])
    return svg_charts.render(chart, counts=True)  # pygal escapes labels in its SVG


#: The charts of a finished backtest: name -> (title, the tally it draws).
TITLES: dict[str, tuple[str, str]] = {
    "offers": ("Offers made, per offer", "offers"),
    "rules": ("Offers made, per rule", "rules"),
}


def chart(result: dict[str, Any] | None, name: str) -> str | None:
    """One chart as a standalone SVG document, for an <img> served under the chart
    policy: pygal styles its SVG with a <style> element, which the page policy would
    refuse inside a page (the bars drew as black boxes). None for an unknown name or a
    backtest with nothing decided."""
    if name not in TITLES or not (result and result.get("decided")):
        return None
    title, tally = TITLES[name]
    return _bar(title, result["before"][tally], result["after"][tally])
