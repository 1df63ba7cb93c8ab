"""Bounded, sandboxed Jinja for marketing-authored active content.

Marketing writes Jinja in offers and layouts ("show the savings only when
``data.refill.savings_pct > 5``"). A template is untrusted input that the studio compiles
on save and renders on every interaction, so both steps are bounded:

* **Compile cannot hang.** Jinja folds constant expressions while compiling, so
  ``{{ 'a' * 10**9 }}`` or ``{{ 9**9**9 }}`` would be evaluated on save. Here the
  optimizer is off, every arithmetic operator is intercepted (intercepted operators are
  never folded), and a context-aware ``finalize`` stops Jinja from pre-computing output
  expressions. The source itself is size-capped.
* **Render is bounded** in time (a deadline checked in every loop iteration, call, output
  chunk and arithmetic operation), in output size (every captured or streamed buffer is
  measured before it is joined) and in range (``range()`` and loop iteration caps).
  Arithmetic refuses results that would be huge before computing them.
* **Sandboxed and immutable.** The environment is an ``ImmutableSandboxedEnvironment``;
  string methods are an allowlist; filters are a curated list (no ``safe``, no
  ``xmlattr``, no ``format``); there is no loader, so no include or import.
* **Plain data only.** `plain_data` refuses anything but dicts, lists and scalars, so an
  ORM object (and its table and column names) can never reach a template.

Errors come back as `ContentError` with the template line, never as a Jinja traceback.
"""

from __future__ import annotations

import difflib
import functools
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final

import jinja2
from jinja2 import nodes
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import htmlsafe_json_dumps
from jinja2.visitor import NodeTransformer
from markupsafe import Markup, escape

from content.diagnostics import ContentError, Diagnostic
from content.formatting import format_date, format_money, format_percent
from content.sanitize import safe_url

VOCABULARY: Final = ("customer", "inquiry", "offer", "data")
HELPERS: Final = ("message_center_url", "nps_url", "nps_survey", "survey_url")


@dataclass(frozen=True, slots=True)
class Limits:
    """How much a template may cost; the defaults suit one offer in one channel."""

    max_source_chars: int = 100_000
    max_output_chars: int = 512_000
    max_range: int = 10_000
    max_loop_iterations: int = 100_000
    max_int_bits: int = 4_096
    render_ms: float = 200.0


DEFAULT_LIMITS: Final = Limits()


class _Budget:
    """The running cost of one render: deadline, output so far, iterations, warnings."""

    __slots__ = ("deadline", "limits", "iterations", "missing", "ticks")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.deadline = time.perf_counter() + limits.render_ms / 1000.0
        self.iterations = 0
        self.ticks = 0
        self.missing: list[str] = []

    def tick(self) -> None:
        self.ticks += 1
        if self.ticks & 31 == 0 and time.perf_counter() > self.deadline:
            raise _LimitExceeded(
                "render-timeout",
                f"rendering took longer than {self.limits.render_ms:g} ms",
                "look for loops over large ranges or recursive macros",
            )

    def check_size(self, size: int, what: str = "output") -> None:
        if size > self.limits.max_output_chars:
            raise _LimitExceeded(
                "output-too-large",
                f"{what} would exceed {self.limits.max_output_chars:,} characters",
                "shorten the text or the loops that repeat it",
            )


_BUDGET: ContextVar[_Budget | None] = ContextVar("content_template_budget", default=None)


class _LimitExceeded(Exception):
    """Raised inside a render when a bound is hit; turned into a Diagnostic outside."""

    def __init__(self, code: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.code, self.hint = code, hint


def _budget() -> _Budget:
    budget = _BUDGET.get()
    if budget is None:
        # Templates compiled here are only rendered through `render_template`; a render
        # outside it (e.g. a bare jinja call) still gets the default bounds.
        budget = _Budget(DEFAULT_LIMITS)
        _BUDGET.set(budget)
    return budget


class LenientUndefined(jinja2.ChainableUndefined):
    """A missing value renders empty and compares false, like ``null`` in the rule language.

    Interaction payloads differ per channel and system, so ``data.refill.savings_pct > 5``
    must simply be false when there is no refill; every missing name that is printed or
    compared is recorded so the preview can warn about it.
    """

    __slots__ = ()

    def _note(self) -> None:
        budget = _BUDGET.get()
        if budget is not None and len(budget.missing) < 50:
            budget.missing.append(self._undefined_name or "value")

    def __str__(self) -> str:
        self._note()
        return ""

    def _compare(self, other: Any) -> bool:
        self._note()
        return False

    # jinja2 types Undefined's comparisons as always raising; this lenient one answers False.
    __lt__ = __le__ = __gt__ = __ge__ = _compare  # type: ignore[assignment]


# --- plain data --------------------------------------------------------------------------

_SCALARS = (str, int, float, bool, type(None), date, datetime, Decimal)
#: How deep plain data may nest (callers checking input up front use the same bound).
MAX_DATA_DEPTH = 20


def plain_data(value: Any, *, path: str = "value", depth: int = 0) -> Any:
    """Copy `value` into dicts, lists and scalars, refusing anything else.

    Templates must never see ORM rows or other live objects: their attributes leak table
    and column names and can run queries. Tuples become lists, mappings become dicts.
    """
    return _plain(value, path, depth)


#: Where a value sits, made into text only when an error names it: the path as text, or
#: the parent's place and a key (a list index as a one-item tuple).
_Place = str | tuple[Any, Any]


def _path_of(place: _Place) -> str:
    keys: list[Any] = []
    while isinstance(place, tuple):
        place, key = place
        keys.append(key)
    text = place
    for key in reversed(keys):
        text += f"[{key[0]}]" if type(key) is tuple else f".{key}"
    return text


def _plain(value: Any, place: _Place, depth: int) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    # Exact dicts and lists are told by their type: the ABC checks cost more than a copy.
    mapping: bool | None = None
    if kind is dict:
        mapping = True
    elif kind is list or kind is tuple:
        mapping = False
    elif isinstance(value, _SCALARS):
        return value
    if depth > MAX_DATA_DEPTH:
        raise ContentError.single(
            "data-too-deep", f"{_path_of(place)} is nested more than {MAX_DATA_DEPTH} levels"
        )
    if mapping is None:
        if isinstance(value, Mapping):
            mapping = True
        elif isinstance(value, list | tuple):
            mapping = False
        else:
            path = _path_of(place)
            raise ContentError.single(
                "not-plain-data",
                f"{path} is a {type(value).__name__}; templates only receive plain data",
                field=path,
                hint="pass dicts, lists, strings, numbers, booleans and dates",
            )
    if mapping:
        return {str(k): _plain(v, (place, k), depth + 1) for k, v in value.items()}
    return [_plain(v, (place, (i,)), depth + 1) for i, v in enumerate(value)]


# --- bounded building blocks used by the environment ------------------------------------


def _measure(value: Any, budget: _Budget, limit: int | None = None) -> int:
    """Estimate the printed size of `value`, stopping as soon as it passes the limit."""
    limit = budget.limits.max_output_chars if limit is None else limit
    stack, total = [value], 0
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, Mapping):
            total += 2 + 4 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 + 2 * len(item)
            stack.extend(item)
        else:
            total += 24
        if total > limit:
            budget.check_size(total)
    return total


def _bounded_concat(parts: Iterable[str]) -> str:
    budget = _budget()
    buffer = parts if isinstance(parts, list) else list(parts)
    budget.check_size(sum(map(len, buffer)))
    return "".join(buffer)


def _bounded_range(*args: int) -> range:
    budget = _budget()
    budget.tick()
    if any(not isinstance(a, int) for a in args):
        raise _LimitExceeded("bad-range", "range() takes whole numbers", "use range(1, 10)")
    rng = range(*args)
    if len(rng) > budget.limits.max_range:
        raise _LimitExceeded(
            "range-too-large",
            f"range() would produce {len(rng):,} numbers (at most {budget.limits.max_range:,})",
            "loop over the data you have instead of a large range",
        )
    return rng


def _loop_guard(iterable: Any) -> Iterator[Any]:
    _refuse_callable_input(iterable)
    budget = _budget()
    cap = budget.limits.max_loop_iterations
    for item in iterable:
        budget.iterations += 1
        if budget.iterations > cap:
            raise _LimitExceeded(
                "too-many-iterations",
                f"loops ran more than {cap:,} iterations in one render",
                "nested loops multiply; loop over smaller lists",
            )
        budget.tick()
        yield item


@jinja2.pass_eval_context
def _concat_guard(eval_ctx: jinja2.nodes.EvalContext, parts: list[Any]) -> str:
    budget = _budget()
    budget.tick()
    for part in parts:
        if isinstance(part, list | tuple | dict):
            _measure(part, budget)
        _require_plain(part)
    if eval_ctx.autoescape:
        pieces: list[str] = [escape(p) for p in parts]
    else:
        pieces = [str(p) for p in parts]
    budget.check_size(sum(map(len, pieces)), "joined text")
    return Markup("").join(pieces) if eval_ctx.autoescape else "".join(pieces)


class _NotPlain(Exception):
    """A template printed something that is not a value (a function, a method, an object)."""


_PRINTABLE = (
    str,
    int,
    float,
    bool,
    type(None),
    date,
    datetime,
    Decimal,
    list,
    tuple,
    dict,
    jinja2.Undefined,
)


_PLAIN_SCALARS = frozenset({str, Markup, int, float, bool, type(None), date, datetime, Decimal})


def _describe(value: Any) -> str:
    if isinstance(value, type):
        return "a type"
    if callable(value):
        return "a method" if hasattr(value, "__self__") else "a function"
    return "an object"


def _require_plain(value: Any) -> Any:
    """Refuse `value` unless it is plain data, all the way down: never print a repr of code."""
    if type(value) in _PLAIN_SCALARS or isinstance(value, jinja2.Undefined):
        return value
    stack = [value]
    while stack:
        item = stack.pop()
        if not isinstance(item, _PRINTABLE):
            raise _NotPlain(f"the template prints {_describe(item)}, not a value")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return value


def _refuse_callable_input(value: Any) -> None:
    if callable(value) and not isinstance(value, jinja2.Undefined):
        raise _NotPlain(f"the template passes {_describe(value)} to a filter, not a value")


def _plain_input(f: Any) -> Any:
    """Wrap a filter so that a function or method never reaches it (its repr would print)."""
    skip = 1 if getattr(f, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(f)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if len(args) > skip:
            _refuse_callable_input(args[skip])
        return f(*args, **kwargs)

    return guarded


@jinja2.pass_context
def _finalize(context: jinja2.runtime.Context, value: Any) -> Any:
    budget = _budget()
    budget.tick()
    if isinstance(value, list | tuple | dict | set | frozenset):
        _measure(value, budget)
    _require_plain(value)
    return value


def _join(value: Iterable[Any], separator: str, attribute: str | None, html: bool) -> str:
    budget = _budget()
    parts: list[str] = []
    total = 0
    for item in value:
        if attribute is not None:
            item = item.get(attribute) if isinstance(item, Mapping) else None
        _require_plain(item)
        text = _printed(item, budget) if isinstance(item, list | tuple | dict) else str(item)
        if html:
            text = escape(item) if not isinstance(item, list | tuple | dict) else escape(text)
        total += len(text) + len(separator)
        budget.check_size(total, "joined text")
        parts.append(text)
    return Markup(separator).join(parts) if html else separator.join(parts)


@jinja2.pass_eval_context
def _join_filter(
    eval_ctx: jinja2.nodes.EvalContext,
    value: Iterable[Any],
    d: str = "",
    attribute: str | None = None,
) -> str:
    if eval_ctx.autoescape:
        return _join(value, escape(d), attribute, html=True)
    return _join(value, d, attribute, html=False)


def _printed(value: Any, budget: _Budget) -> str:
    _measure(value, budget)
    return str(value)


def _replace(value: Any, old: str, new: str, count: int | None = None) -> str:
    text = str(value)
    occurrences = text.count(old) if old else len(text) + 1
    if count is not None:
        occurrences = min(occurrences, max(count, 0))
    _budget().check_size(len(text) + occurrences * max(len(new) - len(old), 0), "replaced text")
    result = text.replace(old, new, -1 if count is None else count)
    return Markup(result) if isinstance(value, Markup) else result


def _sum_numbers(value: Iterable[Any], attribute: str | None = None, start: float = 0) -> Any:
    total: Any = start
    for item in _loop_guard(value):
        if attribute is not None:
            item = item.get(attribute) if isinstance(item, Mapping) else None
        if not isinstance(item, int | float | Decimal) or isinstance(item, bool):
            raise _LimitExceeded("bad-sum", "sum only adds numbers", "sum a list of numbers")
        total += item
    return total


def _string(value: Any) -> str:
    if isinstance(value, list | tuple | dict):
        _measure(value, _budget())
    _require_plain(value)
    return _printed(value, _budget()) if isinstance(value, list | tuple | dict) else str(value)


def _tojson(value: Any) -> Markup:
    _measure(value, _budget())
    return htmlsafe_json_dumps(value, sort_keys=True)


def _url_filter(value: Any) -> str:
    return safe_url("" if isinstance(value, jinja2.Undefined) else value)


@jinja2.pass_eval_context
def _url_attribute(eval_ctx: jinja2.nodes.EvalContext, value: Any) -> str:
    """Scheme-check a whole rendered ``href``/``src`` value (see `layouts.guard_url_attributes`)."""
    text = Markup(value).unescape() if eval_ctx.autoescape else str(value)
    checked = safe_url(text)
    return escape(checked) if eval_ctx.autoescape else checked


_SAFE_FILTERS: Final = (
    "abs",
    "attr",
    "batch",
    "capitalize",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "filesizeformat",
    "first",
    "float",
    "forceescape",
    "groupby",
    "int",
    "items",
    "last",
    "length",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "reject",
    "rejectattr",
    "reverse",
    "round",
    "select",
    "selectattr",
    "sort",
    "striptags",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
    "urlencode",
    "wordcount",
)

_STR_METHODS: Final = frozenset(
    {
        "capitalize",
        "casefold",
        "count",
        "endswith",
        "find",
        "index",
        "isalnum",
        "isalpha",
        "isdigit",
        "islower",
        "isnumeric",
        "isspace",
        "isupper",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "rfind",
        "rindex",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
        "striptags",
        "unescape",
    }
)
_CONTAINER_METHODS: Final = frozenset({"get", "items", "keys", "values", "index", "count"})


class _Guards(NodeTransformer):
    """Route every loop through `_loop_guard` and every ``~`` through `_concat_guard`."""

    def visit_For(self, node: nodes.For) -> nodes.For:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, "loop_guard", [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Filter:
        self.generic_visit(node)
        return nodes.Filter(
            nodes.List(node.nodes, lineno=node.lineno),
            "concat_guard",
            [],
            [],
            None,
            None,
            lineno=node.lineno,
        )


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox with compile-time folding disabled and every costly operation bounded."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    concat = staticmethod(_bounded_concat)

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(
            autoescape=autoescape,
            optimized=False,
            finalize=_finalize,
            undefined=LenientUndefined,
            loader=None,
            auto_reload=False,
            cache_size=0,
            keep_trailing_newline=True,
        )
        self.filters = {name: _plain_input(JINJA_FILTERS[name]) for name in _SAFE_FILTERS}
        self.filters.update(
            {
                "join": _plain_input(_join_filter),
                "replace": _plain_input(_replace),
                "string": _string,
                "sum": _plain_input(_sum_numbers),
                "tojson": _plain_input(_tojson),
                "money": _plain_input(format_money),
                "date": _plain_input(format_date),
                "percent": _plain_input(format_percent),
                "url": _plain_input(_url_filter),
                "loop_guard": _loop_guard,
                "concat_guard": _concat_guard,
                "url_attribute": _url_attribute,
            }
        )
        self.globals = {"range": _bounded_range, "dict": dict}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree: nodes.Template = _Guards().visit(super()._parse(source, name, filename))
        tree.set_environment(self)
        return tree

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str):
            return attr in _STR_METHODS
        if isinstance(obj, dict | list | tuple) and callable(value):
            return attr in _CONTAINER_METHODS
        return super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value: Any) -> None:
        """``str.format`` can pad to any width before a bound could be checked: not offered."""
        return None

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _budget().tick()
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = _budget()
        budget.tick()
        limits = budget.limits
        if operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and abs(left) > 1 and abs(left).bit_length() * right > limits.max_int_bits:
                raise _LimitExceeded(
                    "number-too-large", f"{left} ** {right} is too large", "use smaller numbers"
                )
        elif operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int):
                    budget.check_size(len(seq) * max(times, 0), "repeated text")
            if isinstance(left, int) and isinstance(right, int):
                if left.bit_length() + right.bit_length() > limits.max_int_bits:
                    raise _LimitExceeded(
                        "number-too-large", "the product is too large", "use smaller numbers"
                    )
        elif operator == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
                budget.check_size(len(left) + len(right), "joined text")
        elif operator == "%" and isinstance(left, str):
            raise _LimitExceeded(
                "no-string-formatting",
                "'%' string formatting is not available",
                "use the money, percent and date filters or ~ to join text",
            )
        return super().call_binop(context, operator, left, right)


@lru_cache(maxsize=2)
def environment(html: bool) -> BoundedEnvironment:
    """The shared environment: HTML (autoescaped) or plain text."""
    return BoundedEnvironment(autoescape=html)


# --- compile and render ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled, checked template; render it with `render_template`."""

    name: str
    source: str
    html: bool
    jinja: jinja2.Template = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered template and the warnings (missing values) noticed while rendering."""

    text: str
    warnings: tuple[Diagnostic, ...] = ()


_FILENAME_PREFIX = "<template:"


def _filename(name: str) -> str:
    return f"{_FILENAME_PREFIX}{name}>"


def compile_template(
    source: str,
    *,
    name: str = "template",
    html: bool = True,
    names: Iterable[str] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> Template:
    """Compile `source`, or raise `ContentError` with the line of the first problem.

    Besides syntax, every variable the template reads must be part of the vocabulary
    (`VOCABULARY`, `HELPERS`, the environment's globals, or extra `names`), so a typo such
    as ``custmer`` is caught when the template is saved, not when a customer sees it.
    """
    if len(source) > limits.max_source_chars:
        raise ContentError.single(
            "template-too-large",
            f"the template has {len(source):,} characters (at most {limits.max_source_chars:,})",
            field=name,
        )
    return _compile_cached(source, name, html, frozenset(names))


@lru_cache(maxsize=2048)
def _compile_cached(source: str, name: str, html: bool, names: frozenset[str]) -> Template:
    env = environment(html)
    filename = _filename(name)
    try:
        tree = env.parse(source, name, filename)
        _check_structure(tree, name)
        _check_names(tree, env, names, name)
        code = env.compile(tree, name, filename)
        jinja_template = env.template_class.from_code(env, code, env.make_globals(None))
    except jinja2.TemplateSyntaxError as exc:
        raise ContentError([_syntax_diagnostic(exc, name)]) from None
    except (RecursionError, MemoryError):
        raise ContentError.single(
            "template-too-complex",
            "the template is nested too deeply to compile",
            field=name,
            hint="split long expressions into smaller {% set %} steps",
        ) from None
    return Template(name=name, source=source, html=html, jinja=jinja_template)


_FILTER_MESSAGE = re.compile(r"No filter named '([^']+)'")


def _syntax_diagnostic(exc: jinja2.TemplateSyntaxError, name: str) -> Diagnostic:
    message = exc.message or "syntax error"
    hint = None
    unknown_filter = _FILTER_MESSAGE.search(message)
    if unknown_filter:
        close = difflib.get_close_matches(unknown_filter.group(1), environment(True).filters, 1)
        hint = f"did you mean '{close[0]}'?" if close else "filters: money, date, percent, url, ..."
        message = f"unknown filter '{unknown_filter.group(1)}'"
    return Diagnostic("template-syntax", message, field=name, line=exc.lineno, hint=hint)


_NOT_OFFERED: Final = {
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "import",
    nodes.Extends: "extends",
}


# Jinja looks attributes up before keys, so on a dict these always name the method.
_DICT_METHODS: Final = frozenset({"get", "items", "keys", "values"})
_NOT_PLAIN_HINT: Final = (
    "print a field such as customer.first_name, or call a helper: message_center_url()"
)


def _printed_callables(tree: nodes.Template, name: str) -> list[Diagnostic]:
    """Output expressions that name a helper or a container method without calling it."""
    callables = set(HELPERS) | {"range", "dict"}
    out = []
    for output in tree.find_all(nodes.Output):
        for node in output.nodes:
            target = node.node if isinstance(node, nodes.Filter) and node.node is not None else node
            if isinstance(target, nodes.Name) and target.name in callables:
                what = f"'{target.name}' is a helper"
            elif isinstance(target, nodes.Getattr) and target.attr in _DICT_METHODS:
                what = f"'.{target.attr}' is a method"
            else:
                continue
            out.append(
                Diagnostic(
                    "template-not-plain",
                    f"{what}: printing it would show code, not a value",
                    field=name,
                    line=target.lineno,
                    hint=_NOT_PLAIN_HINT,
                )
            )
    return out


def _check_structure(tree: nodes.Template, name: str) -> None:
    """Templates are self-contained: one offer or layout, no include, import or extends."""
    diagnostics = _printed_callables(tree, name) + [
        Diagnostic(
            "template-unsupported",
            f"'{{% {keyword} %}}' is not available in content",
            field=name,
            line=node.lineno,
            hint="use the layout's slots or a macro defined in the same template",
        )
        for node_type, keyword in _NOT_OFFERED.items()
        for node in tree.find_all(node_type)
    ]
    if diagnostics:
        raise ContentError(sorted(diagnostics, key=lambda d: d.line or 0))


def _check_names(
    tree: nodes.Template, env: BoundedEnvironment, extra: frozenset[str], name: str
) -> None:
    from jinja2 import meta

    known = set(VOCABULARY) | set(HELPERS) | set(env.globals) | extra
    unknown = meta.find_undeclared_variables(tree) - known
    if not unknown:
        return
    diagnostics = []
    first_line: dict[str, int] = {}
    for node in tree.find_all(nodes.Name):
        if node.name in unknown and node.ctx == "load":
            first_line.setdefault(node.name, node.lineno)
    for variable in sorted(unknown, key=lambda v: (first_line.get(v, 0), v)):
        close = difflib.get_close_matches(variable, sorted(known), 1)
        diagnostics.append(
            Diagnostic(
                "unknown-variable",
                f"'{variable}' is not something a template can use",
                field=name,
                line=first_line.get(variable),
                hint=f"did you mean '{close[0]}'?"
                if close
                else f"use {', '.join(VOCABULARY)} or {', '.join(HELPERS)}",
            )
        )
    raise ContentError(diagnostics)


def render_template(
    template: Template,
    variables: Mapping[str, Any],
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> Rendered:
    """Render within `limits`, or raise `ContentError` naming the template line that failed.

    The output is streamed and measured chunk by chunk, so an oversized result is refused
    before it is joined; a missing value renders empty and is reported as a warning.
    """
    budget = _Budget(limits)
    token = _BUDGET.set(budget)
    try:
        chunks: list[str] = []
        size = 0
        for chunk in template.jinja.generate(variables):
            size += len(chunk)
            budget.check_size(size)
            budget.tick()
            chunks.append(chunk)
        text = "".join(chunks)
    except _LimitExceeded as exc:
        raise ContentError([_runtime_diagnostic(exc, template, exc.code, exc.hint)]) from None
    except _NotPlain as exc:
        raise ContentError(
            [_runtime_diagnostic(exc, template, "template-not-plain", _NOT_PLAIN_HINT)]
        ) from None
    except SecurityError as exc:
        raise ContentError(
            [
                _runtime_diagnostic(
                    exc, template, "template-unsafe", "templates can read data but not call into it"
                )
            ]
        ) from None
    except jinja2.UndefinedError as exc:
        raise ContentError(
            [
                _runtime_diagnostic(
                    exc, template, "undefined-value", "check the names against the sample data"
                )
            ]
        ) from None
    except jinja2.TemplateError as exc:
        raise ContentError([_runtime_diagnostic(exc, template, "template-error", None)]) from None
    except RecursionError:
        raise ContentError(
            [
                _runtime_diagnostic(
                    RecursionError("macros call each other too deeply"),
                    template,
                    "render-too-deep",
                    "look for a macro that calls itself",
                )
            ]
        ) from None
    except (ArithmeticError, TypeError, ValueError, LookupError, MemoryError) as exc:
        raise ContentError([_runtime_diagnostic(exc, template, "render-error", None)]) from None
    finally:
        _BUDGET.reset(token)
    warnings = tuple(
        Diagnostic(
            "missing-value",
            f"'{missing}' had no value and rendered empty",
            field=template.name,
            hint="the sample data does not have it",
            severity="warning",
        )
        for missing in dict.fromkeys(budget.missing)
    )
    return Rendered(text, warnings)


def _runtime_diagnostic(
    exc: BaseException, template: Template, code: str, hint: str | None
) -> Diagnostic:
    return Diagnostic(
        code,
        str(exc) or type(exc).__name__,
        field=template.name,
        line=_template_line(exc, template),
        hint=hint,
    )


def _template_line(exc: BaseException, template: Template) -> int | None:
    """The template line of the innermost frame Jinja attributed to this template.

    Jinja rewrites tracebacks so that frames carry the template's file name and line.
    """
    filename = _filename(template.name)
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def helper_names() -> tuple[str, ...]:
    """Every name a template may read: the vocabulary, the helpers and the globals."""
    return (*VOCABULARY, *HELPERS, *environment(True).globals)
