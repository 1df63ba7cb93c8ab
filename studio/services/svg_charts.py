"""pygal charts as standalone SVG documents, served under `security.CHART_POLICY`.

pygal styles its SVG with a <style> element and adds a <script> (its tooltips). The
studio serves each chart as its own image document, never inside a page: the page
policy refuses inline style, so an SVG pasted into a page draws its bars black. The
script is removed here; the chart policy would refuse it anyway.
"""

from __future__ import annotations

import re
from typing import Any, Final

_SCRIPT: Final = re.compile(r"<script\b.*?</script>", re.S | re.I)
#: pygal writes "No data" at 64 px, across the whole plot: as big as a body heading here.
NO_DATA_FONT_SIZE: Final = 18


def render(chart: Any) -> str:
    """The chart's SVG document without its script; an empty chart says so at the size
    of its labels."""
    chart.config.style.no_data_font_size = NO_DATA_FONT_SIZE
    return _SCRIPT.sub("", chart.render(is_unicode=True))
