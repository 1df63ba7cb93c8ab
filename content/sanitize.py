"""The one sanitizing policy for marketing-authored HTML, and the URL scheme check.

Every rich-text value that reaches a customer or the studio's own pages passes through
`clean_html` (on save and again on render), and every URL a template places into an
``href`` or ``src`` passes through `safe_url`. Keeping both in this module means the policy
is read, reviewed and changed in one place, and the sanitizer (nh3, the Rust ammonia
binding) can be swapped without touching callers.

The policy is an allowlist: email-friendly formatting tags, a handful of attributes, the
URL schemes http, https, mailto and tel, and a narrow set of inline CSS properties (email
clients ignore style sheets, so inline style is how marketing formats copy). Event handler
attributes (``on*``), htmx attributes (``hx-*``), ``data-*``, ``id`` and ``class`` never
survive: they are simply not on the list.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Final

import nh3

from content.placeholders import protect_jinja, restore_jinja

ALLOWED_TAGS: Final = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "div", "em", "h1", "h2", "h3",
    "h4", "hr", "i", "img", "li", "ol", "p", "s", "small", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})

ALLOWED_ATTRIBUTES: Final = {
    "*": frozenset({"style", "title", "dir", "lang"}),
    "a": frozenset({"href"}),
    "img": frozenset({"src", "alt", "width", "height"}),
    "td": frozenset({"colspan", "rowspan", "align", "valign"}),
    "th": frozenset({"colspan", "rowspan", "align", "valign", "scope"}),
    "table": frozenset({"width", "align", "cellpadding", "cellspacing", "border", "role"}),
    "p": frozenset({"align"}),
    "div": frozenset({"align"}),
}

# Attributes whose value is restricted to a fixed set (kept out of ALLOWED_ATTRIBUTES on
# purpose: nh3 treats the two as alternatives).
ALLOWED_ATTRIBUTE_VALUES: Final = {"a": {"target": {"_blank"}}}

ALLOWED_URL_SCHEMES: Final = frozenset({"http", "https", "mailto", "tel"})

# Inline CSS that email clients honour and that cannot position, overlay or load anything.
ALLOWED_CSS_PROPERTIES: Final = frozenset({
    "background-color", "border", "border-bottom", "border-collapse", "border-color",
    "border-left", "border-radius", "border-right", "border-style", "border-top",
    "border-width", "color", "font-family", "font-size", "font-style", "font-weight",
    "height", "letter-spacing", "line-height", "margin", "margin-bottom", "margin-left",
    "margin-right", "margin-top", "max-width", "padding", "padding-bottom", "padding-left",
    "padding-right", "padding-top", "text-align", "text-decoration", "text-transform",
    "vertical-align", "width",
})

# A CSS value may only hold words, numbers, units, colours, commas and quotes: no url(),
# no expression(), no escapes, no at-rules, so no way to fetch or run anything.
_SAFE_CSS_VALUE = re.compile(r"^[\w\s#%.,'\"!+-]*(?:\([\w\s#%.,+-]*\)[\w\s#%.,'\"!+-]*)*$")
_DANGEROUS_CSS_WORDS = re.compile(r"url|expression|javascript|import|behavior|binding", re.I)

_URL_IGNORED = re.compile(r"[\t\n\r]")
_URL_EDGE = "".join(chr(c) for c in range(0x21)) + "\x7f"
_URL_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")

BLOCKED_URL: Final = "#"


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    if name == "style":
        return clean_style(value) or None
    if name in {"href", "src"}:
        cleaned = safe_url(value)
        return None if cleaned == BLOCKED_URL and value.strip() != BLOCKED_URL else cleaned
    return value


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style", "template", "iframe", "object", "noscript"},
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    tag_attribute_values={
        tag: {name: set(values) for name, values in attrs.items()}
        for tag, attrs in ALLOWED_ATTRIBUTE_VALUES.items()
    },
    attribute_filter=_filter_attribute,
    url_schemes=set(ALLOWED_URL_SCHEMES),
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def clean_html(html: str) -> str:
    """Return `html` reduced to the policy: the only sanitizer the project uses."""
    if not html:
        return ""
    return _CLEANER.clean(html)


def clean_template_html(source: str) -> str:
    """`clean_html` for HTML that holds Jinja: the template logic is kept intact.

    Used on the way in (saving an offer body); the rendered result is cleaned again with
    `clean_html`, so values that arrive through the template are held to the same policy.
    """
    if "{" not in source:
        return clean_html(source)
    protected, saved = protect_jinja(source)
    return restore_jinja(clean_html(protected), saved)


def clean_style(style: str) -> str:
    """Keep the allowed CSS declarations of an inline ``style`` whose values are inert."""
    kept = []
    for declaration in style.split(";"):
        name, sep, value = declaration.partition(":")
        name, value = name.strip().lower(), value.strip()
        if not sep or name not in ALLOWED_CSS_PROPERTIES or not value:
            continue
        if _DANGEROUS_CSS_WORDS.search(value) or not _SAFE_CSS_VALUE.match(value):
            continue
        kept.append(f"{name}:{value}")
    return ";".join(kept)


def url_scheme(value: str) -> str | None:
    """The scheme a browser would see in `value`, lower-cased, or None for a relative URL."""
    normalized = _URL_IGNORED.sub("", value).strip(_URL_EDGE)
    match = _URL_SCHEME.match(normalized)
    return match.group(1).lower() if match else None


def safe_url(value: object) -> str:
    """Return `value` as a URL fit for ``href``/``src``, or ``"#"`` when its scheme is not allowed.

    Browsers drop tabs and newlines anywhere in a URL and control characters at its ends,
    so ``"java\\tscript:"`` and ``" javascript:"`` are normalized before the scheme is read.
    Relative URLs (``/offers/x``, ``?a=1``, ``#top``) pass: they cannot change scheme.
    An empty value stays empty so a template can test for it.
    """
    if value is None:
        return ""
    text = _URL_IGNORED.sub("", str(value)).strip(_URL_EDGE)
    if not text:
        return ""
    scheme = url_scheme(text)
    if scheme is None:
        # A colon before any '/', '?' or '#' that did not form a valid scheme (e.g. "1:x"
        # or "&#106;avascript:") is refused rather than guessed at.
        head = re.split(r"[/?#]", text, maxsplit=1)[0]
        return BLOCKED_URL if ":" in head or "&" in head else text
    return text if scheme in ALLOWED_URL_SCHEMES else BLOCKED_URL



class _PolicyAudit(HTMLParser):
    """Walks HTML and records, with line numbers, what `clean_html` would take out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[tuple[int, str]] = []

    def _note(self, what: str) -> None:
        if len(self.findings) < 20:
            self.findings.append((self.getpos()[0], what))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self._note(f"<{tag}> tag")
            return
        allowed = ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag, frozenset())
        restricted = ALLOWED_ATTRIBUTE_VALUES.get(tag, {})
        for name, value in attrs:
            value = value or ""
            if name == "rel" and tag == "a":
                continue  # set by the sanitizer itself (noopener noreferrer)
            if name in restricted:
                if value not in restricted[name]:
                    self._note(f"{name}=\"{value}\" on <{tag}>")
            elif name not in allowed:
                self._note(f"{name} attribute on <{tag}>")
            elif name in {"href", "src"} and safe_url(value) == BLOCKED_URL and value != "#":
                self._note(f"{name} with a {url_scheme(value) or 'malformed'} URL on <{tag}>")
            elif name == "style":
                kept = {d.split(":", 1)[0] for d in clean_style(value).split(";") if d}
                for declaration in value.split(";"):
                    prop = declaration.partition(":")[0].strip().lower()
                    if prop and prop not in kept:
                        self._note(f"style property {prop!r} on <{tag}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def policy_violations(html: str) -> list[tuple[int, str]]:
    """What the policy would remove from `html`, as (line, description) pairs.

    `clean_html` silently repairs; an editor needs to say what it removed and where, so
    marketing learns why a ``<script>`` or an ``onclick`` disappeared.
    """
    audit = _PolicyAudit()
    audit.feed(html)
    audit.close()
    return audit.findings
