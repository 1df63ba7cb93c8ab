"""Charts of a backtest's tally: offers made per offer before and after (pygal SVG)."""

from __future__ import annotations

from typing import Any

import pygal
from markupsafe import Markup


def _bar(title: str, before: dict[str, int], after: dict[str, int]) -> Markup:
    keys = sorted(set(before) | set(after), key=lambda k: -(after.get(k, 0) + before.get(k, 0)))
    keys = keys[:15]
    chart = pygal.HorizontalBar(
        js=[],
        height=max(160, 40 + 28 * len(keys)),
        width=640,
        show_legend=True,
        legend_at_bottom=True,
        title=title,
    )
    chart.x_labels = keys
    chart.add("published", [before.get(k, 0) for k in keys])
    chart.add("drafts", [after.get(k, 0) for k in keys])
    return Markup(chart.render(is_unicode=True))  # pygal escapes labels in its SVG


def charts(result: dict[str, Any]) -> dict[str, Markup]:
    if not result or not result.get("decided"):
        return {}
    before, after = result["before"], result["after"]
    return {
        "offers": _bar("Offers made, per offer", before["offers"], after["offers"]),
        "rules": _bar("Offers made, per rule", before["rules"], after["rules"]),
    }
