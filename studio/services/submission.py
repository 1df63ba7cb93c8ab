"""Drafts and change requests: grouping drafts, submitting them, withdrawing them.

An author groups drafts (artifacts whose head is ahead of what was approved) into a
change request and submits it; each item is pinned to the revision submitted and
compared against the approved one. An artifact is in at most one open request, so
approvals never compete.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from studio import audit
from studio.errors import FieldError, NotAllowed, ValidationFailed
from studio.models import Artifact, ChangeRequest, ChangeRequestItem, User, utcnow
from studio.roles import REVIEWER
from studio.services import approvals, notifications
from studio.services.permissions import editable_kinds
from studio.services.review_states import OPEN_STATUSES, STATUS_LABELS

MAX_TITLE: Final = 200
MAX_DESCRIPTION: Final = 10_000


def _open_item_artifacts(session: Session) -> set[int]:
    return set(
        session.scalars(
            select(ChangeRequestItem.artifact_id)
            .join(ChangeRequest)
            .where(ChangeRequest.status.in_(OPEN_STATUSES))
        )
    )


def pending_drafts(session: Session, user: User) -> list[Artifact]:
    """Artifacts this person may submit: ahead of their approved revision, not in review."""
    kinds = editable_kinds(user.roles)
    if not kinds:
        return []
    busy = _open_item_artifacts(session)
    candidates = session.scalars(
        select(Artifact)
        .where(
            Artifact.kind.in_(sorted(kinds)),
            or_(
                Artifact.approved_number.is_(None), Artifact.approved_number != Artifact.head_number
            ),
        )
        .order_by(Artifact.updated_at.desc(), Artifact.id)
    )
    return [a for a in candidates if a.id not in busy]


def open_request_for(session: Session, artifact_id: int) -> ChangeRequest | None:
    return session.scalar(
        select(ChangeRequest)
        .join(ChangeRequestItem)
        .where(
            ChangeRequestItem.artifact_id == artifact_id, ChangeRequest.status.in_(OPEN_STATUSES)
        )
    )


def submit(
    session: Session,
    *,
    author: User,
    title: str,
    description: str,
    artifact_ids: Iterable[int | str],
) -> ChangeRequest:
    """Create a change request from drafts and put it in front of reviewers."""
    problem = notifications.header_text_problem(title)
    title = " ".join(title.split())
    description = description.strip()
    errors: list[FieldError] = []
    if problem is not None:
        errors.append(FieldError("title", f"The title becomes the subject of email. {problem}"))
    elif not title:
        errors.append(FieldError("title", "Give the change a title reviewers will recognise."))
    elif len(title) > MAX_TITLE:
        errors.append(FieldError("title", f"Keep the title under {MAX_TITLE} characters."))
    if len(description) > MAX_DESCRIPTION:
        errors.append(
            FieldError("description", f"Keep the description under {MAX_DESCRIPTION:,} characters.")
        )
    ids: list[int] = []
    for raw in artifact_ids:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            errors.append(FieldError("artifacts", "That selection was not understood."))
    allowed = {a.id: a for a in pending_drafts(session, author)}
    chosen = [allowed[i] for i in dict.fromkeys(ids) if i in allowed]
    if not ids:
        errors.append(FieldError("artifacts", "Choose at least one draft to submit."))
    elif len(chosen) != len(set(ids)):
        errors.append(
            FieldError(
                "artifacts",
                "Some of those drafts are not yours to submit, "
                "or are already in review. Reload the page.",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    request = ChangeRequest(
        title=title,
        description=description,
        author_id=author.id,
        status="in_review",
        submitted_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    for artifact in chosen:
        request.items.append(
            ChangeRequestItem(
                artifact_id=artifact.id,
                revision_number=artifact.head_number,
                base_number=artifact.approved_number,
            )
        )
    session.flush()
    audit.record(
        session,
        "change_request.submit",
        actor_id=author.id,
        object_type="change_request",
        object_id=request.id,
        title=title,
        items=approvals.pins(request),
    )
    notifications.notify(
        session,
        notifications.people_with_roles(session, [REVIEWER]),
        kind="review_requested",
        message=f'{author.name} asks for a review: "{title}".',
        link=f"/reviews/{request.id}",
        exclude=author.id,
    )
    return request


def withdraw(session: Session, request: ChangeRequest, *, actor: User) -> None:
    """The author takes the request back; its drafts are free to resubmit."""
    if actor.id != request.author_id:
        raise NotAllowed("Only the author withdraws a change request.")
    if request.status not in OPEN_STATUSES:
        raise ValidationFailed(
            [
                FieldError(
                    "status", f"This request is already {STATUS_LABELS[request.status].lower()}."
                )
            ]
        )
    was_approved = request.status == "approved"
    approvals.void_reviews(request)
    request.status = "withdrawn"
    request.updated_at = utcnow()
    if was_approved:
        approvals.unapprove(request)
    audit.record(
        session,
        "change_request.withdraw",
        actor_id=actor.id,
        object_type="change_request",
        object_id=request.id,
    )
