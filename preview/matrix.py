"""The matrix: one ruleset, or one offer, against every sample interaction.

A preview answers "what does this customer get?"; the matrix answers "who gets what,
and who does not, and why?" across the whole sample library at once. Each cell holds
the offers made and follow-ups scheduled, or the reason there are none: a guard that
fired, a limit, a holdout, an offer that is not eligible, or no rule matching. Every
ruleset decides each sample and the workspace contact policy disposes of their
candidates (`preview.disposal`), so a cell also says what the customer finally gets
and which policy line removed a candidate; a sample where the focus shares the
customer with another ruleset carries its overlap (`preview.overlap`). Nothing is
rendered here, so the grid stays fast; a cell links to the full preview.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from dsl.interaction import expand_shorthands
from preview.disposal import FinalDecision, finalize
from preview.engine import (
    DEFAULT_COMPILER,
    Compiler,
    Draft,
    Problem,
    RulesetOutcome,
    Workspace,
    _duration,
    decide,
    removed_text,
    why_not,
)
from preview.overlap import Overlap, overlap_of
from preview.tone import Lexicon, with_inferred_tone

Status = Literal["offer", "follow_up", "stopped", "removed", "none"]
STATUS_LABELS: Final = {
    "offer": "Offer made",
    "follow_up": "Follow-up only",
    "stopped": "Stopped",
    "removed": "Removed by the contact policy",
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
    """`offers` are what the focus proposes (for an offer: the offer, when proposed);
    `status` and `why` say what the customer finally gets of them."""

    status: Status
    offers: tuple[str, ...] = ()
    follow_ups: tuple[str, ...] = ()
    why: str = ""
    #: The focus's candidates the contact policy removed, each in words.
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row:
    sample: Sample
    tone: str
    cell: Cell
    #: The decision after the contact policy, every ruleset together.
    final: FinalDecision | None = None
    #: Another ruleset proposing for this sample too (only overlaps involving the focus).
    overlap: Overlap | None = None
    #: The tone was guessed from the text (VADER) and is not distressed: the row was
    #: decided on it, but `/api/v1/decide` and the client leave such a tone unknown.
    tone_guessed: bool = False


@dataclass(frozen=True)
class Matrix:
    kind: Literal["ruleset", "offer"]
    key: str
    rows: tuple[Row, ...] = ()
    problems: tuple[Problem, ...] = ()
    blocking_title: str = ""
    counts: Mapping[str, int] = field(default_factory=dict)

    #: The contact policy's problems when it does not compile (it is then left out).
    policy_problems: tuple[Problem, ...] = ()

    @property
    def blocked(self) -> bool:
        return any(p.is_error for p in self.problems) and not self.rows

    @property
    def overlaps(self) -> tuple[Overlap, ...]:
        return tuple(row.overlap for row in self.rows if row.overlap is not None)

    @property
    def guessed_tones(self) -> int:
        """Rows decided on a tone only the preview guesses (live decisions may differ)."""
        return sum(1 for row in self.rows if row.tone_guessed)


def _ruleset_cell(outcome: RulesetOutcome, final: FinalDecision) -> Cell:
    decision = outcome.decision or {}
    offers = tuple(o["offer"] for o in decision.get("offers", ()))
    follow_ups = tuple(
        f"{f['offer']} after {_duration(f.get('after', ''))}"
        for f in decision.get("follow_ups", ())
    )
    if offers:
        removed = tuple(removed_text(r) for r in final.removed_from(outcome.key))
        made = {str(o.get("offer")) for o in final.offers}
        if any(o in made for o in offers):
            rules = ", ".join(dict.fromkeys(f"“{o['rule']}”" for o in decision["offers"]))
            return Cell("offer", offers, follow_ups, f"by {rules}", removed)
        status: Status = "stopped" if final.guards else "removed"
        return Cell(status, offers, follow_ups, "; ".join(removed), removed)
    return _no_offer_cell(outcome, follow_ups)


def _no_offer_cell(outcome: RulesetOutcome, follow_ups: tuple[str, ...]) -> Cell:
    decision = outcome.decision or {}
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


def _offer_cell(key: str, outcomes: list[RulesetOutcome], final: FinalDecision) -> Cell:
    for made in final.offers:
        if made.get("offer") == key:
            why = (
                f"the contact policy's fallback (policy line {made.get('policy_line')})"
                if made.get("fallback")
                else f"by “{made['rule']}” ({made.get('ruleset_name')})"
            )
            return Cell("offer", (key,), (), why)
    removed = tuple(removed_text(r) for r in final.removed if r.get("offer") == key)
    if removed:
        status: Status = "stopped" if final.guards else "removed"
        return Cell(status, (key,), (), "; ".join(removed), removed)
    for outcome in outcomes:
        for follow in (outcome.decision or {}).get("follow_ups", ()):
            if follow["offer"] == key:
                return Cell(
                    "follow_up",
                    (),
                    (f"{key} after {_duration(follow.get('after', ''))}",),
                    f"by “{follow['rule']}” ({outcome.name})",
                )
    why = why_not(key, outcomes, final)
    stopped = any(outcome.decision and outcome.decision.get("guards") for outcome in outcomes)
    status = "stopped" if stopped and "guard" in why else "none"
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
    policy_problems: tuple[Problem, ...] = ()
    for sample in samples:
        body = sample.body if isinstance(sample.body, Mapping) else {}
        filled, inferred = with_inferred_tone(expand_shorthands(schema, body)[0], lexicon)
        outcomes, _catalog, blocking, title = decide(
            workspace, filled, draft=draft, compiler=compiler, rows=False
        )
        if blocking is not None:
            return Matrix(kind, key, problems=blocking, blocking_title=title)
        final = finalize(workspace, filled, outcomes, compiler=compiler)
        policy_problems = policy_problems or final.problems
        overlap = overlap_of(sample.key, sample.name, final)
        if kind == "ruleset":
            focus = next((o for o in outcomes if o.focus), None)
            if focus is None or focus.decision is None:
                problems = focus.problems if focus is not None else ()
                return Matrix(
                    kind, key, problems=problems, blocking_title="This ruleset does not compile"
                )
            cell = _ruleset_cell(focus, final)
            if overlap is not None and not overlap.involves(ruleset=key):
                overlap = None
        else:
            cell = _offer_cell(key, outcomes, final)
            if overlap is not None and not overlap.involves(offer=key):
                overlap = None
        tone = filled.get("tone")
        label = str(tone.get("label") or "") if isinstance(tone, Mapping) else ""
        guessed = inferred is not None and inferred.label != "distressed"
        rows.append(Row(sample, label, cell, final, overlap, tone_guessed=guessed))
    counts: Counter[str] = Counter(row.cell.status for row in rows)
    return Matrix(
        kind, key, tuple(rows), problems, counts=dict(counts), policy_problems=policy_problems
    )


def customer_gets(
    workspace: Workspace,
    samples: Iterable[Sample],
    *,
    draft: Draft | None = None,
    compiler: Compiler = DEFAULT_COMPILER,
) -> dict[str, tuple[str, ...] | None]:
    """What each sample's customer gets from every ruleset after the contact policy:
    the offers kept, then the follow-ups scheduled (as ``"key (later)"``), by sample key.

    The draft, when given, stands in for its artifact (a review compares a ruleset's
    revisions this way). None for a sample when the workspace cannot decide it (the
    draft does not compile); the review then says so instead of comparing.
    """
    lexicon = Lexicon.from_dict(workspace.lexicon)
    schema, _, _ = compiler.schema(workspace.schema)
    out: dict[str, tuple[str, ...] | None] = {}
    for sample in samples:
        body = sample.body if isinstance(sample.body, Mapping) else {}
        filled, _ = with_inferred_tone(expand_shorthands(schema, body)[0], lexicon)
        outcomes, _catalog, blocking, _title = decide(
            workspace, filled, draft=draft, compiler=compiler, explain=False, rows=False
        )
        if blocking is not None:
            out[sample.key] = None
            continue
        final = finalize(workspace, filled, outcomes, compiler=compiler, draft=draft)
        later = (
            f"{f['offer']} (later)"
            for o in outcomes
            for f in (o.decision or {}).get("follow_ups", ())
            if f.get("offer")
        )
        out[sample.key] = (*(str(k.get("offer")) for k in final.offers), *later)
    return out
