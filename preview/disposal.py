"""What the customer gets: every ruleset's candidates disposed of by the contact policy.

Each ruleset decides alone (`preview.engine.decide`); a customer then receives what the
workspace contact policy keeps of all their candidates. `finalize` runs that step with
the bundle runtime's own `bundle.disposal.dispose` (the code `/api/v1/decide` and the
client run), so the preview and the matrix show the decision after the policy: which
ruleset proposed each candidate, which were kept, and which policy line removed the
others. No history store is read: caps count what the sample carries in
`customer.recent_offers` (a sample is not a real customer), and nothing is recorded.

Without a policy the runtime does not dispose, so neither does this: every ruleset's
offers are made, which is exactly why two rulesets that both offer are worth a warning
(`preview.overlap`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bundle.disposal import dispose

if TYPE_CHECKING:  # the engine imports this module to build its previews
    from preview.engine import Compiler, Draft, Problem, RulesetOutcome, Workspace


@dataclass(frozen=True)
class FinalDecision:
    """The decision after the contact policy.

    `proposed` holds every ruleset's candidates (tagged `ruleset` and `ruleset_name`),
    `offers` what the customer gets (a fallback carries ``"fallback": true``),
    `removed` each candidate the policy removed with its `line`, `text` and `reason`
    (line 0: the runtime's "one offer once per response", which is no policy line).
    `applied` is false when the workspace has no policy, or its policy does not
    compile (`problems`); then `offers` are every ruleset's offers, as the runtime
    makes them.
    """

    applied: bool
    proposed: tuple[Mapping[str, Any], ...] = ()
    offers: tuple[Mapping[str, Any], ...] = ()
    removed: tuple[Mapping[str, Any], ...] = ()
    guards: tuple[Mapping[str, Any], ...] = ()
    fallback: Mapping[str, Any] | None = None
    problems: tuple[Problem, ...] = ()
    history: Mapping[str, Any] = field(default_factory=dict)

    @property
    def proposers(self) -> tuple[str, ...]:
        """The rulesets that proposed a candidate, in order of proposal."""
        return tuple(dict.fromkeys(str(c["ruleset"]) for c in self.proposed))

    def removed_from(self, ruleset: str) -> tuple[Mapping[str, Any], ...]:
        return tuple(r for r in self.removed if r.get("ruleset") == ruleset)


def finalize(
    workspace: Workspace,
    interaction: Mapping[str, Any],
    outcomes: Sequence[RulesetOutcome],
    *,
    compiler: Compiler,
    draft: Draft | None = None,
) -> FinalDecision:
    """Dispose of every ruleset's candidates with the workspace's contact policy, or
    with the draft's text when the contact policy is what is being edited."""
    names = {o.key: o.name for o in outcomes}
    ordered = sorted((o for o in outcomes if o.decision is not None), key=lambda o: o.key)
    proposed = [
        {**made, "ruleset": outcome.key}
        for outcome in ordered
        for made in (outcome.decision or {}).get("offers", ())
    ]
    stopped = any((outcome.decision or {}).get("guards") for outcome in ordered)
    tagged = tuple(_named(c, names) for c in proposed)
    body = workspace.policy
    if draft is not None and draft.kind == "policy" and draft.body is not None:
        body = draft.body
    if body is None:
        return FinalDecision(False, tagged, tagged)
    schema, schema_key, _ = compiler.schema(workspace.schema)
    compiled = compiler.policy(str(body.get("source") or ""), schema, schema_key, workspace.offers)
    if compiled.policy is None:
        return FinalDecision(
            False, tagged, tagged, problems=tuple(p for p in compiled.problems if p.is_error)
        )
    kept, entry = dispose(
        compiled.policy,
        schema,
        interaction,
        proposed,
        stopped_by_rulesets=stopped,
        values=_offer_values(workspace),
    )
    return FinalDecision(
        True,
        tagged,
        tuple(_named(k, names) for k in kept),
        tuple(_named(r, names) for r in entry["removed"]),
        tuple(entry["guards"]),
        entry["fallback"],
        history=entry["history"],
    )


def _named(entry: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    ruleset = entry.get("ruleset")
    return {**entry, "ruleset_name": names.get(str(ruleset), ruleset) if ruleset else None}


def _offer_values(workspace: Workspace) -> dict[str, float]:
    """Business values a fallback is ranked with, from the offer library."""
    out: dict[str, float] = {}
    for key, body in workspace.offers.items():
        try:
            out[key] = float(body.get("value") or 0)
        except (TypeError, ValueError):
            out[key] = 0.0
    return out
