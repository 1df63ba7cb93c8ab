"""The canonical layout of a ruleset, and the source text of expressions.

`format_source` is what `studio fmt` prints: two-space clause indentation, one
`and`-joined condition per line, double quotes, minimal parentheses, a blank line
between rules, comments kept next to the code they annotate. Formatting never
changes meaning: parse(format(x)) == parse(x) is property-tested.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from dsl import ast
from dsl.diagnostics import DSLError
from dsl.parser import _FORBIDDEN, parse_ruleset

_ESCAPE_MAP = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def format_string(text: str) -> str:
    """A double-quoted literal that the scanner reads back as `text`."""
    out = []
    for ch in text:
        if ch in _ESCAPE_MAP:
            out.append(_ESCAPE_MAP[ch])
        elif _FORBIDDEN.match(ch):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def format_number(value: int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int) else repr(value)


def format_value(node: ast.Literal | ast.Symbol | ast.Path) -> str:
    if isinstance(node, ast.Symbol):
        return node.name
    if isinstance(node, ast.Path):
        return node.dotted
    if node.kind == "string":
        return format_string(node.value)  # type: ignore[arg-type]  # kind "string" holds a str
    if node.kind == "boolean":
        return "true" if node.value else "false"
    return format_number(node.value)  # type: ignore[arg-type]  # kind "number" holds an int or float


def format_expr(expr: ast.Expr) -> str:
    """One-line source text of an expression, with the fewest parentheses needed."""
    if isinstance(expr, ast.Compare):
        left = format_value(expr.left)
        if expr.op == "truthy":
            return left
        right = expr.right
        if isinstance(right, ast.ListValue):
            shown = "[" + ", ".join(format_value(item) for item in right.items) + "]"
        else:
            shown = format_value(right)  # type: ignore[arg-type]  # a Literal or Symbol, as the grammar allows here
        return f"{left} {expr.op} {shown}"
    if isinstance(expr, ast.Not):
        inner = format_expr(expr.operand)
        if isinstance(expr.operand, ast.And | ast.Or):
            inner = f"({inner})"
        return f"not {inner}"
    if isinstance(expr, ast.And):
        return " and ".join(
            f"({format_expr(item)})" if isinstance(item, ast.Or) else format_expr(item)
            for item in expr.items
        )
    return " or ".join(format_expr(item) for item in expr.items)


def _duration(d: ast.Duration) -> str:
    unit = d.unit if d.amount == 1 else d.unit + "s"
    return f"{format_number(d.amount)} {unit}"


@dataclass
class _Slot:
    """A piece of output (a statement, clause or condition line) comments attach to."""

    start: int
    end: int
    lines: list[str]
    leading: list[str] = field(default_factory=list)
    trailing: list[str] = field(default_factory=list)
    indent: str = ""
    leading_lines: list[int] = field(default_factory=list)


def _statement_slots(stmt: ast.Statement) -> list[_Slot]:
    span = stmt.span
    if isinstance(stmt, ast.Guard):
        return [
            _Slot(span.line, span.end_line, [f"never offer when {format_expr(stmt.condition)}"])
        ]
    if isinstance(stmt, ast.Limit):
        text = (
            f"limit offers to {format_number(stmt.count)} per customer per {_duration(stmt.period)}"
        )
        return [_Slot(span.line, span.end_line, [text])]
    if isinstance(stmt, ast.ResponseCap):
        noun = "offer" if stmt.count == 1 else "offers"
        return [
            _Slot(
                span.line,
                span.end_line,
                [f"at most {format_number(stmt.count)} {noun} per response"],
            )
        ]
    slots = [_Slot(span.line, stmt.name_span.end_line, [f"rule {format_string(stmt.name)}"])]
    for clause in stmt.clauses:
        cs = clause.span
        if isinstance(clause, ast.When):
            cond = clause.condition
            items = cond.items if isinstance(cond, ast.And) else (cond,)
            for i, item in enumerate(items):
                text = (
                    f"({format_expr(item)})"
                    if isinstance(item, ast.Or) and len(items) > 1
                    else format_expr(item)
                )
                prefix = "  when " if i == 0 else "   and "
                start = cs.line if i == 0 else item.span.line
                slots.append(
                    _Slot(
                        start,
                        item.span.end_line if i else max(item.span.end_line, cs.line),
                        [prefix + text],
                    )
                )
        elif isinstance(clause, ast.OfferClause):
            text = f"  offer {clause.key}"
            if clause.percent is not None:
                text += f" to {format_number(clause.percent)}% of customers"
            slots.append(_Slot(cs.line, cs.end_line, [text]))
        elif isinstance(clause, ast.AskSurvey):
            text = f"  ask survey {clause.key}"
            if clause.percent is not None:
                text += f" to {format_number(clause.percent)}% of customers"
            slots.append(_Slot(cs.line, cs.end_line, [text]))
        elif isinstance(clause, ast.FollowUp):
            offer = "offer " if clause.offer_keyword else ""
            lines = [f"  follow up after {_duration(clause.after)} with {offer}{clause.key}"]
            if clause.gate is not None:
                lines.append(_gate_line(clause.gate))
            slots.append(_Slot(cs.line, cs.end_line, lines))
        else:
            slots.append(_Slot(cs.line, cs.end_line, [f"  priority {format_number(clause.value)}"]))
    for slot in slots[1:]:
        slot.indent = "  "
    return slots


def _gate_line(gate: ast.Gate) -> str:
    """The continuation line of a gated follow-up, indented under it."""
    text = f"    then offer {gate.key} when resolution is confirmed"
    if gate.window is not None:
        text += " or not reopened" if gate.infer else ""
        text += f" within {_duration(gate.window)}"
    return text


def format_ruleset(tree: ast.Ruleset, source: str = "") -> str:
    """The canonical text of a parsed ruleset; `source` lets comments keep their places."""
    groups: list[list[_Slot]] = [_statement_slots(stmt) for stmt in tree.statements]
    slots = [slot for group in groups for slot in group]
    lines = source.split("\n") if source else []
    blank = tree.blank_lines
    trailer: list[tuple[int, str]] = []
    # Comment placement is looked up, not scanned: a large ruleset with a comment per rule
    # stays linear (the owner of each line, and the first slot starting after a line).
    owner_of: dict[int, tuple[int, int, _Slot]] = {}
    for i, slot in enumerate(slots):
        for line in range(slot.start, slot.end + 1):
            if line not in owner_of or (slot.start, i) > owner_of[line][:2]:
                owner_of[line] = (slot.start, i, slot)
    starts = [slot.start for slot in slots]
    ordered = all(a <= b for a, b in zip(starts, starts[1:], strict=False))
    for comment in tree.comments:
        text = comment.text.rstrip()
        before = lines[comment.line - 1][: comment.column - 1] if comment.line <= len(lines) else ""
        if before.strip() and comment.line in owner_of:
            owner_of[comment.line][2].trailing.append(text)
            continue
        if ordered:
            at = bisect.bisect_right(starts, comment.line)
            following = slots[at] if at < len(slots) else None
        else:
            following = next((s for s in slots if s.start > comment.line), None)
        if following is None:
            trailer.append((comment.line, text))
        else:
            following.leading.append(text)
            following.leading_lines.append(comment.line)
    out: list[str] = []
    for index, (stmt, group) in enumerate(zip(tree.statements, groups, strict=True)):
        first = group[0]
        top = first.leading_lines[0] if first.leading_lines else first.start
        if out:
            previous = tree.statements[index - 1]
            if isinstance(stmt, ast.Rule) or isinstance(previous, ast.Rule) or (top - 1) in blank:
                out.append("")
        for slot in group:
            for line_no, text in zip(slot.leading_lines, slot.leading, strict=True):
                out.append(slot.indent + text)
                if slot is first and (line_no + 1) in blank:
                    out.append("")
            body = list(slot.lines)
            if slot.trailing:
                body[-1] += "  " + " ".join(slot.trailing)
            out.extend(body)
    if trailer:
        if out:
            out.append("")
        out.extend(text for _, text in trailer)
    return "\n".join(out) + "\n" if out else ""


def format_source(source: str) -> str:
    """Reformat ruleset source; raise `DSLError` when it does not parse."""
    tree, diagnostics = parse_ruleset(source)
    if tree is None:
        raise DSLError(diagnostics)
    normalized = source.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
    return format_ruleset(tree, normalized)
