"""Driving Lark's LALR(1) tables with our own loop: the one module that reads Lark's
private attributes.

Why: `dsl.parser` feeds plain token tuples from its own scanner straight into the
parse table. Lark's public path (its lexer, or `Token` objects through its
`ParserState`) measured 142-150 us per rule for the tree alone on a 2,000-rule
mixed ruleset, against 116 us per rule for this path including the typed AST, and
the whole compile must stay within 10% of its speed (benchmarks/dsl_speed.py).

What is private: `Lark.parser.parser.parser.parse_table` (states, start and end
states), `.callbacks` (the embedded transformer's reductions) and
`lark.parsers.lalr_analysis.Shift`. `pyproject.toml` pins Lark exactly at
`LARK_VERSION`; tests/dsl/test_lalr.py fails on any other version and checks this
loop's "expected" terminals against Lark's public `InteractiveParser.accepts()`, so
an upgrade is a deliberate, tested change.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lark import Lark

#: The only Lark release this module is known to read correctly.
LARK_VERSION = "1.3.1"

Token = tuple[str, str, int, int, int]  # (kind, text, line, column, end_column), see dsl.parser
#: A reduction: (how many symbols it pops, the transformer's callback, the rule's name).
Reduction = tuple[int, Callable[[list[object]], object], str]
#: `(True, next_state)` or `(False, Reduction)`. The flag, not the type, tells them apart
#: in the loops below (no isinstance there), so the second item is typed where unpacked.
Action = tuple[bool, Any]


class SyntaxFailure(Exception):
    """A token with no action in the current state, and the terminals that had one."""

    def __init__(self, token: Token, expected: set[str]) -> None:
        self.token = token
        self.expected = expected


@dataclass(frozen=True)
class Table:
    """Lark's LALR table for one start symbol, flattened for a tight loop.

    Each state maps a symbol name to `(True, next_state)` for a shift or goto, or to
    `(False, (size, callback, origin))` for a reduction.
    """

    states: dict[int, dict[str, Action]]
    start_state: int
    end_state: int
    terminals: frozenset[str]


_TABLES: dict[tuple[int, str], Table] = {}


def table(lark: Lark, start: str) -> Table:
    """The flattened table of a Lark LALR parser built with an embedded transformer."""
    key = (id(lark), start)
    found = _TABLES.get(key)
    if found is not None:
        return found
    from lark.parsers.lalr_analysis import Shift

    frontend = lark.parser.parser
    parse_table = frontend.parser.parse_table
    callbacks = frontend.parser.callbacks
    reductions: dict[int, Reduction] = {}
    states: dict[int, dict[str, Action]] = {}
    for state, actions in parse_table.states.items():
        row: dict[str, Action] = {}
        for symbol, (action, arg) in actions.items():
            if action is Shift:
                row[str(symbol)] = (True, arg)
            else:
                ident = id(arg)
                if ident not in reductions:
                    reductions[ident] = (len(arg.expansion), callbacks[arg], str(arg.origin.name))
                row[str(symbol)] = (False, reductions[ident])
        states[state] = row
    terminals = frozenset(s for row in states.values() for s in row if s.isupper() or s == "$END")
    found = Table(states, parse_table.start_states[start], parse_table.end_states[start], terminals)
    _TABLES[key] = found
    return found


def accepts(table: Table, stack: list[int]) -> set[str]:
    """The terminals that would be shifted from this stack (for "expected ..." words)."""
    accepted: set[str] = set()
    for terminal in table.terminals:
        states = list(stack)
        while True:
            entry = table.states[states[-1]].get(terminal)
            if entry is None:
                break
            shift, arg = entry
            if shift:
                accepted.add(terminal)
                break
            size, _callback, origin = arg
            if size:
                del states[-size:]
            goto = table.states[states[-1]].get(origin)
            if goto is None:
                break
            states.append(goto[1])
            if states[-1] == table.end_state:
                accepted.add(terminal)
                break
    return accepted


def expected_before(table: Table, tokens: Iterator[Token], failing: Token) -> set[str]:
    """The terminals acceptable where `failing` stands, judged before the reductions its
    arrival triggered (after them, `(tone is negative offer` would expect only `)`, not
    `and` or `or`). Replays the tokens up to it; used only to explain an error."""
    states = table.states
    stack = [table.start_state]
    for token in tokens:
        if token == failing:
            break
        kind = token[0]
        while True:
            entry = states[stack[-1]].get(kind)
            if entry is None:
                return accepts(table, stack)
            shift, arg = entry
            if shift:
                stack.append(arg)
                break
            size, _callback, origin = arg
            if size:
                del stack[-size:]
            stack.append(states[stack[-1]][origin][1])
    return accepts(table, stack)


def run(table: Table, tokens: Iterator[Token], end: Token) -> object:
    """Lark's LALR(1) driver loop, specialised to plain-string symbol lookups."""
    states = table.states
    end_state = table.end_state
    state_stack = [table.start_state]
    value_stack: list[object] = []
    size: int
    callback: Callable[[list[object]], object]
    origin: str
    push_state = state_stack.append
    push_value = value_stack.append
    for token in itertools.chain(tokens, (end,)):
        kind = token[0]
        while True:
            entry = states[state_stack[-1]].get(kind)
            if entry is None:
                raise SyntaxFailure(token, accepts(table, state_stack))
            shift, arg = entry
            if shift:
                push_state(arg)
                push_value(token)
                break
            size, callback, origin = arg
            if size:
                children = value_stack[-size:]
                del state_stack[-size:]
                del value_stack[-size:]
            else:
                children = []
            value = callback(children)
            push_state(states[state_stack[-1]][origin][1])
            push_value(value)
            if kind == "$END" and state_stack[-1] == end_state:
                return value_stack[-1]
    raise AssertionError("unreachable: $END always reduces to the start symbol or fails")
