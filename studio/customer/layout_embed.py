"""Place a rendered message-center layout (a whole HTML document) inside the customer's
page: its body becomes a section, its style sheet is scoped to that section.

The layout is marketing's, reviewed and published; the page around it is the studio's.
Scoping every selector under one class keeps the layout's `body { ... }` from restyling
the page, and demoting its headings keeps one `h1` per page for screen readers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

SCOPE: Final = ".mc-layout"
_STYLE: Final = re.compile(r"<style\b[^>]*>(.*?)</style>", re.S | re.I)
_BODY: Final = re.compile(r"<body\b[^>]*>(.*)</body>", re.S | re.I)
_MAIN: Final = re.compile(r"<(/?)main\b", re.I)
_H1: Final = re.compile(r"<(/?)h1\b", re.I)
_ROOTS: Final = re.compile(r"^(html|body|:root)\b")
_MAIN_SELECTOR: Final = re.compile(r"(?<![\w.#-])main\b")
_GROUPS: Final = ("@media", "@supports")


@dataclass(frozen=True)
class Embedded:
    html: str
    css: str


def embed(document: str) -> Embedded:
    """The layout's body (with `main` as a `section`, `h1` as `h2`) and its scoped CSS."""
    css = "\n".join(scope_css(block) for block in _STYLE.findall(document))
    found = _BODY.search(document)
    body = found.group(1) if found else _STYLE.sub("", document)
    body = _MAIN.sub(lambda m: f"<{m.group(1)}section", body)
    body = _H1.sub(lambda m: f"<{m.group(1)}h2", body)
    return Embedded(body.strip(), css)


def scope_css(css: str) -> str:
    """Every rule's selectors prefixed with the layout's scope; @media and @supports
    groups are scoped inside; any other at-rule (@import, @font-face, ...) is dropped."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S).replace("<", "")
    out: list[str] = []
    index = 0
    while index < len(css):
        brace = css.find("{", index)
        if brace < 0:
            break
        prelude = css[index:brace].strip()
        end = _matching(css, brace)
        inner = css[brace + 1 : end]
        if prelude.startswith("@"):
            if prelude.lower().startswith(_GROUPS):
                out.append(f"{prelude} {{ {scope_css(inner)} }}")
        else:
            selectors = ", ".join(_scope_selector(s) for s in prelude.split(",") if s.strip())
            if selectors:
                out.append(f"{selectors} {{{inner}}}")
        index = end + 1
    return "\n".join(out)


def _matching(css: str, open_at: int) -> int:
    depth = 0
    for position in range(open_at, len(css)):
        if css[position] == "{":
            depth += 1
        elif css[position] == "}":
            depth -= 1
            if depth == 0:
                return position
    return len(css)


def _scope_selector(selector: str) -> str:
    selector = _MAIN_SELECTOR.sub("section", selector.strip().replace("<", ""))
    if _ROOTS.match(selector):
        return _ROOTS.sub(SCOPE, selector, count=1)
    return f"{SCOPE} {selector}"
