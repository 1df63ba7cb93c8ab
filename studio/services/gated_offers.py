"""The studio's resolution-gated offers: the `gated_offers` table behind `DatabaseHistory`.

`/api/v1/decide` decides with `DatabaseHistory` (`studio.services.contact_history`), whose
`pending_offers` / `put_pending` land here: a gated follow-up leaves a row, a later
decision for the same customer settles it (`bundle.gating`). A state changes only from
the one the decider read (an UPDATE guarded by the old status), so two workers never
release the same offer twice. Semantics: docs/rules.md ("Resolution-gated offers").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bundle.pending import MAX_PENDING, OPEN, PendingOffer, PendingStatus
from studio.models import GatedOffer


def _when(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def _seconds(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def open_offers(session: Session, customer_id: str) -> list[PendingOffer]:
    """The customer's open gated offers, oldest first.

    Read with one plain statement on the driver's cursor: every `/api/v1/decide` asks,
    and most customers have none, so building an ORM query cost more than the answer."""
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    cursor = connection.connection.cursor()
    try:
        cursor.execute(
            _OPEN_SQL.replace("?", "%s") if postgres else _OPEN_SQL,
            (customer_id, *OPEN, MAX_PENDING),
        )
        found = cursor.fetchall()
    finally:
        cursor.close()
    return [_from_columns(row, postgres) for row in found]


_COLUMNS: Final = (
    "id",
    "customer_id",
    "thread",
    "offer_key",
    "ruleset",
    "rule",
    "decision_id",
    "created_at",
    "deadline",
    "infer",
    "status",
    "reason",
    "settled_by",
)
_OPEN_SQL: Final = (
    f"SELECT {', '.join(_COLUMNS)} FROM gated_offers WHERE customer_id = ? "
    "AND status IN (?, ?) ORDER BY created_at, id LIMIT ?"
)


def _from_columns(row: tuple[Any, ...], postgres: bool) -> PendingOffer:
    values = dict(zip(_COLUMNS, row, strict=True))
    created, deadline = values["created_at"], values["deadline"]
    if not postgres:  # SQLite holds the times as the text SQLAlchemy wrote
        created, deadline = datetime.fromisoformat(created), datetime.fromisoformat(deadline)
    return PendingOffer.from_dict(
        {
            "id": values["id"],
            "customer_id": values["customer_id"],
            "thread": values["thread"],
            "offer": values["offer_key"],
            "ruleset": values["ruleset"],
            "rule": values["rule"],
            "decision_id": values["decision_id"],
            "created": _seconds(created),
            "deadline": _seconds(deadline),
            "infer": bool(values["infer"]),
            "status": values["status"],
            "reason": values["reason"],
            "settled_by": values["settled_by"],
        }
    )


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
