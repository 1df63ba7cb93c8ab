"""Reading the audit log: filter by person, object and time, a page at a time.

Writing stays in `studio.audit.record`; this module only reads. The studio offers no
way to edit or delete an entry: there is no such service function and no such route.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from studio.errors import FieldError, ValidationFailed
from studio.models import AuditEvent, User
from studio.services.pagination import Page, clamp


@dataclass(frozen=True)
class Filters:
    """What the audit page was asked for, already checked."""

    person: int | None = None
    object: str = ""
    action: str = ""
    since: date | None = None
    until: date | None = None

    def as_args(self) -> dict[str, str]:
        args = {
            "person": str(self.person) if self.person else "",
            "object": self.object,
            "action": self.action,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {k: v for k, v in args.items() if v}


def parse_filters(args: dict[str, str]) -> Filters:
    """Filters from query arguments; bad values are refused field by field."""
    errors: list[FieldError] = []
    person = None
    if args.get("person"):
        try:
            person = int(args["person"])
        except ValueError:
            errors.append(FieldError("person", "Choose a person from the list."))
    dates: dict[str, date | None] = {}
    for name in ("since", "until"):
        raw = (args.get(name) or "").strip()
        dates[name] = None
        if raw:
            try:
                dates[name] = date.fromisoformat(raw)
            except ValueError:
                errors.append(FieldError(name, "Use a date like 2026-01-31."))
    if dates["since"] and dates["until"] and dates["until"] < dates["since"]:
        errors.append(FieldError("until", "The end date is before the start date."))
    if errors:
        raise ValidationFailed(errors)
    return Filters(
        person=person,
        object=(args.get("object") or "").strip()[:128],
        action=(args.get("action") or "").strip()[:64],
        since=dates["since"],
        until=dates["until"],
    )


@dataclass(frozen=True)
class EventPage(Page[AuditEvent]):
    actors: dict[int, User] = field(default_factory=dict)


def search(session: Session, filters: Filters, *, page: int = 1, per_page: int = 50) -> EventPage:
    """Entries newest first. `object` matches "type:id", a type, or an id."""
    stmt = select(AuditEvent)
    if filters.person:
        stmt = stmt.where(AuditEvent.actor_id == filters.person)
    if filters.action:
        stmt = stmt.where(AuditEvent.action.startswith(filters.action, autoescape=True))
    if filters.object:
        kind, sep, ident = filters.object.partition(":")
        if sep:
            stmt = stmt.where(AuditEvent.object_type == kind, AuditEvent.object_id == ident)
        else:
            stmt = stmt.where(
                or_(AuditEvent.object_type == kind, AuditEvent.object_id == filters.object)
            )
    if filters.since:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(filters.since, time.min, UTC))
    if filters.until:
        stmt = stmt.where(
            AuditEvent.at < datetime.combine(filters.until + timedelta(days=1), time.min, UTC)
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = clamp(page, total=total, per_page=per_page)
    items = list(
        session.scalars(
            stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    ids = {e.actor_id for e in items if e.actor_id}
    actors = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return EventPage(items, page, per_page, total, actors=actors)


def people(session: Session) -> list[User]:
    """Everyone who appears in the log, for the person filter."""
    ids = select(AuditEvent.actor_id).where(AuditEvent.actor_id.is_not(None)).distinct()
    return list(session.scalars(select(User).where(User.id.in_(ids)).order_by(User.name)))


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
