"""Seed the demo workspace into an already migrated database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.models import User
from studio.roles import ADMIN, MARKETER, REVIEWER, SERVICE_LEAD
from studio.services import accounts

DEMO_PASSWORD = "studio-demo"


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    roles: tuple[str, ...]


DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("mara@demo.studio", "Mara Lopez", (MARKETER,)),
    DemoPerson("sam@demo.studio", "Sam Okafor", (SERVICE_LEAD,)),
    DemoPerson("rita@demo.studio", "Rita Jensen", (REVIEWER,)),
    DemoPerson("alex@demo.studio", "Alex Kim", (ADMIN,)),
    DemoPerson("omar@demo.studio", "Omar Haddad", (MARKETER, REVIEWER)),
)


@dataclass
class SeedReport:
    created: list[str]
    existing: list[str]


def seed_demo(session: Session) -> SeedReport:
    """Create whatever part of the demo workspace is missing; commit once."""
    report = SeedReport(created=[], existing=[])
    for person in DEMO_PEOPLE:
        if session.scalar(select(User.id).where(User.email == person.email)) is not None:
            report.existing.append(person.email)
            continue
        accounts.create_user(
            session,
            email=person.email,
            name=person.name,
            password=DEMO_PASSWORD,
            roles=list(person.roles),
            actor_id=None,
        )
        report.created.append(person.email)
    session.commit()
    return report
