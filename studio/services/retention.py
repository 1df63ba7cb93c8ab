"""How long imported interactions are kept: a setting, applied by a daily job.

`history.retention_days` (unset: kept until deleted) is read by the periodic job
`interactions.retention`, which deletes interactions that happened longer ago than that.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from studio import audit
from studio.errors import FieldError, ValidationFailed
from studio.job_registry import job
from studio.models import Interaction, Setting, utcnow
from studio.services import interaction_store

KEY = "history.retention_days"
MAX_DAYS = 36_500


def retention_days(session: Session) -> int | None:
    setting = session.get(Setting, KEY)
    value = setting.value if setting is not None else None
    return value if isinstance(value, int) and value > 0 else None


def set_retention_days(
    session: Session, raw: str | int | None, *, actor_id: int | None
) -> int | None:
    """Set (or clear, with None or "") the retention in days; ValidationFailed if bad."""
    days: int | None
    if raw is None or str(raw).strip() == "":
        days = None
    else:
        try:
            days = int(str(raw).strip())
        except ValueError:
            raise ValidationFailed(
                [
                    FieldError(
                        "retention_days",
                        "Write a whole number of days, like 365, or leave it empty.",
                    )
                ]
            ) from None
        if not 1 <= days <= MAX_DAYS:
            raise ValidationFailed(
                [FieldError("retention_days", f"Keep between 1 and {MAX_DAYS:,} days.")]
            )
    setting = session.get(Setting, KEY)
    if setting is None:
        setting = Setting(key=KEY, value=days)
        session.add(setting)
    setting.value = days
    setting.updated_by = actor_id
    setting.updated_at = utcnow()
    audit.record(
        session,
        "history.retention",
        actor_id=actor_id,
        object_type="setting",
        object_id=KEY,
        days=days,
    )
    session.flush()
    return days


def apply(session: Session, *, now: datetime | None = None) -> int:
    """Delete interactions older than the retention; the number deleted."""
    days = retention_days(session)
    if days is None:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=days)
    deleted = interaction_store.delete_where(session, Interaction.at < cutoff)
    if deleted:
        audit.record(
            session,
            "history.retention.apply",
            actor_id=None,
            object_type="interactions",
            object_id="",
            deleted=deleted,
            days=days,
        )
    return deleted


@job("interactions.retention", periodic="17 3 * * *")
def retention_job(session: Session) -> int:
    return apply(session)
