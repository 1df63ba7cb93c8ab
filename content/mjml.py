"""MJML email layouts compiled with mjml-python (MRML, Rust), with line-numbered errors.

MRML is about 40 times faster than the official npm ``mjml`` and matches its output on
our layouts, but its parse errors rarely say where the problem is ("unexpected end of
stream"). Marketing edits MJML in a browser, so before compiling, a small structural scan
of the source finds unclosed, mismatched and malformed tags and reports them by line and
column. The scan also detects the MJML features MRML does not implement
(`UNSUPPORTED_FEATURES`) so the layout editor can warn instead of silently differing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from mjml import mjml2html

from content.diagnostics import ContentError, Diagnostic, LineIndex, Severity, errors_only
from content.placeholders import protect_jinja, restore_jinja

MAX_MJML_CHARS: Final = 200_000


@dataclass(frozen=True, slots=True)
class UnsupportedFeature:
    """An MJML feature mjml-python lacks, how to spot it, and what to do instead."""

    feature: str
    pattern: re.Pattern[str]
    message: str
    hint: str
    severity: Severity


UNSUPPORTED_FEATURES: Final = (
    UnsupportedFeature(
        "mj-html-attributes",
        re.compile(r"<mj-html-attributes\b"),
        "<mj-html-attributes> is not supported by mjml-python: the block is left out",
        "set the attributes on the elements themselves, or use mj-raw",
        "warning",
    ),
    UnsupportedFeature(
        "mj-style inline",
        re.compile(r"<mj-style\b[^>]*\binline\s*=\s*[\"']?inline"),
        '<mj-style inline="inline"> is not inlined by mjml-python: the CSS stays in <head>',
        "many email clients ignore <head> styles; put the styles on mj-* attributes instead",
        "warning",
    ),
    UnsupportedFeature(
        "mj-include",
        re.compile(r"<mj-include\b"),
        "<mj-include> is not available: a layout is one self-contained file",
        "paste the shared part into the layout",
        "error",
    ),
)

# The editor shows these next to the MJML editor, whatever the layout contains.
UNSUPPORTED_FEATURE_NOTES: Final = tuple(
    f"{f.feature}: {f.message}. {f.hint[0].upper()}{f.hint[1:]}." for f in UNSUPPORTED_FEATURES
)

# Elements whose content is HTML (MJML "ending tags"): not scanned for mj-* structure.
ENDING_TAGS: Final = frozenset(
    {
        "mj-text",
        "mj-button",
        "mj-raw",
        "mj-table",
        "mj-navbar-link",
        "mj-accordion-title",
        "mj-accordion-text",
        "mj-social-element",
        "mj-style",
        "mj-title",
        "mj-preview",
    }
)
KNOWN_TAGS: Final = ENDING_TAGS | frozenset(
    {
        "mjml",
        "mj-head",
        "mj-body",
        "mj-section",
        "mj-column",
        "mj-group",
        "mj-wrapper",
        "mj-hero",
        "mj-image",
        "mj-divider",
        "mj-spacer",
        "mj-social",
        "mj-navbar",
        "mj-carousel",
        "mj-carousel-image",
        "mj-accordion",
        "mj-accordion-element",
        "mj-attributes",
        "mj-all",
        "mj-class",
        "mj-font",
        "mj-breakpoint",
        "mj-include",
        "mj-html-attributes",
        "mj-html-attribute",
        "mj-selector",
    }
)

_TOKEN: Final = re.compile(r"<!--|\{#|\{%|\{\{|<(?P<close>/?)(?P<name>mjml\b|mj-[\w-]*)")
#: What ends each stretch in which tags are not looked for: comments and Jinja.
_SKIP_TO: Final = {"<!--": "-->", "{#": "#}", "{%": "%}", "{{": "}}"}
_TAG_REST: Final = re.compile(
    r"""(?P<attrs>(?:\s+[^\s=/>"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*(?P<self>/?)>""",
)


def _error(
    code: str,
    message: str,
    lines: LineIndex,
    offset: int,
    hint: str | None = None,
    severity: Severity = "error",
) -> Diagnostic:
    line, column = lines.at(offset)
    return Diagnostic(code, message, line=line, column=column, hint=hint, severity=severity)


def check_structure(source: str) -> list[Diagnostic]:
    """Find unclosed, mismatched, malformed and unknown mj-* tags, by line and column."""
    lines = LineIndex(source)
    out: list[Diagnostic] = []
    stack: list[tuple[str, int]] = []
    position = 0
    raw_until: str | None = None
    # Where each closer is known to be absent from: an opener after that point closes
    # nothing and is read as text, without searching the rest again (so a layout of
    # unclosed `<!--` costs one pass, not one pass per opener).
    absent_from: dict[str, int] = {}
    while True:
        match = _TOKEN.search(source, position)
        if match is None:
            break
        position = match.end()
        name = match.group("name")
        if name is None:
            closer = _SKIP_TO[match.group(0)]
            if position < absent_from.get(closer, len(source) + 1):
                end = source.find(closer, position)
                if end < 0:
                    absent_from[closer] = position
                else:
                    position = end + len(closer)
            continue
        closing = bool(match.group("close"))
        if raw_until is not None and not (closing and name == raw_until):
            continue
        rest = _TAG_REST.match(source, position)
        if rest is None:
            return out + [
                _error(
                    "mjml-malformed-tag",
                    f"the <{'/' if closing else ''}{name}> "
                    "tag is not closed with '>' or has a broken attribute",
                    lines,
                    match.start(),
                    "check the quotes around attribute values",
                )
            ]
        position = rest.end()
        if closing:
            raw_until = None
            if not stack:
                out.append(
                    _error(
                        "mjml-unexpected-close", f"</{name}> closes nothing", lines, match.start()
                    )
                )
                continue
            if stack[-1][0] != name:
                open_name, open_at = stack[-1]
                line, _ = lines.at(open_at)
                out.append(
                    _error(
                        "mjml-mismatched-tag",
                        f"</{name}> found where </{open_name}> (opened on line {line}) "
                        "was expected",
                        lines,
                        match.start(),
                        f"close <{open_name}> before </{name}>",
                    )
                )
                if any(n == name for n, _ in stack):
                    while stack and stack[-1][0] != name:
                        stack.pop()
                    stack.pop()
                continue
            stack.pop()
            continue
        if name not in KNOWN_TAGS:
            out.append(
                _error(
                    "mjml-unknown-tag",
                    f"<{name}> is not an MJML element",
                    lines,
                    match.start(),
                    severity="warning",
                )
            )
        if not stack and name != "mjml":
            out.append(
                _error(
                    "mjml-root",
                    f"<{name}> must be inside <mjml>",
                    lines,
                    match.start(),
                    "a layout starts with <mjml> and ends with </mjml>",
                )
            )
        if rest.group("self"):
            continue
        stack.append((name, match.start()))
        if name in ENDING_TAGS:
            raw_until = name
    for name, offset in reversed(stack):
        out.append(
            _error(
                "mjml-unclosed-tag", f"<{name}> is never closed", lines, offset, f"add </{name}>"
            )
        )
    out += _outside_root(source, lines)
    if "<mjml" not in source:
        out.append(
            Diagnostic(
                "mjml-root",
                "the layout has no <mjml> element",
                line=1,
                column=1,
                hint="a layout starts with <mjml> and ends with </mjml>",
            )
        )
    elif "<mj-body" not in source:
        out.append(
            Diagnostic(
                "mjml-no-body",
                "the layout has no <mj-body>",
                line=1,
                column=1,
                hint="put the sections inside <mj-body>",
            )
        )
    return out


_ROOT_OPEN: Final = re.compile(r"<mjml\b")
_ROOT_CLOSE: Final = re.compile(r"</mjml\s*>")
_IGNORABLE: Final = re.compile(r"(?:\s+|<!--.*?-->)*", re.S)


def _outside_root(source: str, lines: LineIndex) -> list[Diagnostic]:
    """Text before `<mjml>` or after `</mjml>` (other than blanks and comments), which
    mjml-python refuses without saying where."""
    out: list[Diagnostic] = []
    opened = _ROOT_OPEN.search(source)
    if opened is not None:
        lead = _IGNORABLE.match(source, 0, opened.start())
        if lead is not None and lead.end() < opened.start():
            out.append(
                _error(
                    "mjml-outside-root",
                    "there is text before <mjml>",
                    lines,
                    lead.end(),
                    "a layout starts with <mjml>: move this inside <mj-body>, or delete it",
                )
            )
    closes = list(_ROOT_CLOSE.finditer(source))
    if closes:
        end = closes[-1].end()
        trail = _IGNORABLE.match(source, end)
        if trail is not None and trail.end() < len(source):
            out.append(
                _error(
                    "mjml-outside-root",
                    "there is text after </mjml>",
                    lines,
                    trail.end(),
                    "a layout ends with </mjml>: move this inside <mj-body>, or delete it",
                )
            )
    return out


def unsupported_features(source: str) -> list[Diagnostic]:
    """Diagnostics for the MJML features mjml-python lacks that `source` uses."""
    lines = LineIndex(source)
    return [
        _error(
            f"mjml-unsupported-{f.feature.replace(' ', '-')}",
            f.message,
            lines,
            m.start(),
            f.hint,
            f.severity,
        )
        for f in UNSUPPORTED_FEATURES
        for m in f.pattern.finditer(source)
    ]


#: The deepest nesting of elements mjml-python is given. Its parser recurses once per
#: level, and at about 10,000 levels it overflows an 8 MB stack and takes the process
#: down with it (a crash, not an error); real layouts nest a few dozen deep.
MAX_NESTING: Final = 256
_VOID_ELEMENTS: Final = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)
_ANY_TAG: Final = re.compile(r"<(/?)([A-Za-z][\w:.-]*)|<!--")


def nesting_problem(source: str) -> Diagnostic | None:
    """An error if elements (MJML or HTML, void and self-closed ones aside) nest deeper
    than `MAX_NESTING`, at the element that goes too deep; one pass over the source."""
    lines = LineIndex(source)
    depth = 0
    position = 0
    while (tag := _ANY_TAG.search(source, position)) is not None:
        if tag.group(0) == "<!--":
            end = source.find("-->", tag.end())
            if end < 0:
                return None
            position = end + 3
            continue
        gt = source.find(">", tag.end())
        if gt < 0:
            return None
        position = gt + 1
        if tag.group(1):
            depth = max(0, depth - 1)
        elif tag.group(2).lower() not in _VOID_ELEMENTS and source[gt - 1] != "/":
            depth += 1
            if depth > MAX_NESTING:
                return _error(
                    "mjml-too-deep",
                    f"elements are nested more than {MAX_NESTING} deep here",
                    lines,
                    tag.start(),
                    "close the elements you open; a layout rarely needs more than a few "
                    "dozen levels",
                )
    return None


def check_mjml(source: str) -> list[Diagnostic]:
    """Every structural problem and unsupported feature in `source`, without compiling."""
    if len(source) > MAX_MJML_CHARS:
        return [
            Diagnostic(
                "mjml-too-large",
                f"the layout has {len(source):,} characters (at most {MAX_MJML_CHARS:,})",
            )
        ]
    deep = nesting_problem(source)
    return check_structure(source) + ([deep] if deep else []) + unsupported_features(source)


_POSITION: Final = re.compile(r"\s*at position (\d+):(\d+)")


def compile_mjml(source: str) -> str:
    """Compile MJML (with Jinja slots) to HTML, or raise `ContentError` with line numbers.

    Warnings (unsupported features) do not stop compilation; `check_mjml` lists them.
    """
    errors = errors_only(check_mjml(source))
    if errors:
        raise ContentError(errors)
    protected, saved = protect_jinja(_without_html_attributes(source))
    try:
        html = mjml2html(protected)
    except (ValueError, RuntimeError) as exc:
        raise ContentError([_mrml_diagnostic(str(exc), protected)]) from None
    return restore_jinja(html, saved)


_HTML_ATTRIBUTES_BLOCK: Final = re.compile(
    r"<mj-html-attributes\b.*?(?:</mj-html-attributes\s*>|/>)", re.S
)


def _without_html_attributes(source: str) -> str:
    """Drop ``<mj-html-attributes>`` (MRML refuses it), keeping the line count for errors."""
    return _HTML_ATTRIBUTES_BLOCK.sub(lambda m: "\n" * m.group(0).count("\n"), source)


def _mrml_diagnostic(message: str, protected: str) -> Diagnostic:
    match = _POSITION.search(message)
    text = _POSITION.sub("", message).replace(" in root template", "")
    if match:
        offset = len(protected.encode("utf-8")[: int(match.group(1))].decode("utf-8", "ignore"))
        line, column = LineIndex(protected).at(offset)
        return Diagnostic("mjml-compile", text, line=line, column=column)
    return Diagnostic(
        "mjml-compile",
        text,
        line=1,
        column=1,
        hint="check that every mj-* element is allowed where it is placed",
    )
