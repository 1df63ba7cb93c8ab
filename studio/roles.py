"""Who may use which area of the studio. One table, enforced server-side by `requires`.

Pages check roles on the server; navigation only hides what the server would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

MARKETER = "marketer"
SERVICE_LEAD = "service_lead"
REVIEWER = "reviewer"
ADMIN = "admin"

#: Who reads the raw text of imported interactions (others see every other field).
RAW_TEXT_ROLES: frozenset[str] = frozenset({SERVICE_LEAD, ADMIN})

ROLES: tuple[str, ...] = (MARKETER, SERVICE_LEAD, REVIEWER, ADMIN)

ROLE_LABELS: dict[str, str] = {
    MARKETER: "Marketer",
    SERVICE_LEAD: "Service lead",
    REVIEWER: "Reviewer",
    ADMIN: "Admin",
}


@dataclass(frozen=True)
class Area:
    key: str
    label: str
    endpoint: str
    roles: frozenset[str]
    blurb: str


AREAS: tuple[Area, ...] = (
    Area(
        "offers",
        "Offers",
        "offers.index",
        frozenset({MARKETER}),
        "What to offer: the offer library, its content and eligibility.",
    ),
    Area(
        "layouts",
        "Layouts",
        "layouts.index",
        frozenset({MARKETER}),
        "Channel templates that carry an offer: email, message center.",
    ),
    Area(
        "surveys",
        "Surveys",
        "survey_library.index",
        frozenset({MARKETER}),
        "Narrow-cast surveys: a few questions asked of a small group, reviewed and "
        "published like an offer.",
    ),
    Area(
        "rules",
        "Rules",
        "rules.index",
        frozenset({SERVICE_LEAD}),
        "When to offer: rulesets written by the service team.",
    ),
    Area(
        "interactions",
        "Sample interactions",
        "interactions.index",
        frozenset({MARKETER, SERVICE_LEAD}),
        "Customer contacts to preview offers and rules against.",
    ),
    Area(
        "history",
        "History",
        "history.index",
        frozenset({MARKETER, SERVICE_LEAD, REVIEWER, ADMIN}),
        "Real customer interactions: import, search, customer timelines, backtests.",
    ),
    Area(
        "reviews",
        "Reviews",
        "reviews.index",
        frozenset({MARKETER, SERVICE_LEAD, REVIEWER}),
        "Change requests waiting for a second pair of eyes.",
    ),
    Area(
        "bundles",
        "Bundles",
        "bundles.index",
        frozenset({REVIEWER, ADMIN}),
        "Published, signed snapshots that downstream systems fetch.",
    ),
    Area(
        "analytics",
        "Analytics",
        "analytics.index",
        frozenset({MARKETER, SERVICE_LEAD, REVIEWER}),
        "How offers perform: shown, accepted, declined, complaints, NPS.",
    ),
    Area(
        "messages",
        "Messages",
        "messages.index",
        frozenset({SERVICE_LEAD, ADMIN}),
        "Service responses opened for customers at their own link; withdraw one sent by mistake.",
    ),
    Area(
        "audit",
        "Audit log",
        "audit.index",
        frozenset({REVIEWER, ADMIN}),
        "Every sign-in, edit, review, publish and rollback, append-only.",
    ),
    Area(
        "admin",
        "Admin",
        "admin.users",
        frozenset({ADMIN}),
        "People, roles, API tokens and settings.",
    ),
)

AREAS_BY_KEY: dict[str, Area] = {area.key: area for area in AREAS}


def areas_for(roles: frozenset[str]) -> list[Area]:
    return [area for area in AREAS if area.roles & roles]


def may_use(roles: frozenset[str], area_key: str) -> bool:
    return bool(AREAS_BY_KEY[area_key].roles & roles)
