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

ALLOWED_TAGS: Final = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "code",
        "div",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "s",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    }
)

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
ALLOWED_CSS_PROPERTIES: Final = frozenset(
    {
        "background-color",
        "border",
        "border-bottom",
        "border-collapse",
        "border-color",
        "border-left",
        "border-radius",
        "border-right",
        "border-style",
        "border-top",
        "border-width",
        "color",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "height",
        "letter-spacing",
        "line-height",
        "margin",
        "margin-bottom",
        "margin-left",
        "margin-right",
        "margin-top",
        "max-width",
        "padding",
        "padding-bottom",
        "padding-left",
        "padding-right",
        "padding-top",
        "text-align",
        "text-decoration",
        "text-transform",
        "vertical-align",
        "width",
    }
)

# ``display`` is only on the document list, and only with values that cannot lift a box
# out of the flow.
DISPLAY_VALUES: Final = frozenset(
    {"block", "inline", "inline-block", "table", "table-cell", "table-row", "none"}
)

# A CSS value may only hold words, numbers, units, colours, commas and quotes: no url(),
# no expression(), no escapes, no at-rules, so no way to fetch or run anything.
_SAFE_CSS_VALUE = re.compile(r"^[\w\s#%.,'\"!+-]*(?:\([\w\s#%.,+-]*\)[\w\s#%.,'\"!+-]*)*$")
_DANGEROUS_CSS_WORDS = re.compile(r"url|expression|javascript|import|behavior|binding", re.I)

# Bounds that keep authored boxes inside their own part of the page: a length may not be
# negative (no pulling a box over its neighbours), viewport units are not offered (no
# "100vw x 100vh" cover), and every size is capped. Positioning properties (position,
# top/left, z-index, transform) are simply not on the property list.
MAX_CSS_LENGTHS: Final = {"px": 1200.0, "pt": 900.0, "em": 75.0, "rem": 75.0, "%": 100.0}
MAX_FONT_SIZE: Final = {"px": 96.0, "pt": 72.0, "em": 6.0, "rem": 6.0, "%": 600.0}
_CSS_NUMBER = re.compile(r"(?<![\w#])([+-]?)(\d*\.?\d+)([a-z%]*)", re.I)
_UNITLESS_OK: Final = frozenset({"line-height", "font-weight"})


def css_value_problem(name: str, value: str) -> str | None:
    """Why the declaration `name: value` breaks the size bounds, or None when it keeps them."""
    caps = MAX_FONT_SIZE if name == "font-size" else MAX_CSS_LENGTHS
    for sign, number, unit in _CSS_NUMBER.findall(value):
        unit = unit.lower()
        if sign == "-" and float(number) != 0:
            return f"negative {name} ({value})"
        if unit in {"vw", "vh", "vmin", "vmax", "dvh", "svh", "lvh", "dvw", "svw", "lvw"}:
            return f"{name} uses viewport units ({value})"
        if unit == "" and name in _UNITLESS_OK:
            if name == "line-height" and float(number) > 10:
                return f"{name} {value} is larger than 10"
            continue
        cap = caps.get(unit)
        if cap is not None and float(number) > cap:
            return f"{name} {value} is larger than {cap:g}{unit}"
    return None


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


def clean_style(style: str, properties: frozenset[str] = ALLOWED_CSS_PROPERTIES) -> str:
    """Keep the allowed CSS declarations of an inline ``style`` whose values are inert and bounded."""
    kept = []
    for declaration in style.split(";"):
        name, sep, value = declaration.partition(":")
        name, value = name.strip().lower(), value.strip()
        if not sep or name not in properties or not value:
            continue
        if _DANGEROUS_CSS_WORDS.search(value) or not _SAFE_CSS_VALUE.match(value):
            continue
        if css_value_problem(name, value) is not None:
            continue
        if name == "display" and value.lower() not in DISPLAY_VALUES:
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
                    self._note(f'{name}="{value}" on <{tag}>')
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


_MARKED_SECTION_CLOSE: Final = re.compile(r"]\s*]\s*>")


def _closable(html: str) -> str:
    """`html` with each ``<`` that opens what is never closed after it made a space: a
    comment with no ``-->`` (or ``--!>``) after it, a ``<![`` section with no ``]]>``,
    anything with no ``>``. The standard library's HTMLParser (the audits) searches the
    rest of the document again for each of these: 30,000 unclosed comments took 28 s.
    Lines and the other tags stay where they were; the sanitizer, which decides, reads the
    source as written."""
    last_tag_end = html.rfind(">")
    last_comment_end = max(html.rfind("-->"), html.rfind("--!>"))
    last_section_end = -1
    for section_end in _MARKED_SECTION_CLOSE.finditer(html):
        last_section_end = section_end.start()
    cut: list[int] = []
    at = html.find("<")
    while at >= 0:
        if (
            at > last_tag_end
            or (html.startswith("<!--", at) and last_comment_end < at + 4)
            or (html.startswith("<![", at) and last_section_end < at + 3)
        ):
            cut.append(at)
        at = html.find("<", at + 1)
    if not cut:
        return html
    parts = []
    start = 0
    for at in cut:
        parts.append(html[start:at])
        start = at + 1
    parts.append(html[start:])
    return " ".join(parts)


def policy_violations(html: str) -> list[tuple[int, str]]:
    """What the policy would remove from `html`, as (line, description) pairs.

    `clean_html` silently repairs; an editor needs to say what it removed and where, so
    marketing learns why a ``<script>`` or an ``onclick`` disappeared.
    """
    audit = _PolicyAudit()
    audit.feed(_closable(html))
    audit.close()
    return audit.findings


# --- the document policy: every HTML page or email the studio ships to customers ---------

DOCUMENT_TAGS: Final = ALLOWED_TAGS | frozenset(
    {
        "article",
        "aside",
        "center",
        "col",
        "colgroup",
        "dd",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h5",
        "h6",
        "header",
        "main",
        "pre",
        "section",
    }
)
DOCUMENT_ATTRIBUTES: Final = {
    **ALLOWED_ATTRIBUTES,
    # role and aria-* keep emails readable by screen readers (MJML marks the message
    # role="article"); they change nothing a browser runs or loads.
    "*": ALLOWED_ATTRIBUTES["*"]
    | frozenset({"align", "role", "aria-label", "aria-hidden", "aria-roledescription"}),
    "td": ALLOWED_ATTRIBUTES["td"] | frozenset({"width", "height", "bgcolor"}),
    "th": ALLOWED_ATTRIBUTES["th"] | frozenset({"width", "height", "bgcolor"}),
    "table": ALLOWED_ATTRIBUTES["table"] | frozenset({"bgcolor"}),
    "tr": frozenset({"valign", "bgcolor"}),
    "col": frozenset({"width", "span"}),
    "colgroup": frozenset({"width", "span"}),
}
DOCUMENT_CSS_PROPERTIES: Final = ALLOWED_CSS_PROPERTIES | frozenset(
    {
        "background",
        "border-spacing",
        "direction",
        "display",
        "max-height",
        "min-height",
        "min-width",
        "overflow",
        "table-layout",
        "text-indent",
        "white-space",
        "word-break",
        "word-wrap",
    }
)
# Elements whose content never ships: scripts, style sheets, frames, foreign content
# (SVG/MathML parse by other rules and are where sanitizer/browser disagreements live),
# and the head (title, meta refresh, base) which the studio writes itself.
DOCUMENT_DROPPED_CONTENT: Final = frozenset(
    {
        "script",
        "style",
        "template",
        "iframe",
        "object",
        "embed",
        "noscript",
        "noembed",
        "noframes",
        "svg",
        "math",
        "title",
        "textarea",
        "select",
        "xmp",
        "plaintext",
        "head",
    }
)

# The studio writes the document shell itself; authors write what goes inside <body>.
DOCUMENT_SHELL: Final = (
    '<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n'
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n</head>\n'
    "<body>\n{body}\n</body>\n</html>\n"
)
_SHELL_HEAD, _SHELL_TAIL = DOCUMENT_SHELL.split("{body}")
_BODY_LIMIT_NOTE = "documents hold tables, text, images and http(s)/mailto links"


def _leads_nowhere(url: str) -> bool:
    """A relative address that is not the studio's own (``/assets/...``) nor a place in
    the page (``#top``): ``logo.png`` or ``?a=1`` would be read against the customer's
    message page (``/m/<token>``), or nothing at all in an email, and fail. Template
    placeholders (`protect_jinja`) are judged when rendered, not here."""
    return bool(url) and url_scheme(url) is None and not url.startswith(("/", "#", "zzjinja"))


def _filter_document_attribute(tag: str, name: str, value: str) -> str | None:
    if name == "style":
        return clean_style(value, DOCUMENT_CSS_PROPERTIES) or None
    if name in {"href", "src"}:
        cleaned = safe_url(value)
        if cleaned == BLOCKED_URL and value.strip() != BLOCKED_URL:
            return None
        if _leads_nowhere(cleaned):
            return None
        return cleaned if url_scheme(cleaned) != "tel" or tag == "a" else None
    if name in {"width", "height"} and css_value_problem(
        name, value + ("" if value.strip().endswith("%") else "px")
    ):
        return None
    return value


_DOCUMENT_CLEANER = nh3.Cleaner(
    tags=set(DOCUMENT_TAGS),
    clean_content_tags=set(DOCUMENT_DROPPED_CONTENT),
    attributes={tag: set(names) for tag, names in DOCUMENT_ATTRIBUTES.items()},
    tag_attribute_values={
        tag: {name: set(values) for name, values in attrs.items()}
        for tag, attrs in ALLOWED_ATTRIBUTE_VALUES.items()
    },
    attribute_filter=_filter_document_attribute,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def _document_body(html: str) -> str:
    """The body part of `html`, sanitized, repeated until it is a fixed point."""
    if html.startswith(_SHELL_HEAD) and html.endswith(_SHELL_TAIL):
        html = html[len(_SHELL_HEAD) : len(html) - len(_SHELL_TAIL)]
    body = _DOCUMENT_CLEANER.clean(html)
    for _ in range(4):
        again = _DOCUMENT_CLEANER.clean(body)
        if again == body:
            return body
        body = again
    return ""  # no fixed point: ship nothing rather than something unproven


def sanitize_document(html: str) -> str:
    """Return `html` as the document the studio ships: the one policy for customer HTML.

    Parser-based (nh3/html5ever, the parser browsers share): the author's markup is
    reduced to `DOCUMENT_TAGS` with `DOCUMENT_ATTRIBUTES`, inline style limited to
    `DOCUMENT_CSS_PROPERTIES` with bounded values, links and images with http, https or
    mailto URLs, and placed into the studio's own `DOCUMENT_SHELL` (no author-written
    head, so no meta refresh, base, style sheets or web fonts). Idempotent:
    ``sanitize_document(sanitize_document(x)) == sanitize_document(x)``.
    Used on rendered layouts (every channel), so values a template inserts are held to
    the same policy as the layout itself.
    """
    return DOCUMENT_SHELL.format(body=_document_body(html or ""))


_PERMISSIVE_PREFIXES: Final = frozenset(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "\"'>/=")
_ANY_TAG = re.compile(r"<([a-zA-Z][^\s/>]*)")
# A whole run of scheme characters before a colon, matched from the run's start only (the
# lookbehind): matched from every letter, "onon...on" without a colon cost a scan of the
# rest of the run from each of them, 228 s for a 200,000-character layout.
_ANY_SCHEME = re.compile(r"(?<![a-zA-Z0-9+.\-])[a-zA-Z0-9+.\-]+(?=:)")
_SCHEME_LEAD = re.compile(r"^[0-9+.\-]+")


def _schemes(html: str) -> set[str]:
    """Every word that stands before a colon as a URL scheme would (a letter, then
    letters, digits, ``+``, ``.`` or ``-``), lowercased."""
    found = (_SCHEME_LEAD.sub("", run) for run in _ANY_SCHEME.findall(html))
    return {scheme.lower() for scheme in found if scheme}


def _normalize_attribute(tag: str, name: str, value: str) -> str | None:
    if name == "style":
        parts = []
        for declaration in value.split(";"):
            prop, sep, val = declaration.partition(":")
            if prop.strip() or val.strip():
                parts.append(f"{prop.strip().lower()}{sep}{val.strip()}")
        return ";".join(parts) or None
    if name in {"href", "src"}:
        return _URL_IGNORED.sub("", value).strip(_URL_EDGE)
    return value


def _permissive_clean(html: str) -> str:
    """`html` through the same parser and serializer with nothing removed: the baseline."""
    tags = {m.lower() for m in _ANY_TAG.findall(html)} | set(DOCUMENT_TAGS)
    extra = {chr(c) for c in {ord(ch) for ch in html} if c > 0x7F}
    cleaner = nh3.Cleaner(
        tags=tags - {"rel"},
        clean_content_tags=set(),
        attributes={},
        generic_attribute_prefixes=set(_PERMISSIVE_PREFIXES) | extra,
        attribute_filter=_normalize_attribute,
        url_schemes=_schemes(html) | {"http", "https"},
        link_rel="noopener noreferrer",
        strip_comments=False,
    )
    return cleaner.clean(html)


class _DocumentAudit(HTMLParser):
    """Names, by line, what the document policy removes (for the author, not for safety)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[tuple[int, str]] = []

    def _note(self, what: str) -> None:
        if len(self.findings) < 20:
            self.findings.append((self.getpos()[0], what))

    def handle_comment(self, data: str) -> None:
        self._note("an HTML comment (comments never ship; use {# ... #})")

    def handle_decl(self, decl: str) -> None:
        self._note(
            f"<!{decl.split()[0] if decl.split() else decl}> (the studio writes the document shell)"
        )

    def unknown_decl(self, data: str) -> None:
        self._note("a <![...]> section")

    def handle_pi(self, data: str) -> None:
        self._note("a <?...> processing instruction")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"html", "head", "body", "meta", "title", "link", "base"}:
            self._note(
                f"<{tag}> (the studio writes the document shell; write only what goes "
                "inside <body>)"
            )
            return
        if tag not in DOCUMENT_TAGS:
            self._note(f"<{tag}> tag")
            return
        allowed = DOCUMENT_ATTRIBUTES["*"] | DOCUMENT_ATTRIBUTES.get(tag, frozenset())
        restricted = ALLOWED_ATTRIBUTE_VALUES.get(tag, {})
        for name, value in attrs:
            value = value or ""
            if name in restricted:
                if value not in restricted[name]:
                    self._note(f'{name}="{value}" on <{tag}>')
            elif name.startswith("zzjinja"):
                self._note(
                    f"a template tag inside the <{tag}> start tag (templates go in "
                    "quoted attribute values or between tags)"
                )
            elif name not in allowed:
                self._note(f"{name} attribute on <{tag}>")
            elif name in {"href", "src"} and _leads_nowhere(safe_url(value)):
                self._note(
                    f'{name}="{value[:60]}" on <{tag}>: a relative address leads nowhere for '
                    "the customer (use https://..., or a library image's /assets/...)"
                )
            elif name in {"href", "src"} and _filter_document_attribute(tag, name, value) is None:
                self._note(f"{name} with a {url_scheme(value) or 'malformed'} URL on <{tag}>")
            elif name == "style":
                kept = {
                    d.split(":", 1)[0]
                    for d in clean_style(value, DOCUMENT_CSS_PROPERTIES).split(";")
                    if d
                }
                for declaration in value.split(";"):
                    prop, _, val = declaration.partition(":")
                    prop = prop.strip().lower()
                    if prop and prop not in kept:
                        why = (
                            css_value_problem(prop, val.strip())
                            if prop in DOCUMENT_CSS_PROPERTIES
                            else None
                        )
                        self._note(f"style {why or repr(prop)} on <{tag}>")
            elif _filter_document_attribute(tag, name, value) is None:
                self._note(f'{name}="{value}" on <{tag}> is out of bounds')

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


# The parts of a full document an author may write: they are replaced by the studio's
# own shell, so they are accepted at save and never shipped as written.
_ACCEPTED_SHELL = re.compile(
    r"<!doctype\s+html\s*>|</?html(?:\s+lang=\"[\w-]*\")?\s*>|</?head\s*>|</?body\s*>"
    r"|<meta\s+charset=\"?utf-8\"?\s*/?>"
    r"|<meta\s+name=\"viewport\"\s+content=\"[\w\s=,.-]*\"\s*/?>"
    r"|<title>[^<]*</title>",
    re.I,
)


def _without_shell(html: str) -> str:
    return _ACCEPTED_SHELL.sub(lambda m: "\n" * m.group(0).count("\n"), html)


def document_violations(html: str) -> list[tuple[int, str]]:
    """What `sanitize_document` would change in `html` (template regions masked), by line.

    The decision is parser-based: `html` is put through the document policy and through
    the same parser with nothing removed; any difference is a violation. The reasons come
    from a second, simpler scan; when it cannot name the change, the first differing line
    of the parsed document is reported with what was removed, so nothing goes unreported.
    """
    from content.placeholders import protect_jinja

    protected = _without_shell(protect_jinja(html)[0])
    baseline = _permissive_clean(protected)
    cleaned = _DOCUMENT_CLEANER.clean(protected)
    if cleaned == baseline:
        return []
    audit = _DocumentAudit()
    audit.feed(_closable(protected))
    audit.close()
    if audit.findings:
        return audit.findings
    at = next(
        (i for i, (a, b) in enumerate(zip(baseline, cleaned, strict=False)) if a != b),
        min(len(baseline), len(cleaned)),
    )
    line = baseline.count("\n", 0, at) + 1
    snippet = baseline[at : at + 40].split("\n")[0]
    return [(line, f"the sanitizer removes or rewrites {snippet!r}")]
