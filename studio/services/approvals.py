"""How a change request's verdicts add up to its status.

A verdict is pinned to the exact revisions the reviewer saw. A request is approved when
it has the required number of approvals on its current revisions and nobody's latest
verdict asks for changes; approval sets each artifact's `approved_number`, which is what
the next publish ships. Taking an approval back lets artifacts fall back to what is live.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio import audit
from studio.models import ChangeRequest, Review, utcnow
from studio.services.review_states import REVIEWABLE_STATUSES


def pins(request: ChangeRequest) -> dict[str, int]:
    """The exact revisions under review, as "kind:key" -> revision number."""
    return {
        f"{item.artifact.kind}:{item.artifact.key}": item.revision_number
        for item in sorted(request.items, key=lambda i: i.id)
    }


def pins_token(request: ChangeRequest) -> str:
    """The pins as one string a review form carries back, to prove what it showed."""
    return ";".join(f"{ref}={n}" for ref, n in sorted(pins(request).items()))


def active_reviews(session: Session, request: ChangeRequest) -> list[Review]:
    """Verdicts not voided, oldest first."""
    return list(
        session.scalars(
            select(Review)
            .where(Review.change_request_id == request.id, Review.voided.is_(False))
            .order_by(Review.id)
        )
    )


def approvals(session: Session, request: ChangeRequest) -> list[Review]:
    """Valid approvals: not voided and pinned to the request's current revisions."""
    current = pins(request)
    return [
        r
        for r in active_reviews(session, request)
        if r.verdict == "approve" and r.pinned == current
    ]


def request_reviews(request: ChangeRequest) -> list[Review]:
    """Every verdict ever given on the request, voided ones included, oldest first."""
    session = Session.object_session(request)
    assert session is not None
    return list(
        session.scalars(
            select(Review).where(Review.change_request_id == request.id).order_by(Review.id)
        )
    )


def settle(
    session: Session, request: ChangeRequest, *, required: int, actor_id: int | None
) -> None:
    """Derive the request's status from its live verdicts and the `required` count."""
    if request.status not in REVIEWABLE_STATUSES:
        return
    live = active_reviews(session, request)
    wants_changes = any(r.verdict == "request_changes" for r in live)
    approved = len({r.reviewer_id for r in approvals(session, request)})
    if wants_changes:
        status = "changes_requested"
    elif approved >= required:
        status = "approved"
    else:
        status = "in_review"
    if status == request.status:
        return
    before = request.status
    request.status = status
    request.updated_at = utcnow()
    if status == "approved":
        for item in request.items:
            item.artifact.approved_number = item.revision_number
        audit.record(
            session,
            "change_request.approved",
            actor_id=actor_id,
            object_type="change_request",
            object_id=request.id,
            pinned=pins(request),
        )
    elif before == "approved":
        unapprove(request)


def unapprove(request: ChangeRequest) -> None:
    """Take back an approval: artifacts fall back to what is live."""
    for item in request.items:
        item.artifact.approved_number = item.artifact.published_number


def void_reviews(request: ChangeRequest) -> int:
    """Void every live verdict on the request; returns how many were voided."""
    count = 0
    for verdict in request_reviews(request):
        if not verdict.voided:
            verdict.voided = True
            count += 1
    return count
