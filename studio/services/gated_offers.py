"""The studio's resolution-gated offers: the `gated_offers` table behind `DatabaseHistory`.

`/api/v1/decide` decides with `DatabaseHistory` (`studio.services.contact_history`), whose
`pending_offers` / `put_pending` land here: a gated follow-up leaves a row, a later
decision for the same customer settles it (`bundle.gating`). A state changes only from
the one the decider read (an UPDATE guarded by the old status), so two workers never
release the same offer twice. Semantics: docs/rules.md ("Resolution-gated offers").
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bundle.pending import MAX_PENDING, OPEN, PendingOffer, PendingStatus
from studio.models import GatedOffer


def _when(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def _seconds(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def _record(row: GatedOffer) -> PendingOffer:
    return PendingOffer.from_dict(
        {
            "id": row.id,
            "customer_id": row.customer_id,
            "thread": row.thread,
            "offer": row.offer_key,
            "ruleset": row.ruleset,
            "rule": row.rule,
            "decision_id": row.decision_id,
            "created": _seconds(row.created_at),
            "deadline": _seconds(row.deadline),
            "infer": row.infer,
            "status": row.status,
            "reason": row.reason,
            "settled_by": row.settled_by,
        }
    )


def open_offers(session: Session, customer_id: str) -> list[PendingOffer]:
    """The customer's open gated offers, oldest first."""
    rows = session.scalars(
        select(GatedOffer)
        .where(GatedOffer.customer_id == customer_id, GatedOffer.status.in_(OPEN))
        .order_by(GatedOffer.created_at, GatedOffer.id)
        .limit(MAX_PENDING)
    )
    return [_record(row) for row in rows]


def put(session: Session, entry: PendingOffer, was: PendingStatus | None) -> bool:
    """Insert `entry` (``was`` None) or move it from state `was`; whether it happened."""
    if was is not None:
        done = session.execute(
            update(GatedOffer)
            .where(GatedOffer.id == entry.id, GatedOffer.status == was)
            .values(status=entry.status, reason=entry.reason[:300], settled_by=entry.settled_by)
        )
        return bool(getattr(done, "rowcount", 0) == 1)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:c))"), {"c": entry.customer_id}
        )
    open_count = session.scalar(
        select(func.count())
        .select_from(GatedOffer)
        .where(GatedOffer.customer_id == entry.customer_id, GatedOffer.status.in_(OPEN))
    )
    if (open_count or 0) >= MAX_PENDING or session.get(GatedOffer, entry.id) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                GatedOffer(
                    id=entry.id,
                    customer_id=entry.customer_id,
                    thread=entry.thread[:200],
                    offer_key=entry.offer[:64],
                    ruleset=entry.ruleset[:64],
                    rule=entry.rule[:200],
                    decision_id=entry.decision_id[:100],
                    status=entry.status,
                    infer=entry.infer,
                    created_at=_when(entry.created),
                    deadline=_when(entry.deadline),
                    reason="",
                    settled_by="",
                )
            )
    except IntegrityError:
        return False
    return True
