"""HTML to plain text that keeps links, for the text part of emails and for chat.

inscriptis (Apache-2.0) renders HTML the way a text browser would, tables included, and
is fast enough to run per interaction. It pads table cells to their layout width, which
an email layout is full of, so the output is tidied: lines trimmed, runs of blank lines
collapsed, and ``[label](url)`` links written the way people read them in mail,
``label (url)``.
"""

from __future__ import annotations

import re
from typing import Final

from inscriptis import get_text
from inscriptis.model.config import ParserConfig

_CONFIG: Final = ParserConfig(display_links=True, display_images=False)
_LINK: Final = re.compile(r"\[([^\[\]\n]*)\]\(([^()\s]+)\)")
_BLANK_RUN: Final = re.compile(r"\n{3,}")
_INNER_SPACE: Final = re.compile(r"(?<=\S) {3,}(?=\S)")


def _link(match: re.Match[str]) -> str:
    label, url = match.group(1).strip(), match.group(2)
    if not label or label == url or url in ("#", ""):
        return label or url
    return f"{label} ({url})"


def tidy_text(text: str) -> str:
    """Trim layout padding: strip each line, squeeze wide gaps, keep one blank line at most."""
    lines = (_INNER_SPACE.sub("  ", line.strip()) for line in text.splitlines())
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """The readable plain text of `html`, links kept as ``label (url)``."""
    if not html:
        return ""
    return tidy_text(_LINK.sub(_link, get_text(html, _CONFIG)))
