"""How many approvals a change request needs (Setting "required_approvals", default 1).

Changing the number re-settles every open request, so a request that now has enough
approvals is approved at once, and one that no longer has enough goes back to review.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio import audit
from studio.errors import FieldError, NotAllowed, ValidationFailed
from studio.models import ChangeRequest, Setting, User, utcnow
from studio.roles import ADMIN
from studio.services import approvals
from studio.services.review_states import REVIEWABLE_STATUSES

REQUIRED_APPROVALS: Final = "required_approvals"
DEFAULT_REQUIRED_APPROVALS: Final = 1
MAX_REQUIRED_APPROVALS: Final = 5


def required_approvals(session: Session) -> int:
    row = session.get(Setting, REQUIRED_APPROVALS)
    try:
        value = int(row.value) if row is not None else DEFAULT_REQUIRED_APPROVALS
    except (TypeError, ValueError):
        return DEFAULT_REQUIRED_APPROVALS
    return min(max(value, 1), MAX_REQUIRED_APPROVALS)


def set_required_approvals(session: Session, raw: str | int, *, actor: User) -> int:
    """Admins set how many approvals a request needs; open requests are re-settled."""
    if ADMIN not in actor.roles:
        raise NotAllowed("Only admins change review settings.")
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_REQUIRED_APPROVALS:
        raise ValidationFailed(
            [
                FieldError(
                    "required_approvals",
                    f"Enter a whole number from 1 to {MAX_REQUIRED_APPROVALS}.",
                )
            ]
        )
    row = session.get(Setting, REQUIRED_APPROVALS)
    before = required_approvals(session)
    if row is None:
        row = Setting(key=REQUIRED_APPROVALS, value=value, updated_by=actor.id)
        session.add(row)
    else:
        row.value = value
        row.updated_by = actor.id
        row.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        "settings.change",
        actor_id=actor.id,
        object_type="setting",
        object_id=REQUIRED_APPROVALS,
        before=before,
        after=value,
    )
    for request in session.scalars(
        select(ChangeRequest).where(ChangeRequest.status.in_(REVIEWABLE_STATUSES))
    ):
        approvals.settle(session, request, required=value, actor_id=actor.id)
    return value
