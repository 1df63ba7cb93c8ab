"""The matrix: one ruleset, or one offer, against every sample interaction.

A preview answers "what does this customer get?"; the matrix answers "who gets what,
and who does not, and why?" across the whole sample library at once. Each cell holds
the offers made and follow-ups scheduled, or the reason there are none: a guard that
fired, a limit, a holdout, an offer that is not eligible, or no rule matching. Nothing
is rendered here, so the grid stays fast; a cell links to the full preview.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from dsl.interaction import expand_shorthands
from preview.engine import (
    DEFAULT_COMPILER,
    Compiler,
    Draft,
    Problem,
    RulesetOutcome,
    Workspace,
    _duration,
    _why_not,
    decide,
)
from preview.tone import Lexicon, with_inferred_tone

Status = Literal["offer", "follow_up", "stopped", "none"]
STATUS_LABELS: Final = {
    "offer": "Offer made",
    "follow_up": "Follow-up only",
    "stopped": "Stopped",
    "none": "Nothing",
}


@dataclass(frozen=True)
class Sample:
    key: str
    name: str
    body: Mapping[str, Any]
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cell:
    status: Status
    offers: tuple[str, ...] = ()
    follow_ups: tuple[str, ...] = ()
    why: str = ""


@dataclass(frozen=True)
class Row:
    sample: Sample
    tone: str
    cell: Cell


@dataclass(frozen=True)
class Matrix:
    kind: Literal["ruleset", "offer"]
    key: str
    rows: tuple[Row, ...] = ()
    problems: tuple[Problem, ...] = ()
    blocking_title: str = ""
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def blocked(self) -> bool:
        return any(p.is_error for p in self.problems) and not self.rows


def _ruleset_cell(outcome: RulesetOutcome) -> Cell:
    decision = outcome.decision or {}
    offers = tuple(o["offer"] for o in decision.get("offers", ()))
    follow_ups = tuple(
        f"{f['offer']} after {_duration(f.get('after', ''))}"
        for f in decision.get("follow_ups", ())
    )
    if offers:
        rules = ", ".join(dict.fromkeys(f"“{o['rule']}”" for o in decision["offers"]))
        return Cell("offer", offers, follow_ups, f"by {rules}")
    reasons = []
    if decision.get("guards"):
        reasons.append(
            "guard: never offer when " + "; ".join(g.get("text", "") for g in decision["guards"])
        )
    if decision.get("limits"):
        reasons.append("contact limit reached")
    if decision.get("holdouts"):
        reasons.append("holdout: " + ", ".join(h["offer"] for h in decision["holdouts"]))
    for note in outcome.notes:
        if note.get("outcome") not in ("offered", "stopped by a guard", "holdout"):
            reasons.append(f"{note['offer']}: {note['outcome']}")
    if reasons:
        stopped = bool(decision.get("guards") or decision.get("limits"))
        status: Status = "follow_up" if follow_ups else ("stopped" if stopped else "none")
        return Cell(status, (), follow_ups, "; ".join(dict.fromkeys(reasons)))
    matched = outcome.matched
    if follow_ups:
        return Cell("follow_up", (), follow_ups, "no immediate offer")
    return Cell("none", why="no rule matched" if not matched else "matched rules make no offer")


def _offer_cell(key: str, outcomes: list[RulesetOutcome]) -> Cell:
    for outcome in outcomes:
        for made in (outcome.decision or {}).get("offers", ()):
            if made["offer"] == key:
                return Cell("offer", (key,), (), f"by “{made['rule']}” ({outcome.name})")
    for outcome in outcomes:
        for follow in (outcome.decision or {}).get("follow_ups", ()):
            if follow["offer"] == key:
                return Cell(
                    "follow_up",
                    (),
                    (f"{key} after {_duration(follow.get('after', ''))}",),
                    f"by “{follow['rule']}” ({outcome.name})",
                )
    why = _why_not(key, outcomes)
    stopped = any(outcome.decision and outcome.decision.get("guards") for outcome in outcomes)
    status: Status = "stopped" if stopped and "guard" in why else "none"
    return Cell(status, why=why)


def run_matrix(
    workspace: Workspace,
    samples: Iterable[Sample],
    *,
    kind: Literal["ruleset", "offer"],
    key: str,
    compiler: Compiler = DEFAULT_COMPILER,
) -> Matrix:
    """Decide each sample for one ruleset (alone) or for one offer (every ruleset)."""
    if kind == "offer" and key not in workspace.offers:
        return Matrix(
            kind,
            key,
            problems=(
                Problem(
                    "error",
                    f"There is no offer with the key {key} in the library.",
                    code="unknown-offer",
                    hint="Pick an offer from the list.",
                ),
            ),
            blocking_title="Unknown offer",
        )
    if kind == "ruleset" and key not in workspace.rulesets:
        return Matrix(
            kind,
            key,
            problems=(
                Problem(
                    "error",
                    f"There is no ruleset with the key {key}.",
                    code="unknown-ruleset",
                    hint="Pick a ruleset from the list.",
                ),
            ),
            blocking_title="Unknown ruleset",
        )
    lexicon = Lexicon.from_dict(workspace.lexicon)
    schema, _, _ = compiler.schema(workspace.schema)
    draft = Draft("ruleset", key) if kind == "ruleset" else None
    rows: list[Row] = []
    problems: tuple[Problem, ...] = ()
    for sample in samples:
        body = sample.body if isinstance(sample.body, Mapping) else {}
        filled, _ = with_inferred_tone(expand_shorthands(schema, body)[0], lexicon)
        outcomes, _catalog, blocking, title = decide(
            workspace, filled, draft=draft, compiler=compiler, rows=False
        )
        if blocking is not None:
            return Matrix(kind, key, problems=blocking, blocking_title=title)
        if kind == "ruleset":
            if not outcomes or outcomes[0].decision is None:
                problems = outcomes[0].problems if outcomes else ()
                return Matrix(
                    kind, key, problems=problems, blocking_title="This ruleset does not compile"
                )
            cell = _ruleset_cell(outcomes[0])
        else:
            cell = _offer_cell(key, outcomes)
        tone = filled.get("tone")
        label = str(tone.get("label") or "") if isinstance(tone, Mapping) else ""
        rows.append(Row(sample, label, cell))
    counts: Counter[str] = Counter(row.cell.status for row in rows)
    return Matrix(kind, key, tuple(rows), problems, counts=dict(counts))
