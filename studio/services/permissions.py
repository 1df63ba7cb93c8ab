"""Who may edit, view and review what: the four-eyes rule in one place.

Nobody reviews their own change: not the request's author, nor anyone who wrote one of
the revisions under review.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.models import ChangeRequest, Revision, User
from studio.roles import ADMIN, MARKETER, REVIEWER, SERVICE_LEAD
from studio.services.review_states import REVIEWABLE_STATUSES, STATUS_LABELS

KIND_EDITORS: Final[dict[str, str]] = {
    "offer": MARKETER,
    "layout": MARKETER,
    "survey": MARKETER,
    "ruleset": SERVICE_LEAD,
    "schema": SERVICE_LEAD,
    "lexicon": SERVICE_LEAD,
    "policy": SERVICE_LEAD,
}
KIND_LABELS: Final = {
    "offer": "Offer",
    "layout": "Layout",
    "ruleset": "Ruleset",
    "schema": "Interaction schema",
    "lexicon": "Tone lexicon",
    "policy": "Contact policy",
    "survey": "Survey",
}


def editable_kinds(roles: Iterable[str]) -> set[str]:
    held = set(roles)
    return {kind for kind, role in KIND_EDITORS.items() if role in held}


def may_view_kind(roles: Iterable[str], kind: str) -> bool:
    held = set(roles)
    return kind in KIND_EDITORS and bool(held & {KIND_EDITORS[kind], REVIEWER, ADMIN})


def authors_of(session: Session, request: ChangeRequest) -> set[int]:
    """Everyone who wrote a revision under review (from the approved base to the pin)."""
    authors = {request.author_id}
    for item in request.items:
        low = item.base_number or 0
        authors.update(
            a
            for a in session.scalars(
                select(Revision.author_id).where(
                    Revision.artifact_id == item.artifact_id,
                    Revision.number > low,
                    Revision.number <= item.revision_number,
                )
            )
            if a is not None
        )
    return authors


def review_refusal(session: Session, request: ChangeRequest, user: User) -> str | None:
    """Why `user` may not give a verdict on `request` now, or None if they may."""
    if REVIEWER not in user.roles:
        return "Only reviewers approve or request changes."
    if user.id in authors_of(session, request):
        return "You cannot review a change you made: ask another reviewer."
    if request.status not in REVIEWABLE_STATUSES:
        return f"This request is {STATUS_LABELS[request.status].lower()}."
    return None
