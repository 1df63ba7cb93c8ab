"""Overlap warnings where people decide: the ruleset editor, the review, the publish page.

Two rulesets overlap on a sample interaction when both propose an offer for it
(`preview.overlap`); the contact policy then decides what the customer gets. Each place
runs the preview's own decision over the sample library (its first
`preview.overlap.MAX_SAMPLES` samples by key), on the workspace that place is about:

- the ruleset editor: the head workspace with the unsaved source in place, as W410
  warnings on the lines of the rules that propose (`editor_diagnostics`);
- a change request's review: the approved workspace with the request's revisions in
  place, i.e. what publishing it would ship (`for_request`);
- the publish page: the approved workspace, i.e. what the next bundle ships
  (`for_publish`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

import preview as preview_lib
from preview.cache import Memo
from preview.overlap import MAX_SAMPLES, Overlap, find_overlaps
from studio.models import ChangeRequest, SampleInteraction
from studio.services import artifacts, previews, workspace

CODE: Final = "W410"
Samples = tuple[tuple[str, str, Mapping[str, Any]], ...]

_SAMPLES: Final[Memo[Samples]] = Memo(4)
_EDITOR: Final[Memo[tuple[Overlap, ...]]] = Memo(16)


def sample_library(session: Session) -> tuple[Hashable, Samples]:
    """(key, name, interaction) of the samples an overlap check reads, and what they are
    kept by until any sample is saved (every sample's key and update time)."""
    stamps = tuple(
        session.execute(
            select(SampleInteraction.key, SampleInteraction.updated_at)
            .order_by(SampleInteraction.key)
            .limit(MAX_SAMPLES)
        )
    )

    def read() -> Samples:
        rows = session.scalars(
            select(SampleInteraction).order_by(SampleInteraction.key).limit(MAX_SAMPLES)
        )
        return tuple(
            (s.key, s.name, dict(s.body) if isinstance(s.body, dict) else {}) for s in rows
        )

    key = (str(session.get_bind().engine.url), stamps)
    return key, _SAMPLES.get(key, read)


def editor_overlaps(session: Session, key: str, name: str, source: str) -> tuple[Overlap, ...]:
    """Overlaps of the ruleset being edited (unsaved source in place) with the others."""
    ws = previews.plain_workspace(session)
    library_key, library = sample_library(session)
    draft = preview_lib.Draft("ruleset", key, {"name": name, "source": source})
    found = _EDITOR.get(
        (previews.workspace_key(session), library_key, key, name, source),
        lambda: find_overlaps(ws, library, draft=draft),
    )
    return tuple(o for o in found if o.involves(ruleset=key))


def editor_diagnostics(
    session: Session, key: str, name: str, source: str, rule_lines: Mapping[str, int]
) -> list[dict[str, Any]]:
    """W410 warnings: one per rule of this ruleset whose candidate shares a sample with
    another ruleset's, on that rule's line (`rule_lines` maps rule name to line)."""
    by_rule: dict[str, list[Overlap]] = {}
    for overlap in editor_overlaps(session, key, name, source):
        for candidate in overlap.proposed:
            if candidate.get("ruleset") == key:
                by_rule.setdefault(str(candidate.get("rule")), []).append(overlap)
    out = []
    for rule, found in by_rule.items():
        others = sorted({n for o in found for k, n in o.rulesets if k != key})
        first = found[0]
        mine = ", ".join(
            dict.fromkeys(str(c["offer"]) for c in first.proposed if c.get("ruleset") == key)
        )
        theirs = ", ".join(
            dict.fromkeys(
                f"{c['offer']} ({c.get('ruleset_name')})"
                for c in first.proposed
                if c.get("ruleset") != key
            )
        )
        kept = ", ".join(str(k["offer"]) for k in first.kept) or "nothing"
        samples = ", ".join(o.sample_name for o in found[:3]) + (
            f" and {len(found) - 3} more" if len(found) > 3 else ""
        )
        policy = (
            f"the contact policy keeps {kept}"
            if first.policy_applied
            else f"with no contact policy the customer gets {kept}"
        )
        line = rule_lines.get(rule, 0)
        out.append(
            {
                "code": CODE,
                "severity": "warning",
                "message": (
                    f"rule “{rule}” shares {len(found)} sample"
                    f"{'s' if len(found) != 1 else ''} with {', '.join(others)}: {samples}. "
                    f"On “{first.sample_name}” this rule proposes {mine}, {theirs} is "
                    f"proposed too, and {policy}."
                ),
                "hint": "Both rulesets propose; the workspace contact policy decides what the "
                "customer gets. See the matrix for every sample.",
                "line": line,
                "column": 1 if line else 0,
                "end_line": line,
                "end_column": 1 if line else 0,
                "fixes": [],
                "excerpt": "",
            }
        )
    return out


def for_publish(session: Session) -> tuple[Overlap, ...]:
    """Overlaps in what the next bundle ships (the approved revisions)."""
    ws = previews.from_snapshot(workspace.snapshot(session, which="approved"))
    return find_overlaps(ws, sample_library(session)[1])


def for_request(session: Session, request: ChangeRequest) -> tuple[Overlap, ...]:
    """Overlaps publishing this change request would ship that its changes touch: those
    of its rulesets and offers, or every one when it changes the contact policy."""
    base = workspace.snapshot(session, which="approved")
    entries = dict(base.entries)
    rulesets: set[str] = set()
    offers: set[str] = set()
    policy = False
    for item in request.items:
        artifact = item.artifact
        revision = artifacts.revision(session, artifact, item.revision_number)
        if revision is None:
            continue
        entries[workspace.ref(artifact.kind, artifact.key)] = workspace.Entry(
            artifact.kind,
            artifact.key,
            revision.name or artifact.name,
            revision.number,
            bool(revision.archived),
            revision.body,
        )
        if artifact.kind == "ruleset":
            rulesets.add(artifact.key)
        elif artifact.kind == "offer":
            offers.add(artifact.key)
        elif artifact.kind == "policy":
            policy = True
    if not (rulesets or offers or policy):
        return ()
    ws = previews.from_snapshot(workspace.Workspace(which="approved", entries=entries))
    found = find_overlaps(ws, sample_library(session)[1])
    if policy:
        return found
    return tuple(
        o
        for o in found
        if any(o.involves(ruleset=r) for r in rulesets) or any(o.involves(offer=k) for k in offers)
    )
