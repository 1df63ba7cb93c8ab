"""What reviewers say: comments on a request or one line of its diff, and verdicts.

A verdict (approve, or request changes) is given on exactly the revisions the reviewer
saw: the form carries their pins back, and a stale form is refused. Each verdict
re-settles the request (`approvals.settle`).
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.orm import Session

from studio import audit
from studio.errors import FieldError, NotAllowed, ValidationFailed
from studio.models import ChangeRequest, Comment, Review, User
from studio.services import approvals, notifications
from studio.services.permissions import review_refusal
from studio.services.review_settings import required_approvals
from studio.services.review_states import VERDICTS
from studio.services.write_lock import take_workspace_lock

MAX_COMMENT: Final = 5_000


def comment(
    session: Session,
    request: ChangeRequest,
    *,
    author: User,
    body: str,
    artifact_id: int | str | None = None,
    line: int | str | None = None,
) -> Comment:
    """A comment on the whole request, or on one line of one item's diff."""
    body = body.strip()
    errors: list[FieldError] = []
    if not body:
        errors.append(FieldError("body", "Write a comment first."))
    elif len(body) > MAX_COMMENT:
        errors.append(FieldError("body", f"Keep comments under {MAX_COMMENT:,} characters."))
    target: int | None = None
    number: int | None = None
    if artifact_id not in (None, ""):
        try:
            target = int(artifact_id)
        except (TypeError, ValueError):
            target = -1
        if target not in {item.artifact_id for item in request.items}:
            errors.append(FieldError("artifact_id", "That item is not part of this request."))
    if line not in (None, ""):
        try:
            number = int(line)
        except (TypeError, ValueError):
            number = 0
        if number < 1 or target is None:
            errors.append(FieldError("line", "Comment on a line of one of the items."))
    if errors:
        raise ValidationFailed(errors)
    note = Comment(
        change_request_id=request.id,
        author_id=author.id,
        body=body,
        artifact_id=target,
        line=number,
    )
    session.add(note)
    session.flush()
    audit.record(
        session,
        "change_request.comment",
        actor_id=author.id,
        object_type="change_request",
        object_id=request.id,
        comment=note.id,
        artifact_id=target,
        line=number,
    )
    notifications.notify(
        session,
        [request.author],
        kind="comment",
        message=f'{author.name} commented on "{request.title}".',
        link=f"/reviews/{request.id}",
        exclude=author.id,
    )
    return note


def review(
    session: Session, request: ChangeRequest, *, reviewer: User, verdict: str, body: str, seen: str
) -> Review:
    """Approve or request changes on exactly the revisions the reviewer saw (`seen`)."""
    take_workspace_lock(session)
    refusal = review_refusal(session, request, reviewer)
    if refusal is not None:
        raise NotAllowed(refusal)
    body = body.strip()
    errors: list[FieldError] = []
    if verdict not in VERDICTS:
        errors.append(FieldError("verdict", "Choose approve or request changes."))
    if verdict == "request_changes" and not body:
        errors.append(FieldError("body", "Say what needs to change."))
    if len(body) > MAX_COMMENT:
        errors.append(FieldError("body", f"Keep it under {MAX_COMMENT:,} characters."))
    if seen != approvals.pins_token(request):
        errors.append(
            FieldError(
                "seen",
                "The change was edited after you opened it. Reload "
                "to see the latest revisions, then review again.",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    for earlier in approvals.active_reviews(session, request):
        if earlier.reviewer_id == reviewer.id:
            earlier.voided = True
    verdict_row = Review(
        change_request_id=request.id,
        reviewer_id=reviewer.id,
        verdict=verdict,
        body=body,
        pinned=approvals.pins(request),
    )
    session.add(verdict_row)
    session.flush()
    audit.record(
        session,
        f"change_request.{verdict}",
        actor_id=reviewer.id,
        object_type="change_request",
        object_id=request.id,
        pinned=approvals.pins(request),
    )
    words = "approved" if verdict == "approve" else "asked for changes to"
    notifications.notify(
        session,
        [request.author],
        kind=verdict,
        message=f'{reviewer.name} {words} "{request.title}".',
        link=f"/reviews/{request.id}",
        exclude=reviewer.id,
    )
    approvals.settle(session, request, required=required_approvals(session), actor_id=reviewer.id)
    return verdict_row
