"""Demo rulesets: retail banking (the language reference's example) plus the pharmacy,
hotel, and shop-and-magazines policies from the white paper's situations, and the
pharmacy's refill reminders, which overlap the pharmacy's own ruleset on SMS refills
(the matrix, the review and the publish page warn about it)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from studio.models import User
from studio.services import artifacts

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent.parent / "dsl" / "examples"

SEED_ORDER = 30

DEMO_RULESETS: tuple[tuple[str, str, Path], ...] = (
    ("retail_banking", "Retail banking", EXAMPLES / "retail_banking.rules"),
    ("pharmacy", "Pharmacy", HERE / "rules" / "pharmacy.rules"),
    (
        "pharmacy_reminders",
        "Pharmacy refill reminders",
        HERE / "rules" / "pharmacy_reminders.rules",
    ),
    ("hospitality", "Hotel guest services", HERE / "rules" / "hospitality.rules"),
    ("retail_and_media", "Shop and magazines", HERE / "rules" / "retail_and_media.rules"),
)


def seed(session: Session, people: dict[str, User]) -> list[str]:
    author = people.get("sam@demo.studio")
    created = []
    for key, name, path in DEMO_RULESETS:
        if artifacts.find(session, "ruleset", key) is not None:
            continue
        artifacts.create(
            session,
            kind="ruleset",
            key=key,
            name=name,
            body={"source": path.read_text(encoding="utf-8")},
            actor_id=author.id if author else None,
            summary="Demo ruleset",
        )
        created.append(f"ruleset {key}")
    return created
