"""Overlaps: two rulesets that can both offer to the same customer.

Each ruleset keeps its own `at most N per response`, so two rulesets that both match
one interaction each propose a candidate, and without a contact policy the customer
gets both (the issue's two near-identical refill offers in one SMS). An overlap is a
sample interaction for which two or more rulesets propose candidates; it says which
rulesets, which offers, and what the contact policy then keeps and removes (line and
reason). It is found by running every ruleset over the sample library with the
preview's own decision (`preview.engine.decide`, then `preview.disposal.finalize`),
the one evaluator every view shares. See docs/preview.md ("Overlaps").

An overlap is a warning, not an error: the contact policy exists to arbitrate. It is
worth a look because a service lead writing one ruleset cannot see the other team's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from dsl.interaction import expand_shorthands
from preview.disposal import FinalDecision, finalize
from preview.engine import DEFAULT_COMPILER, Compiler, Draft, Workspace, decide
from preview.tone import Lexicon, with_inferred_tone

#: The most samples one overlap check reads (the library's first ones by key).
MAX_SAMPLES: Final = 500


@dataclass(frozen=True)
class Overlap:
    """Two or more rulesets proposing candidates for one sample interaction."""

    sample_key: str
    sample_name: str
    #: (key, name) of each ruleset that proposed, in order of proposal.
    rulesets: tuple[tuple[str, str], ...]
    proposed: tuple[Mapping[str, Any], ...]
    kept: tuple[Mapping[str, Any], ...]
    removed: tuple[Mapping[str, Any], ...]
    #: False when there is no contact policy (or it does not compile): every offer is made.
    policy_applied: bool

    @property
    def ruleset_keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.rulesets)

    def involves(self, *, ruleset: str | None = None, offer: str | None = None) -> bool:
        if ruleset is not None and ruleset not in self.ruleset_keys:
            return False
        return offer is None or any(c.get("offer") == offer for c in self.proposed)

    def others(self, ruleset: str) -> tuple[tuple[str, str], ...]:
        return tuple(r for r in self.rulesets if r[0] != ruleset)


def overlap_of(sample_key: str, sample_name: str, final: FinalDecision) -> Overlap | None:
    """The overlap in one sample's final decision, or None when fewer than two propose."""
    if len(final.proposers) < 2:
        return None
    names = {str(c["ruleset"]): str(c.get("ruleset_name") or c["ruleset"]) for c in final.proposed}
    return Overlap(
        sample_key,
        sample_name,
        tuple((key, names[key]) for key in final.proposers),
        final.proposed,
        final.offers,
        final.removed,
        final.applied,
    )


def find_overlaps(
    workspace: Workspace,
    samples: Iterable[tuple[str, str, Mapping[str, Any]]],
    *,
    draft: Draft | None = None,
    compiler: Compiler = DEFAULT_COMPILER,
) -> tuple[Overlap, ...]:
    """Every overlap over `samples` ((key, name, interaction)), the draft in place.

    Samples are read as the matrix reads them (shorthands expanded, tone inferred from
    the text). A draft that does not compile has no overlaps (its diagnostics say why).
    """
    schema, _, _ = compiler.schema(workspace.schema)
    lexicon = Lexicon.from_dict(workspace.lexicon)
    found: list[Overlap] = []
    for index, (key, name, body) in enumerate(samples):
        if index >= MAX_SAMPLES:
            break
        filled, _ = with_inferred_tone(
            expand_shorthands(schema, body if isinstance(body, Mapping) else {})[0], lexicon
        )
        outcomes, _catalog, blocking, _title = decide(
            workspace, filled, draft=draft, compiler=compiler, rows=False
        )
        if blocking is not None:
            return ()
        overlap = overlap_of(
            key, name, finalize(workspace, filled, outcomes, compiler=compiler, draft=draft)
        )
        if overlap is not None:
            found.append(overlap)
    return tuple(found)
