"""Any later edit to an item under review voids every verdict on its request.

A verdict is pinned to the revisions the reviewer saw, so a new revision of an item in
an open request moves the request's pin to it, voids the verdicts and puts the request
back in review (taking back an approval). This runs before every flush of a studio
session, whichever editor made the revision; `register_listeners` attaches it to the
studio's sessionmaker when the database layer is set up (`studio.db.Database`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from studio import audit
from studio.models import ChangeRequest, ChangeRequestItem, Revision, utcnow
from studio.services import approvals
from studio.services.review_states import OPEN_STATUSES, REVIEWABLE_STATUSES


def reopen_after_edit(session: Session, revision: Revision) -> None:
    """Move every open request holding `revision`'s artifact to it, voiding its verdicts."""
    items = session.scalars(
        select(ChangeRequestItem)
        .join(ChangeRequest)
        .where(
            ChangeRequestItem.artifact_id == revision.artifact_id,
            ChangeRequest.status.in_(OPEN_STATUSES),
            ChangeRequestItem.revision_number < revision.number,
        )
    ).all()
    for item in items:
        request = item.change_request
        item.revision_number = revision.number
        voided = approvals.void_reviews(request)
        before = request.status
        if before in REVIEWABLE_STATUSES:
            request.status = "in_review"
        request.updated_at = utcnow()
        if before == "approved":
            approvals.unapprove(request)
        audit.record(
            session,
            "change_request.reopened",
            actor_id=revision.author_id,
            object_type="change_request",
            object_id=request.id,
            artifact=f"{item.artifact.kind}:{item.artifact.key}",
            revision=revision.number,
            voided_reviews=voided,
            was=before,
        )


def _void_on_edit(session: Session, _context: Any, _instances: Any) -> None:
    fresh = [obj for obj in session.new if isinstance(obj, Revision) and obj.number > 1]
    if not fresh:
        return
    with session.no_autoflush:
        for revision in fresh:
            reopen_after_edit(session, revision)


def register_listeners(sessions: sessionmaker[Session]) -> None:
    """Void verdicts on edit in every session `sessions` makes."""
    if not event.contains(sessions, "before_flush", _void_on_edit):
        event.listen(sessions, "before_flush", _void_on_edit)
