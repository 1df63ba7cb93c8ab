"""Append-only audit trail. Every state-changing service records what happened here."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from studio.models import AuditEvent


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None,
    object_type: str = "",
    object_id: str | int = "",
    **detail: Any,
) -> AuditEvent:
    """Add an audit event to the session; it is committed with the change it describes."""
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        detail=detail,
    )
    session.add(event)
    return event
