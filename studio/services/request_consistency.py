"""Whether a change request stands on its own: every offer its rulesets name must be
approved already or travel in the same request.

A request that fails this is flagged when it is submitted and on its review page, so the
reviewer sees it before approving; publishing holds such a request back (see
`publish.prepare_release`) instead of refusing everyone's approved work.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.models import Artifact, ChangeRequest
from studio.services import artifacts
from studio.services.toolchain import Toolchain, default_toolchain


@dataclass(frozen=True)
class Flag:
    """One offer a ruleset in the request names that will not be there when it ships."""

    ruleset: str
    rule: str
    offer: str
    line: int | None
    column: int | None
    message: str


def flags(
    session: Session, request: ChangeRequest, *, toolchain: Toolchain | None = None
) -> list[Flag]:
    """Every offer named by the request's rulesets (at their pinned revisions) that is
    neither approved nor in the request, in the order the rulesets name them."""
    toolchain = toolchain or default_toolchain()
    in_request = {item.artifact.key for item in request.items if item.artifact.kind == "offer"}
    found: list[Flag] = []
    for item in request.items:
        if item.artifact.kind != "ruleset":
            continue
        revision = artifacts.revision(session, item.artifact, item.revision_number)
        source = str((revision.body if revision else {}).get("source", ""))
        refs = [r for r in toolchain.offer_refs(source) if r.key not in in_request]
        known = _offers(session, {r.key for r in refs})
        seen: set[str] = set()
        for ref in refs:
            if ref.key in seen:
                continue
            seen.add(ref.key)
            offer = known.get(ref.key)
            if offer is not None and offer.approved_number is not None:
                continue
            what = "does not exist" if offer is None else "is not approved"
            found.append(
                Flag(
                    item.artifact.key,
                    ref.rule,
                    ref.key,
                    ref.line,
                    ref.column,
                    f'Rule "{ref.rule}" in {item.artifact.name} offers {ref.key}, which '
                    f"{what} and is not in this change request.",
                )
            )
    return found


def _offers(session: Session, keys: set[str]) -> dict[str, Artifact]:
    if not keys:
        return {}
    rows = session.scalars(
        select(Artifact).where(Artifact.kind == "offer", Artifact.key.in_(sorted(keys)))
    )
    return {a.key: a for a in rows}
