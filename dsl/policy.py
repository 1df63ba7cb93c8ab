"""The workspace contact policy: one decision per interaction, whatever the rulesets propose.

Every ruleset proposes candidates on its own (its guards, limits, `at most` and
arbitration are its own). The contact policy, one per workspace and owned by service
leads, then disposes:

```
# Contact policy for the whole workspace. Owned by the service leads.
never offer when tone is distressed
never offer anything again after complaint within 180 days
never offer refill_generic again after declined within 30 days
limit refill_generic to 1 per customer per 7 days
limit offers by sms to 2 per customer per 30 days
limit advisor_consultation to 200 per day
at most 1 offer per response
at most 1 offer per response by sms
rank by priority * value
when nothing qualifies offer check_in by chat
when nothing qualifies offer nothing
```

A statement starts at the beginning of a line; a line that starts with a space or a tab
continues the statement above it (a long guard condition). `#` starts a comment.
Conditions are the rule language's expressions, checked by the same checker.

`compile_policy` checks and compiles the source to a JSON IR (kind ``pos-policy``) that
bundles carry; `load_policy` validates an IR and returns a `Policy` whose `apply` runs
the semantics pinned down in docs/rules.md ("The contact policy"). Pure: no Flask, no
database, no clock (the caller passes the moment and the customer's history).
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from operator import attrgetter, itemgetter
from typing import Any, Final, NamedTuple

from dsl.codegen import Predicate, generate_predicate
from dsl.diagnostics import Diagnostic, DSLError, Span, make, quote
from dsl.ir import validate_expression_ir
from dsl.schema import Schema, default_schema
from dsl.suggest import did_you_mean

POLICY_KIND: Final = "pos-policy"
POLICY_VERSION: Final = 1
#: Outcome events a suppression can name (`nps` answers no offer).
OUTCOMES: Final = ("declined", "complaint", "accepted", "clicked", "shown")
UNIT_SECONDS: Final = {
    "hour": 3600,
    "hours": 3600,
    "day": 86400,
    "days": 86400,
    "week": 604800,
    "weeks": 604800,
}
#: The longest window a cap or suppression may look back (ten years).
MAX_WINDOW_SECONDS: Final = 3650 * 86400
MAX_COUNT: Final = 1_000_000
#: The largest per-customer limit: a history read returns at most this many entries.
MAX_CUSTOMER_COUNT: Final = 10_000
MAX_SOURCE: Final = 200_000
MAX_STATEMENTS: Final = 500
#: The most (offer, channel) pairs a loaded policy remembers the covering caps of.
_INDEX_MOST: Final = 4096
#: Words that stand for every offer.
EVERY_OFFER: Final = ("offers", "anything")
RANK_NAMES: Final = ("priority", "value")

_KEY = r"[A-Za-z_][A-Za-z0-9_-]*"
_PATTERNS: Final = {
    "guard": re.compile(r"never offer when (?P<cond>.+)", re.S),
    "suppression": re.compile(
        rf"never offer (?P<offer>{_KEY}) again after (?:it was |an? )?(?P<outcome>\S+)"
        r" within (?P<amount>\S+) (?P<unit>\S+)"
    ),
    "at_most": re.compile(
        r"at most (?P<count>\S+) (?:offer|offers) per response(?: by (?P<channel>\S+))?"
    ),
    "customer_cap": re.compile(
        rf"limit (?P<offer>{_KEY})(?: by (?P<channel>\S+))? to (?P<count>\S+) per customer"
        r" per (?:(?P<amount>\S+) )?(?P<unit>\S+)"
    ),
    "daily_cap": re.compile(rf"limit (?P<offer>{_KEY}) to (?P<count>\S+) per day"),
    "rank": re.compile(r"rank by (?P<expr>.+)"),
    "fallback": re.compile(
        rf"when nothing qualifies offer (?P<offer>{_KEY})(?: by (?P<channel>\S+))?"
    ),
}
_STARTS: Final = ("never", "limit", "at", "rank", "when")
DEFAULT_RANK: Final = "priority, then value, then key"


@dataclass(frozen=True)
class PolicyResult:
    """`compile_policy`'s answer: diagnostics and, without errors, the IR."""

    diagnostics: tuple[Diagnostic, ...]
    ir: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        return self.ir is not None

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)


@dataclass
class _Statement:
    line: int
    column: int
    raw: str
    end_line: int

    @property
    def text(self) -> str:
        return " ".join(self.raw.split())

    @property
    def span(self) -> Span:
        last = self.raw.rstrip().splitlines()[-1] if self.raw.strip() else ""
        end_col = len(last) + 1 if self.end_line != self.line else self.column + len(last.strip())
        return Span(self.line, self.column, self.end_line, max(end_col, self.column + 1))


def _strip_comment(line: str) -> str:
    quote_char = None
    for index, char in enumerate(line):
        if quote_char:
            if char == quote_char:
                quote_char = None
        elif char in "\"'":
            quote_char = char
        elif char == "#":
            return line[:index]
    return line


def _statements(source: str) -> list[_Statement]:
    out: list[_Statement] = []
    for number, raw_line in enumerate(source.splitlines(), start=1):
        line = _strip_comment(raw_line)
        if not line.strip():
            continue
        if line[:1] in (" ", "\t") and out:
            out[-1].raw += "\n" + line
            out[-1].end_line = number
            continue
        column = len(line) - len(line.lstrip()) + 1
        out.append(_Statement(number, column, line.strip(), number))
    return out


class _Checker:
    def __init__(self, schema: Schema, offers: Mapping[str, str | None] | None) -> None:
        self.schema = schema
        self.offers = offers
        spec = schema.lookup("inquiry.channel")
        self.channels: tuple[str, ...] = (
            spec.values if spec is not None and spec.type == "enum" else ()
        )
        self.diagnostics: list[Diagnostic] = []

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.append(make(code, message, span, hint))

    def offer(self, key: str, span: Span, *, every_allowed: bool = True) -> str | None:
        """The offer key, None for every offer; reports unknown offers."""
        if key in EVERY_OFFER and every_allowed:
            return None
        if self.offers is not None and key not in self.offers:
            self.error(
                "E203",
                f"there is no offer {quote(key)}",
                span,
                did_you_mean(key, list(self.offers)),
            )
        return key

    def channel(self, name: str | None, span: Span) -> str | None:
        if name is None:
            return None
        if self.channels and name not in self.channels:
            self.error(
                "E222",
                f"{quote(name)} is not a channel: channels are {', '.join(self.channels)}",
                span,
                did_you_mean(name, self.channels),
            )
        return name

    def count(self, text: str, span: Span, what: str, most: int = MAX_COUNT) -> int | None:
        if not re.fullmatch(r"[0-9]+", text) or int(text) > most:
            self.error(
                "E208", f"{what} must be a whole number from 0 to {most:,}, not {quote(text)}", span
            )
            return None
        return int(text)

    def window(self, amount: str | None, unit: str, span: Span) -> int | None:
        seconds_per = UNIT_SECONDS.get(unit)
        if seconds_per is None:
            self.error(
                "E221", f"{quote(unit)} is not a unit of time", span, "write hours, days or weeks"
            )
            return None
        if amount is None:
            if unit not in ("hour", "day", "week"):
                self.error("E221", f"how many {unit}? write `per 7 {unit}`", span)
                return None
            return seconds_per
        if not re.fullmatch(r"[0-9]+", amount) or int(amount) == 0:
            self.error(
                "E221",
                f"a window of {quote(amount)} {unit} is impossible: it must be a whole number "
                "of at least 1",
                span,
            )
            return None
        seconds = int(amount) * seconds_per
        if seconds > MAX_WINDOW_SECONDS:
            self.error(
                "E221",
                f"a window of {amount} {unit} is longer than ten years, which no history keeps",
                span,
                "keep windows to 3650 days or less",
            )
            return None
        return seconds


def compile_policy(
    source: str,
    *,
    schema: Schema | None = None,
    offers: Mapping[str, Any] | Iterable[str] | None = None,
) -> PolicyResult:
    """Check a contact policy's source and compile it; never raises on any input."""
    from dsl import check_expression

    if not isinstance(source, str):
        raise TypeError("source must be a str")
    schema = schema or default_schema()
    statuses: Mapping[str, str | None] | None
    if offers is None:
        statuses = None
    elif isinstance(offers, Mapping):
        statuses = {str(k): getattr(v, "status", None) for k, v in offers.items()}
    else:
        statuses = {str(k): None for k in offers}
    checker = _Checker(schema, statuses)
    if len(source) > MAX_SOURCE:
        return PolicyResult((make("E103", f"the policy is over {MAX_SOURCE:,} characters"),), None)
    statements = _statements(source)
    if len(statements) > MAX_STATEMENTS:
        return PolicyResult(
            (make("E103", f"the policy has over {MAX_STATEMENTS} statements"),), None
        )
    ir: dict[str, Any] = {
        "ir": POLICY_KIND,
        "version": POLICY_VERSION,
        "schema": schema.to_dict(),
        "guards": [],
        "suppressions": [],
        "caps": [],
        "at_most": [],
        "rank": None,
        "fallbacks": [],
    }
    seen_at_most: dict[str | None, int] = {}
    seen_fallback: dict[str | None, int] = {}
    rank_line = 0
    for stmt in statements:
        span, text = stmt.span, stmt.text
        base = {"line": stmt.line, "text": text[:1000]}
        kind, match = _classify(text)
        if match is None:
            first = text.split(" ", 1)[0]
            checker.error(
                "E220",
                f"{quote(text[:40])} is not a policy statement",
                span,
                None
                if first in _STARTS
                else "statements start with never, limit, at most, rank or when nothing qualifies",
            )
            continue
        if kind == "guard":
            raw = stmt.raw
            offset = raw.index("when") + len("when")
            condition = raw[offset:]
            result = check_expression(condition, schema=schema)
            for diag in result.diagnostics:
                checker.diagnostics.append(_shift(diag, stmt, raw[:offset]))
            if result.ok:
                ir["guards"].append({**base, "when": result.ir})
        elif kind == "suppression":
            outcome = match["outcome"]
            seconds = checker.window(match["amount"], match["unit"], span)
            if outcome not in OUTCOMES:
                checker.error(
                    "E223",
                    f"{quote(outcome)} is not an outcome: outcomes are {', '.join(OUTCOMES)}",
                    span,
                    did_you_mean(outcome, OUTCOMES),
                )
            offer = checker.offer(match["offer"], span)
            if seconds is not None and outcome in OUTCOMES:
                ir["suppressions"].append(
                    {**base, "offer": offer, "outcome": outcome, "seconds": seconds}
                )
        elif kind in ("customer_cap", "daily_cap"):
            offer = checker.offer(match["offer"], span, every_allowed=kind == "customer_cap")
            channel = checker.channel(match.groupdict().get("channel"), span)
            count = checker.count(
                match["count"],
                span,
                "a limit",
                MAX_CUSTOMER_COUNT if kind == "customer_cap" else MAX_COUNT,
            )
            seconds = (
                checker.window(match["amount"], match["unit"], span)
                if kind == "customer_cap"
                else 86400
            )
            if count is not None and seconds is not None:
                if count == 0:
                    what = "any offer" if offer is None else f"`{offer}`"
                    checker.diagnostics.append(
                        make(
                            "W405",
                            f"this limit never allows {what}"
                            + (f" by {channel}" if channel else ""),
                            span,
                            "a limit of 0 is a guard; write `never offer when ...` "
                            "or remove the offer from the rules",
                        )
                    )
                ir["caps"].append(
                    {
                        **base,
                        "scope": "customer" if kind == "customer_cap" else "day",
                        "offer": offer,
                        "channel": channel,
                        "count": count,
                        "seconds": seconds,
                    }
                )
        elif kind == "at_most":
            channel = checker.channel(match["channel"], span)
            count = checker.count(match["count"], span, "`at most`")
            if channel in seen_at_most:
                checker.error(
                    "E207",
                    f"`at most` is already set{' for ' + channel if channel else ''} "
                    f"on line {seen_at_most[channel]}",
                    span,
                )
            elif count is not None:
                seen_at_most[channel] = stmt.line
                if count == 0:
                    checker.diagnostics.append(
                        make(
                            "W405",
                            "`at most 0` never allows an offer"
                            + (f" by {channel}" if channel else ""),
                            span,
                        )
                    )
                ir["at_most"].append({**base, "channel": channel, "count": count})
        elif kind == "rank":
            if rank_line:
                checker.error("E207", f"`rank by` is already set on line {rank_line}", span)
                continue
            rank_line = stmt.line
            expr_text = match["expr"].strip()
            if expr_text != DEFAULT_RANK:
                tree, problem = parse_rank(expr_text)
                if problem is not None:
                    checker.error(
                        "E224",
                        problem,
                        span,
                        "write an expression of priority, value and numbers "
                        "such as `priority * value`, or `priority, then value, then key`",
                    )
                    continue
                ir["rank"] = {**base, "expr": tree}
        elif kind == "fallback":
            channel = checker.channel(match["channel"], span)
            key = match["offer"]
            offer = None if key == "nothing" else checker.offer(key, span, every_allowed=False)
            if channel in seen_fallback:
                checker.error(
                    "E207",
                    f"a fallback is already set{' for ' + channel if channel else ''} "
                    f"on line {seen_fallback[channel]}",
                    span,
                )
            else:
                seen_fallback[channel] = stmt.line
                ir["fallbacks"].append({**base, "channel": channel, "offer": offer})
    _check_fallbacks(checker, ir)
    diagnostics = tuple(checker.diagnostics)
    if any(d.is_error for d in diagnostics):
        return PolicyResult(diagnostics, None)
    return PolicyResult(diagnostics, ir)


def _check_fallbacks(checker: _Checker, ir: dict[str, Any]) -> None:
    """W405 for a fallback offer that a limit of 0 always removes."""
    for fallback in ir["fallbacks"]:
        key = fallback["offer"]
        if key is None:
            continue
        for cap in ir["caps"]:
            if (
                cap["count"] == 0
                and cap["offer"] in (None, key)
                and cap["channel"] in (None, fallback["channel"])
            ):
                checker.diagnostics.append(
                    make(
                        "W405",
                        f"the fallback `{key}` is never made: the limit on line {cap['line']} allows none",
                        Span(fallback["line"], 1, fallback["line"], 2),
                    )
                )
                break


def _classify(text: str) -> tuple[str, re.Match[str] | None]:
    for kind, pattern in _PATTERNS.items():
        match = pattern.fullmatch(text)
        if match is not None:
            return kind, match
    return "", None


def _shift(diag: Diagnostic, stmt: _Statement, prefix: str) -> Diagnostic:
    """A diagnostic of the condition, moved to where the condition sits in the policy."""
    if diag.line == 0:
        return diag
    line = stmt.line + diag.line - 1
    shift = stmt.column - 1 + len(prefix) if diag.line == 1 else 0
    end_shift = stmt.column - 1 + len(prefix) if diag.end_line == 1 else 0
    return Diagnostic(
        diag.code,
        diag.severity,
        diag.message,
        line,
        diag.column + shift,
        stmt.line + diag.end_line - 1,
        diag.end_column + end_shift,
        diag.hint,
    )


# Ranking expressions ----------------------------------------------------------------

_RANK_TOKEN = re.compile(
    r"\s*(?:(?P<num>[0-9]+(?:\.[0-9]+)?)|(?P<name>[A-Za-z_]+)|(?P<op>[-+*/()]))"
)


def parse_rank(text: str) -> tuple[Any, str | None]:
    """`priority * value` as a small tree (lists), or a reason it is not one."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _RANK_TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            return None, f"{quote(text[pos : pos + 10])} cannot be read in a ranking"
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
        if len(tokens) > 200:
            return None, "the ranking is too long"
    index = 0

    def peek() -> tuple[str, str] | None:
        return tokens[index] if index < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal index
        index += 1
        return tokens[index - 1]

    def atom(depth: int) -> Any:
        if depth > 20:
            raise ValueError("the ranking is nested too deeply")
        token = peek()
        if token is None:
            raise ValueError("the ranking ends too early")
        kind, value = take()
        if kind == "num":
            return ["num", float(value)]
        if kind == "name":
            if value not in RANK_NAMES:
                hint = did_you_mean(value, RANK_NAMES)
                raise ValueError(
                    f"{quote(value)} is not something a ranking can read: use "
                    f"{' or '.join(RANK_NAMES)}" + (f" ({hint})" if hint else "")
                )
            return ["name", value]
        if value == "(":
            inner = sum_(depth + 1)
            if peek() != ("op", ")"):
                raise ValueError("a `(` is not closed")
            take()
            return inner
        if value == "-":
            return ["-", ["num", 0.0], atom(depth + 1)]
        raise ValueError(f"{quote(value)} is not expected here")

    def product(depth: int) -> Any:
        left = atom(depth)
        while peek() in (("op", "*"), ("op", "/")):
            op = take()[1]
            left = [op, left, atom(depth)]
        return left

    def sum_(depth: int) -> Any:
        left = product(depth)
        while peek() in (("op", "+"), ("op", "-")):
            op = take()[1]
            left = [op, left, product(depth)]
        return left

    try:
        tree = sum_(0)
    except ValueError as exc:
        return None, str(exc)
    if index != len(tokens):
        return None, f"{quote(tokens[index][1])} is not expected here"
    return tree, None


def rank_value(tree: Any, priority: float, value: float) -> float:
    """The ranking expression's value for one candidate (division by zero is 0)."""
    head = tree[0]
    if head == "num":
        return float(tree[1])
    if head == "name":
        return float(priority if tree[1] == "priority" else value)
    a, b = rank_value(tree[1], priority, value), rank_value(tree[2], priority, value)
    if head == "+":
        return a + b
    if head == "-":
        return a - b
    if head == "*":
        return a * b
    return a / b if b else 0.0


def _valid_rank(tree: Any, depth: int = 0) -> bool:
    if depth > 40 or not isinstance(tree, list) or not tree:
        return False
    if tree[0] == "num":
        return len(tree) == 2 and type(tree[1]) in (int, float)
    if tree[0] == "name":
        return len(tree) == 2 and tree[1] in RANK_NAMES
    return (
        len(tree) == 3
        and tree[0] in ("+", "-", "*", "/")
        and _valid_rank(tree[1], depth + 1)
        and _valid_rank(tree[2], depth + 1)
    )


# Applying a policy --------------------------------------------------------------------


class Contact(NamedTuple):
    """An offer made to a customer: which, in which channel, when (Unix seconds).

    A named tuple, not a dataclass: a history read builds thousands of them per second,
    and a tuple is built several times faster."""

    offer: str
    channel: str | None
    at: float


class Outcome(NamedTuple):
    """How a customer answered an offer (`declined`, `complaint`, ...), and when."""

    offer: str | None
    kind: str
    at: float


#: The sort key of contacts and outcomes, and the fields a count compares, in C.
_at: Final = attrgetter("at")
_offer_of: Final = itemgetter(0)
_channel_of: Final = itemgetter(1)


class History:
    """What the policy reads of one customer: contacts and outcomes in the longest window,
    and how many times each capped offer was made today to anyone (`day_totals`).

    Contacts are kept as three columns sorted by time, oldest first (`ats`, `offers`,
    `channels`), whatever order a store gives them in: a cap counts its window from one
    bisection and one `list.count` in C (`count`), touching a few contiguous arrays
    rather than an object per contact, and a store that answers out of order can never
    make a cap undercount. A store that keeps columns itself hands them over with
    `from_columns`. Read-only by convention: one is built per decision.
    """

    __slots__ = (
        "ats",
        "offers",
        "channels",
        "outcomes",
        "day_totals",
        "complete",
        "contacts_cut",
        "outcomes_cut",
    )

    ats: Sequence[float]
    offers: Sequence[str]
    channels: Sequence[str | None]
    outcomes: tuple[Outcome, ...]
    day_totals: Mapping[str, int]
    #: False when the history could not be read (no customer id, the store down): then
    #: every offer a cap or suppression covers is removed rather than risk exceeding it.
    complete: bool
    #: True when the store returned only the most recent entries of that kind (a read
    #: stops at `bundle.history.MAX_READ`): a limit or suppression the entries read do
    #: not settle is then refused, since what was not read might reach it.
    contacts_cut: bool
    outcomes_cut: bool

    def __init__(
        self,
        contacts: Iterable[Contact] = (),
        outcomes: Iterable[Outcome] = (),
        day_totals: Mapping[str, int] | None = None,
        complete: bool = True,
        contacts_cut: bool = False,
        outcomes_cut: bool = False,
    ) -> None:
        # Sorting input that is already in order (or in reverse) is one pass in C.
        items = sorted(contacts, key=_at)
        self.ats = array("d", map(_at, items))
        self.offers = list(map(_offer_of, items))
        self.channels = list(map(_channel_of, items))
        self.outcomes = tuple(sorted(outcomes, key=_at))
        self.day_totals = {} if day_totals is None else day_totals
        self.complete = complete
        self.contacts_cut = contacts_cut
        self.outcomes_cut = outcomes_cut

    @classmethod
    def from_columns(
        cls,
        ats: Sequence[float],
        offers: Sequence[str],
        channels: Sequence[str | None],
        outcomes: tuple[Outcome, ...],
        day_totals: Mapping[str, int],
        *,
        contacts_cut: bool = False,
        outcomes_cut: bool = False,
    ) -> History:
        """A history from columns already sorted by time (and outcomes sorted too), of
        equal length: the store vouches for both."""
        history = cls.__new__(cls)
        history.ats = ats
        history.offers = offers
        history.channels = channels
        history.outcomes = outcomes
        history.day_totals = day_totals
        history.complete = True
        history.contacts_cut = contacts_cut
        history.outcomes_cut = outcomes_cut
        return history

    @property
    def contacts(self) -> tuple[Contact, ...]:
        """The contacts as named tuples, oldest first."""
        return tuple(map(Contact, self.offers, self.channels, self.ats))

    def count(self, cap: Cap, moment: float) -> int:
        """Contacts a per-customer cap counts at `moment`.

        An entry dated after `moment` (a skewed clock) counts as made at `moment`: it is
        inside every window, so a skewed clock can never let a cap be exceeded. (A
        window is at least a second long, so "made at `moment`" is "made after `since`":
        the window is every entry with `at > since`, future ones included, which in
        sorted order is everything after one bisection.)
        """
        start = bisect_right(self.ats, moment - cap.seconds)
        want_offer, want_channel = cap.offer, cap.channel
        if want_offer is None and want_channel is None:
            return len(self.ats) - start
        # This runs for every capped candidate of every decision over up to
        # `MAX_CUSTOMER_COUNT` entries, so the comparisons are made in C.
        if want_channel is None:
            offers = self.offers
            return (offers[start:] if start else offers).count(want_offer)
        channels = self.channels
        if want_offer is None:
            return (channels[start:] if start else channels).count(want_channel)
        return sum(
            1
            for offer, channel in zip(
                islice(self.offers, start, None), islice(channels, start, None), strict=True
            )
            if offer == want_offer and channel == want_channel
        )

    def with_contacts(self, extra: Iterable[Contact]) -> History:
        """This history with `extra` contacts added (what it says of itself kept: a
        caller's entries never make an unknown history look complete)."""
        return History(
            self.contacts + tuple(extra),
            self.outcomes,
            self.day_totals,
            self.complete,
            self.contacts_cut,
            self.outcomes_cut,
        )

    def __repr__(self) -> str:
        return (
            f"History(contacts={self.contacts!r}, outcomes={self.outcomes!r}, "
            f"day_totals={self.day_totals!r}, complete={self.complete!r}, "
            f"contacts_cut={self.contacts_cut!r}, outcomes_cut={self.outcomes_cut!r})"
        )


@dataclass(frozen=True)
class Plan:
    """`Policy.plan`: the offers in the order `apply` tries them, the most it keeps
    (`at_most`, None: no limit), the fallback's offer (tried when nothing is kept), the
    decision's channel, and the policy's caps and suppressions that may remove them."""

    channel: str | None
    offers: tuple[str, ...]
    at_most: int | None
    fallback: str | None
    caps: tuple[Cap, ...]
    suppressions: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class Cap:
    line: int
    text: str
    scope: str
    offer: str | None
    channel: str | None
    count: int
    seconds: int

    def covers(self, offer: str, channel: str | None) -> bool:
        return self.offer in (None, offer) and self.channel in (None, channel)

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "text": self.text,
            "scope": self.scope,
            "offer": self.offer,
            "channel": self.channel,
            "count": self.count,
            "seconds": self.seconds,
        }


def _removal(entry: Mapping[str, Any], reason: str, line: int, text: str) -> dict[str, Any]:
    """A candidate the policy removed, with the line that removed it."""
    return {
        "offer": entry.get("offer"),
        "ruleset": entry.get("ruleset"),
        "rule": entry.get("rule"),
        "reason": reason,
        "line": line,
        "text": text,
    }


class Policy:
    """A loaded contact policy. Build it with `load_policy`."""

    def __init__(self, ir: Mapping[str, Any], schema: Schema) -> None:
        self.schema = schema
        self.guards: list[tuple[dict[str, Any], Predicate]] = [
            (g, generate_predicate(schema, validate_expression_ir(g["when"], schema)))
            for g in ir["guards"]
        ]
        self.suppressions: list[dict[str, Any]] = list(ir["suppressions"])
        self.caps: tuple[Cap, ...] = tuple(
            Cap(
                c["line"], c["text"], c["scope"], c["offer"], c["channel"], c["count"], c["seconds"]
            )
            for c in ir["caps"]
        )
        self.at_most: dict[str | None, dict[str, Any]] = {a["channel"]: a for a in ir["at_most"]}
        self.rank: dict[str, Any] | None = ir["rank"]
        self.fallbacks: dict[str | None, dict[str, Any]] = {
            f["channel"]: f for f in ir["fallbacks"]
        }

        #: The longest look-back any cap or suppression needs: a history read reads no more.
        self.window_seconds: int = max(
            [c.seconds for c in self.caps if c.scope == "customer"]
            + [s["seconds"] for s in self.suppressions],
            default=0,
        )
        #: The offers capped per day: a history read fetches today's total of each.
        self.daily_offers: tuple[str, ...] = tuple(
            sorted({c.offer for c in self.caps if c.scope == "day" and c.offer})
        )
        self.needs_history: bool = bool(self.caps or self.suppressions)
        # Which caps and suppressions cover an offer (in a channel), found once per pair
        # rather than by scanning every statement for every candidate of every decision.
        self._caps_for: dict[tuple[str, str | None], tuple[tuple[int, Cap], ...]] = {}
        self._suppressions_for: dict[str, tuple[dict[str, Any], ...]] = {}
        self._plans: dict[
            tuple[str, str | None],
            tuple[tuple[dict[str, Any], ...], tuple[tuple[int, Cap], ...]],
        ] = {}
        self._limits: dict[str | None, dict[str, Any] | None] = {}

    def caps_for(self, offer: str, channel: str | None) -> tuple[tuple[int, Cap], ...]:
        """The caps that cover `offer` in `channel`, with their index in `caps`."""
        found = self._caps_for.get((offer, channel))
        if found is None:
            if len(self._caps_for) > _INDEX_MOST:
                self._caps_for.clear()
            found = self._caps_for[(offer, channel)] = tuple(
                (i, c) for i, c in enumerate(self.caps) if c.covers(offer, channel)
            )
        return found

    def _plan(
        self, offer: str, channel: str | None
    ) -> tuple[tuple[dict[str, Any], ...], tuple[tuple[int, Cap], ...]]:
        """`suppressions_for(offer)` and `caps_for(offer, channel)`, in one lookup."""
        found = self._plans.get((offer, channel))
        if found is None:
            if len(self._plans) > _INDEX_MOST:
                self._plans.clear()
            found = self._plans[(offer, channel)] = (
                self.suppressions_for(offer),
                self.caps_for(offer, channel),
            )
        return found

    def _limit_for(self, channel: str | None) -> dict[str, Any] | None:
        """The `at most` that bounds a response in `channel`: the channel's own or the
        overall one, whichever allows fewer (None: no limit)."""
        found = self._limits.get(channel, self._limits)
        if found is self._limits:
            own = self.at_most.get(channel) if channel in self.at_most else None
            overall = self.at_most.get(None)
            found = (
                (own or overall)
                if own is None or overall is None
                else (own if own["count"] <= overall["count"] else overall)
            )
            if len(self._limits) > _INDEX_MOST:
                self._limits.clear()
            self._limits[channel] = found
        return found  # type: ignore[return-value]  # the dict itself is the miss sentinel

    def suppressions_for(self, offer: str) -> tuple[dict[str, Any], ...]:
        """The suppressions that cover `offer`."""
        found = self._suppressions_for.get(offer)
        if found is None:
            if len(self._suppressions_for) > _INDEX_MOST:
                self._suppressions_for.clear()
            found = self._suppressions_for[offer] = tuple(
                s for s in self.suppressions if s["offer"] in (None, offer)
            )
        return found

    def _rank_key(self, entry: Mapping[str, Any], position: int) -> tuple[Any, ...]:
        priority, value = float(entry.get("priority", 0)), float(entry.get("value", 0))
        if self.rank is None:
            return (-priority, -value, str(entry.get("offer")), position)
        return (
            -rank_value(self.rank["expr"], priority, value),
            -priority,
            -value,
            str(entry.get("offer")),
            position,
        )

    def plan(
        self,
        candidates: Sequence[Mapping[str, Any]],
        interaction: Mapping[str, Any],
        *,
        channel: str | None,
        stopped_by_rulesets: bool,
    ) -> Plan:
        """What `apply` will try, in its order, before any history is read: the
        candidates' offers ranked and each once, the `at most` that applies, and the
        fallback; nothing when a policy guard fires. A store can then settle caps and
        suppressions itself in the same round trip as its read (Redis, in Lua); `apply`
        on the history it read stays the authority (`bundle.history.Plan`)."""
        if any(predicate.test(interaction) for _, predicate in self.guards):
            return Plan(channel, (), None, None, self.caps, self.suppressions)
        ranked = (
            sorted(enumerate(candidates), key=lambda pair: self._rank_key(pair[1], pair[0]))
            if len(candidates) > 1
            else list(enumerate(candidates))
        )
        offers = tuple(dict.fromkeys(str(entry.get("offer")) for _, entry in ranked))
        limit = self._limit_for(channel)
        fallback = None
        if not stopped_by_rulesets:
            chosen = (
                self.fallbacks.get(channel)
                if channel in self.fallbacks
                else self.fallbacks.get(None)
            )
            fallback = chosen["offer"] if chosen is not None else None
        return Plan(
            channel,
            offers,
            limit["count"] if limit is not None else None,
            fallback,
            self.caps,
            self.suppressions,
        )

    def apply(
        self,
        candidates: Sequence[Mapping[str, Any]],
        interaction: Mapping[str, Any],
        history: History,
        moment: float,
        *,
        channel: str | None,
        stopped_by_rulesets: bool,
        values: Mapping[str, float] | None = None,
    ) -> dict[str, Any]:
        """Dispose of the rulesets' candidates; see docs/rules.md ("The contact policy").

        Returns ``{"offers", "removed", "guards", "fallback"}``: the offers kept (in rank
        order), every candidate removed with the policy line that removed it, the policy
        guards that fired, and the fallback made (or None).
        """
        removed: list[dict[str, Any]] = []
        fired: list[dict[str, Any]] = []
        for g, predicate in self.guards:  # a loop, not a comprehension: no frame
            if predicate.test(interaction):
                fired.append({"line": g["line"], "text": g["text"]})
        if fired:
            first = fired[0]
            removed.extend(
                _removal(entry, "stopped by a policy guard", first["line"], first["text"])
                for entry in candidates
            )
            return {"offers": [], "removed": removed, "guards": fired, "fallback": None}
        ranked = (
            sorted(enumerate(candidates), key=lambda pair: self._rank_key(pair[1], pair[0]))
            if len(candidates) > 1
            else enumerate(candidates)
        )
        counted: dict[int, int] = {}  # history counts per cap: the same for every candidate
        # Why each candidate was refused. The fallback is only tried when nothing was
        # kept, so every refusal was made with nothing kept: one for the fallback's offer
        # still holds, and the history is not counted again.
        refused: dict[str, tuple[str, int, str]] = {}
        kept: list[dict[str, Any]] = []
        seen: dict[str, Mapping[str, Any]] = {}
        limit = self._limit_for(channel)
        for _position, entry in ranked:
            key = str(entry.get("offer"))
            if key in seen:
                best = seen[key]
                removed.append(
                    _removal(
                        entry,
                        f"the same offer is proposed by {best.get('ruleset')} (rule “{best.get('rule')}”), "
                        "which ranks higher",
                        0,
                        "one offer once per response",
                    )
                )
                continue
            seen[key] = entry
            why = self.refusal(key, channel, history, moment, kept, counted)
            if why is not None:
                refused[key] = why
                removed.append(_removal(entry, *why))
                continue
            if limit is not None and len(kept) >= limit["count"]:
                removed.append(
                    _removal(
                        entry,
                        f"over at most {limit['count']} per response",
                        limit["line"],
                        limit["text"],
                    )
                )
                continue
            kept.append(dict(entry))
        fallback = None
        if not kept and not stopped_by_rulesets:
            chosen = (
                self.fallbacks.get(channel)
                if channel in self.fallbacks
                else self.fallbacks.get(None)
            )
            if chosen is not None and chosen["offer"] is not None:
                why = refused.get(chosen["offer"]) or self.refusal(
                    chosen["offer"], channel, history, moment, kept, counted
                )
                if why is None:
                    fallback = {
                        "offer": chosen["offer"],
                        "line": chosen["line"],
                        "text": chosen["text"],
                    }
                    kept.append(
                        {
                            "offer": chosen["offer"],
                            "rule": None,
                            "ruleset": None,
                            "priority": 0,
                            "value": values.get(chosen["offer"], 0) if values is not None else 0,
                            "fallback": True,
                            "policy_line": chosen["line"],
                        }
                    )
                else:
                    removed.append(
                        {
                            "offer": chosen["offer"],
                            "ruleset": None,
                            "rule": None,
                            "reason": f"fallback not made: {why[0]}",
                            "line": why[1],
                            "text": why[2],
                        }
                    )
            elif chosen is not None:
                fallback = {"offer": None, "line": chosen["line"], "text": chosen["text"]}
        return {"offers": kept, "removed": removed, "guards": fired, "fallback": fallback}

    def refusal(
        self,
        key: str,
        channel: str | None,
        history: History,
        moment: float,
        kept: Sequence[Mapping[str, Any]],
        counted: dict[int, int] | None = None,
    ) -> tuple[str, int, str] | None:
        """Why a suppression or cap removes `key` now (reason, line, text), or None."""
        suppressions, caps = self._plan(key, channel)
        if not suppressions and not caps:
            return None
        if not history.complete:
            if suppressions:
                return (
                    "the contact history is unavailable, so the suppression cannot be checked",
                    suppressions[0]["line"],
                    suppressions[0]["text"],
                )
            if caps:
                return (
                    "the contact history is unavailable, so the limit cannot be counted",
                    caps[0][1].line,
                    caps[0][1].text,
                )
        for rule in suppressions if (history.outcomes or history.outcomes_cut) else ():
            since = moment - rule["seconds"]
            kind, offer = rule["outcome"], rule["offer"]
            for outcome in history.outcomes:
                if (
                    outcome.kind == kind
                    and (offer is None or outcome.offer == key)
                    and min(outcome.at, moment) > since
                ):
                    return (
                        f"suppressed: {rule['outcome']} within the window",
                        rule["line"],
                        rule["text"],
                    )
            if history.outcomes_cut:
                return (
                    "the customer's history is longer than a read returns, so the "
                    "suppression cannot be checked",
                    rule["line"],
                    rule["text"],
                )
        counted = {} if counted is None else counted
        for index, cap in caps:
            made_now = (
                sum(1 for k in kept if cap.covers(str(k.get("offer")), channel)) if kept else 0
            )
            if cap.scope == "day":
                before = history.day_totals.get(key, 0)
            else:
                before = counted.get(index, -1)
                if before < 0:
                    before = counted[index] = history.count(cap, moment)
            used = made_now + before
            if used >= cap.count:
                return (f"over the limit: {used} of {cap.count}", cap.line, cap.text)
            if cap.scope == "customer" and history.contacts_cut:
                return (
                    "the customer's history is longer than a read returns, so the limit "
                    "cannot be counted",
                    cap.line,
                    cap.text,
                )
        return None


def count_contacts(contacts: Iterable[Contact], cap: Cap, moment: float) -> int:
    """Contacts a per-customer cap counts at `moment`, in any order (`History.count`)."""
    return History(contacts).count(cap, moment)


def load_policy(ir: Any) -> Policy:
    """Validate a compiled policy and load it; raise `DSLError` (E304) when damaged."""
    try:
        if (
            not isinstance(ir, Mapping)
            or ir.get("ir") != POLICY_KIND
            or ir.get("version") != POLICY_VERSION
        ):
            raise ValueError(f"expected a {POLICY_KIND} IR, version {POLICY_VERSION}")
        schema = Schema.from_dict(ir["schema"])
        for key in ("guards", "suppressions", "caps", "at_most", "fallbacks"):
            if not isinstance(ir.get(key), list) or len(ir[key]) > MAX_STATEMENTS:
                raise ValueError(f"`{key}` must be a list")
        for cap in ir["caps"]:
            most = MAX_CUSTOMER_COUNT if cap.get("scope") == "customer" else MAX_COUNT
            if (
                cap.get("scope") not in ("customer", "day")
                or type(cap.get("count")) is not int
                or not 0 <= cap["count"] <= most
                or type(cap.get("seconds")) is not int
                or not 0 < cap["seconds"] <= MAX_WINDOW_SECONDS
            ):
                raise ValueError(f"cap on line {cap.get('line')} is malformed")
        for rule in ir["suppressions"]:
            if (
                rule.get("outcome") not in OUTCOMES
                or type(rule.get("seconds")) is not int
                or not 0 < rule["seconds"] <= MAX_WINDOW_SECONDS
            ):
                raise ValueError(f"suppression on line {rule.get('line')} is malformed")
        for limit in ir["at_most"]:
            if type(limit.get("count")) is not int or not 0 <= limit["count"] <= MAX_COUNT:
                raise ValueError(f"`at most` on line {limit.get('line')} is malformed")
        if ir.get("rank") is not None and not _valid_rank(ir["rank"].get("expr")):
            raise ValueError("the ranking is malformed")
        return Policy(ir, schema)
    except DSLError as exc:
        raise DSLError(
            [make("E304", f"the compiled policy is damaged: {exc.diagnostics[0].message}")]
        ) from None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise DSLError([make("E304", f"the compiled policy is damaged: {exc}")]) from None
