"""Demo: the workspace contact policy (a cap, a suppression, a per-channel limit, ranking)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from studio.models import User
from studio.services import artifacts, contact_policy

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "contact_policy.policy"

SEED_ORDER = 35


def seed(session: Session, people: dict[str, User]) -> list[str]:
    if artifacts.find(session, contact_policy.KIND, contact_policy.KEY) is not None:
        return []
    author = people.get("sam@demo.studio")
    artifacts.create(
        session,
        kind=contact_policy.KIND,
        key=contact_policy.KEY,
        name=contact_policy.NAME,
        body={"source": SOURCE.read_text(encoding="utf-8")},
        actor_id=author.id if author else None,
        summary="Demo contact policy",
    )
    return ["contact policy"]
