"""Building a channel layout on save: check, compile once, guard, and keep the result.

A layout is marketing-owned HTML or MJML with Jinja slots. It is trusted to shape the
page but not to run anything, so on save it is checked for what could: ``<script>``,
event handlers (``on*``), htmx attributes (``hx-*``), non-http(s) link schemes, and
Jinja expressions placed where autoescaping cannot protect (inside a tag but outside a
quoted attribute, inside ``style`` or an event handler, inside a ``<style>`` block).
Every ``href``/``src`` whose value comes from a template is then wrapped so the rendered
value is scheme-checked (`safe_url`) on every render: ``javascript:`` never reaches a
link, however the value was assembled. MJML is compiled to HTML here, once; rendering an
interaction is Jinja only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from content.diagnostics import ContentError, Diagnostic, LineIndex, errors_only
from content.mjml import check_mjml, compile_mjml
from content.model import LAYOUT_CHANNELS, Layout, is_layout_channel
from content.placeholders import jinja_spans
from content.sanitize import BLOCKED_URL, document_violations, safe_url, url_scheme
from content.templates import compile_template

URL_ATTRIBUTES: Final = frozenset(
    {"href", "src", "action", "formaction", "poster", "cite", "xlink:href"}
)
# Attributes a template expression may never fill: they run code, restyle the page or
# hold several URLs that cannot be checked as one.
UNTEMPLATABLE_ATTRIBUTES: Final = frozenset(
    {
        "style",
        "srcset",
        "background",
        "background-url",
        "http-equiv",
        "content",
        "css-class",
        "class",
    }
)
FORBIDDEN_ELEMENTS: Final = frozenset(
    {"script", "iframe", "object", "embed", "base", "form", "frame", "frameset", "applet"}
)
RAW_TEXT_ELEMENTS: Final = frozenset({"style", "script"})

_EXPRESSION = "\x00"
_STATEMENT = "\x01"
_TAG: Final = re.compile(r"<(/?)([a-zA-Z][\w:.-]*)")
_ATTRIBUTE: Final = re.compile(
    r"""\s*(?P<name>[^\s=/>"']+)(?:\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<uq>[^\s>"']+)))?"""
)
_TAG_END: Final = re.compile(r"\s*/?>")
_LAYOUT_NAME = "layout"


def _mask(source: str) -> str:
    """Replace Jinja with same-length filler so HTML scanning keeps offsets and lines."""
    parts: list[str] = []
    position = 0
    for start, end in jinja_spans(source):
        char = _EXPRESSION if source.startswith("{{", start) else _STATEMENT
        parts.append(source[position:start])
        parts.append("\n".join(char * len(piece) for piece in source[start:end].split("\n")))
        position = end
    parts.append(source[position:])
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class _Attribute:
    tag: str
    name: str
    value: str | None
    value_start: int
    value_end: int
    quoted: bool
    start: int


def _attributes(masked: str) -> Iterator[tuple[str, int, list[_Attribute]]]:
    """Yield (tag, offset, attributes) for every start tag in masked source."""
    position = 0
    while True:
        tag = _TAG.search(masked, position)
        if tag is None:
            return
        position = tag.end()
        name = tag.group(2).lower()
        if tag.group(1):
            continue
        attributes: list[_Attribute] = []
        while True:
            end = _TAG_END.match(masked, position)
            if end:
                position = end.end()
                break
            attr = _ATTRIBUTE.match(masked, position)
            if attr is None or attr.end() == position:
                position += 1
                if position >= len(masked):
                    break
                continue
            group = next((g for g in ("dq", "sq", "uq") if attr.group(g) is not None), None)
            attributes.append(
                _Attribute(
                    tag=name,
                    name=attr.group("name").lower(),
                    value=attr.group(group) if group else None,
                    value_start=attr.start(group) if group else attr.end(),
                    value_end=attr.end(group) if group else attr.end(),
                    quoted=group in ("dq", "sq"),
                    start=attr.start("name"),
                )
            )
            position = attr.end()
        yield name, tag.start(), attributes
        if name in RAW_TEXT_ELEMENTS:
            close = masked.lower().find(f"</{name}", position)
            if close == -1:
                return
            position = close


def _bodies(
    source: str, opener: re.Pattern[str], closer: str, *, ignore_case: bool, self_closed: bool
) -> Iterator[tuple[str, int, int]]:
    """(element, start, end) of the content of each element `opener` finds (its group 1
    names the element) up to the element's own closer (`closer` formatted with the name),
    left to right, in one pass over the source: an element that is never closed has no
    content, and the rest of the source is not searched again for its closer.
    `self_closed`: whether ``<x ... />`` opens content too (as in ``<style/>...</style>``)."""
    absent_from: dict[str, int] = {}
    flags = re.I if ignore_case else 0
    position = 0
    while (found := opener.search(source, position)) is not None:
        name = found.group(1)
        gt = source.find(">", found.end())
        if gt < 0:
            return
        start = position = gt + 1
        if not self_closed and source[gt - 1] == "/":
            continue
        key = name.lower() if ignore_case else name
        if start >= absent_from.get(key, len(source) + 1):
            continue
        close = re.compile(closer.format(re.escape(name)), flags).search(source, start)
        if close is None:
            absent_from.setdefault(key, start)
            continue
        yield name, start, close.start()
        position = close.end()


_RAW_TEXT_OPEN: Final = {
    element: re.compile(rf"<({element})\b", re.I) for element in sorted(RAW_TEXT_ELEMENTS)
}


def lint_layout(source: str) -> list[Diagnostic]:
    """What in a layout source could run code or escape autoescaping, by line and column."""
    masked = _mask(source)
    out: list[Diagnostic] = []
    lines = LineIndex(source)

    def report(code: str, message: str, offset: int, hint: str) -> None:
        line, column = lines.at(offset)
        out.append(
            Diagnostic(code, message, field=_LAYOUT_NAME, line=line, column=column, hint=hint)
        )

    for tag, offset, attributes in _attributes(masked):
        if tag in FORBIDDEN_ELEMENTS:
            report(
                "layout-forbidden-element",
                f"<{tag}> is not allowed in a layout",
                offset,
                "layouts shape content; scripts, frames and forms are not allowed",
            )
        for attr in attributes:
            if _EXPRESSION in attr.name:
                report(
                    "layout-expression-in-tag",
                    "a template expression cannot add attributes",
                    attr.start,
                    "put {{ }} inside a quoted attribute value",
                )
                continue
            if (
                attr.name.startswith("on")
                or attr.name.startswith("hx-")
                or attr.name.startswith("data-hx-")
            ):
                report(
                    "layout-active-attribute",
                    f"the {attr.name} attribute is not allowed",
                    attr.start,
                    "event handlers and htmx attributes never reach customers",
                )
                continue
            value = attr.value or ""
            templated = _EXPRESSION in value or _STATEMENT in value
            if templated and not attr.quoted:
                report(
                    "layout-unquoted-expression",
                    f"the {attr.name} value holds a template expression but is not quoted",
                    attr.value_start,
                    f'write {attr.name}="{{{{ ... }}}}"',
                )
            elif templated and attr.name in UNTEMPLATABLE_ATTRIBUTES:
                report(
                    "layout-templated-attribute",
                    f"the {attr.name} attribute cannot be filled by a template",
                    attr.value_start,
                    "use a fixed value",
                )
            elif (
                not templated
                and attr.name in URL_ATTRIBUTES | {"background-url"}
                and safe_url(value) == BLOCKED_URL
                and value.strip() != BLOCKED_URL
            ):
                report(
                    "layout-unsafe-url",
                    f"the {attr.name} URL uses the '{url_scheme(value) or 'unknown'}' scheme",
                    attr.value_start,
                    "links use http, https, mailto or tel",
                )
    for element, opener in _RAW_TEXT_OPEN.items():
        for _name, start, end in _bodies(
            masked, opener, "</{}", ignore_case=True, self_closed=True
        ):
            body = masked[start:end]
            if _EXPRESSION in body or _STATEMENT in body:
                report(
                    "layout-templated-style",
                    f"<{element}> content cannot hold templates",
                    start,
                    "keep CSS fixed; vary content, not styles",
                )
    return out


def guard_url_attributes(html: str) -> str:
    """Wrap every templated ``href``/``src`` value so its rendered result is scheme-checked."""
    masked = _mask(html)
    edits: list[tuple[int, int]] = []
    for _tag, _offset, attributes in _attributes(masked):
        for attr in attributes:
            value = attr.value or ""
            if (
                attr.name in URL_ATTRIBUTES
                and attr.quoted
                and (_EXPRESSION in value or _STATEMENT in value)
            ):
                edits.append((attr.value_start, attr.value_end))
    for start, end in reversed(edits):
        html = (
            f"{html[:start]}{{% filter url_attribute %}}{html[start:end]}"
            f"{{% endfilter %}}{html[end:]}"
        )
    return html


# MJML elements whose content is HTML that ships as written.
_MJML_HTML_CONTENT: Final = re.compile(
    r"<(mj-text|mj-button|mj-raw|mj-table|mj-navbar-link|mj-accordion-title|mj-accordion-text"
    r"|mj-social-element)\b"
)
# MJML elements whose output the document policy removes entirely: refused so the author
# sees at save what would otherwise silently not ship.
_MJML_DROPPED: Final = {
    "mj-style": "style sheets do not ship; set styles with mj-attributes or on the elements",
    "mj-font": "web fonts are not loaded; use a font stack such as Helvetica, Arial, sans-serif",
    "mj-html-attributes": "it is not supported; set the attributes on the elements themselves",
}
_MJML_DROPPED_TAG: Final = re.compile(r"<(mj-style|mj-font|mj-html-attributes)\b")


def sanitizer_diagnostics(source: str, *, mjml: bool) -> list[Diagnostic]:
    """What the document sanitizer would change in a layout source, by line, as errors.

    An HTML layout is checked whole; an MJML layout is checked element by element: the HTML
    inside mj-text, mj-button, mj-raw and the other content elements, and the elements
    whose output never ships. The rendered layout is sanitized again on every render.
    """
    out: list[Diagnostic] = []

    def report(line: int, what: str, offset_line: int = 0) -> None:
        out.append(
            Diagnostic(
                "layout-not-shippable",
                f"the sanitizer would remove {what}",
                field=_LAYOUT_NAME,
                line=line + offset_line,
                column=1,
                hint="what the sanitizer changes does not reach customers; see docs/content.md",
            )
        )

    if not mjml:
        for line, what in document_violations(source):
            report(line, what)
        return out
    lines = LineIndex(source)
    for match in _MJML_DROPPED_TAG.finditer(source):
        tag = match.group(1)
        line, column = lines.at(match.start())
        out.append(
            Diagnostic(
                "layout-not-shippable",
                f"<{tag}> does not ship: {_MJML_DROPPED[tag]}",
                field=_LAYOUT_NAME,
                line=line,
                column=column,
            )
        )
    content = _bodies(source, _MJML_HTML_CONTENT, r"</{}\s*>", ignore_case=False, self_closed=False)
    for _element, start, end in content:
        first_line = lines.at(start)[0] - 1
        for line, what in document_violations(source[start:end]):
            report(line, what, first_line)
    return out


def build_layout(key: str, name: str, channel: str, source: str) -> Layout:
    """Check and compile a layout once, on save, or raise `ContentError` with line numbers.

    Email layouts are MJML; the message-center page is HTML. The returned layout carries
    its warnings (e.g. MJML features mjml-python lacks) for the editor to show.
    """
    if not is_layout_channel(channel):
        raise ContentError.single(
            "layout-channel",
            f"'{channel}' is not a layout channel",
            field="channel",
            hint=f"use one of {', '.join(LAYOUT_CHANNELS)}",
        )
    diagnostics: list[Diagnostic] = []
    try:
        compile_template(source, name=_LAYOUT_NAME, html=True)
    except ContentError as exc:
        if any(d.code == "template-too-large" for d in exc.diagnostics):
            raise  # it cannot be saved whatever else is wrong: no need to look further
        diagnostics += exc.diagnostics
    is_mjml = source.lstrip().startswith("<mjml")
    if channel in ("email_html", "notification_email") and not is_mjml:
        diagnostics.append(
            Diagnostic(
                "layout-not-mjml",
                "an email layout is written in MJML",
                field=_LAYOUT_NAME,
                line=1,
                column=1,
                hint="start the layout with <mjml>",
            )
        )
    if is_mjml:
        diagnostics += [d.with_field(_LAYOUT_NAME) for d in check_mjml(source)]
    diagnostics += lint_layout(source)
    diagnostics += sanitizer_diagnostics(source, mjml=is_mjml)
    if channel == "notification_email":
        if "message_center_url" not in source:
            diagnostics.append(
                Diagnostic(
                    "notification-no-link",
                    "the notification never links to the customer's message",
                    field=_LAYOUT_NAME,
                    hint="add a link to {{ message_center_url() }}",
                )
            )
    elif "offer" not in source:
        diagnostics.append(
            Diagnostic(
                "layout-no-offer",
                "the layout never shows the offer",
                field=_LAYOUT_NAME,
                severity="warning",
                hint="add {{ offer.headline }} and {{ offer.body }}",
            )
        )
    if errors_only(diagnostics):
        raise ContentError(diagnostics)
    html = compile_mjml(source) if is_mjml else source
    compiled = guard_url_attributes(html)
    compile_template(compiled, name=f"{_LAYOUT_NAME}:{key}", html=True)
    return Layout(
        key=key,
        name=name,
        channel=channel,
        source=source,
        compiled_html=compiled,
        warnings=tuple(diagnostics),
    )
