"""Seed the demo workspace into an already migrated database."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from types import ModuleType

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
    """Create whatever part of the demo workspace is missing; commit once.

    People come first; then every other module in `studio.demo` that defines
    `seed(session, people) -> list[str]` adds its part (offers, rules, samples, ...) and
    returns what it created. Each part must skip what already exists. Parts run in the
    order of their `SEED_ORDER` (default 50), so that, say, publishing comes last.
    """
    report = seed_people(session)
    people = {
        user.email: user
        for user in session.scalars(
            select(User).where(User.email.in_([p.email for p in DEMO_PEOPLE]))
        )
    }
    for module in _seed_modules():
        report.created.extend(module.seed(session, people))
        session.flush()
    session.commit()
    return report


def seed_people(session: Session) -> SeedReport:
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
    session.flush()
    return report


def _seed_modules() -> list[ModuleType]:
    import studio.demo as package

    modules: list[ModuleType] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name == "seed" or info.ispkg:
            continue
        module = importlib.import_module(f"studio.demo.{info.name}")
        if callable(getattr(module, "seed", None)):
            modules.append(module)
    return sorted(modules, key=lambda m: (getattr(m, "SEED_ORDER", 50), m.__name__))
