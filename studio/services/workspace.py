"""A frozen, plain-data view of everything authored, at head or at its approved state.

Preview renders what people are editing now (`which="head"`); publishing compiles what
reviewers approved (`which="approved"`). Both read the same shape, copied out of the
database so that nothing downstream can touch an ORM object or lazy-load mid-render.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from studio.models import Artifact, Revision

Which = Literal["head", "approved"]

SCHEMA_KEY = "interaction"
LEXICON_KEY = "tone"
POLICY_KEY = "contact"


@dataclass(frozen=True)
class Entry:
    """One artifact at one revision."""

    kind: str
    key: str
    name: str
    number: int
    archived: bool
    body: Mapping[str, Any]


@dataclass(frozen=True)
class Workspace:
    """Offers, layouts, rulesets, schema and lexicon at one point of the review flow.

    `entries` maps "kind:key" to the chosen revision; `unavailable` lists artifacts that
    exist but have no revision of the requested state (never approved, for "approved").
    """

    which: Which
    entries: Mapping[str, Entry]
    unavailable: Mapping[str, str] = field(default_factory=dict)

    def of_kind(self, kind: str) -> dict[str, Entry]:
        return {e.key: e for e in self.entries.values() if e.kind == kind}

    @property
    def offers(self) -> dict[str, dict[str, Any]]:
        return {k: dict(e.body) for k, e in self.of_kind("offer").items() if not e.archived}

    @property
    def layouts(self) -> dict[str, dict[str, Any]]:
        return {k: dict(e.body) for k, e in self.of_kind("layout").items() if not e.archived}

    @property
    def rulesets(self) -> dict[str, dict[str, Any]]:
        return {
            k: {"key": k, "name": e.name, "source": e.body.get("source", "")}
            for k, e in self.of_kind("ruleset").items()
            if not e.archived
        }

    @property
    def schema(self) -> dict[str, Any] | None:
        entry = self.entries.get(f"schema:{SCHEMA_KEY}")
        return dict(entry.body) if entry else None

    @property
    def lexicon(self) -> dict[str, Any] | None:
        entry = self.entries.get(f"lexicon:{LEXICON_KEY}")
        return dict(entry.body) if entry else None

    @property
    def policy(self) -> dict[str, Any] | None:
        """The workspace contact policy's body (``{"source": ...}``), if there is one."""
        entry = self.entries.get(f"policy:{POLICY_KEY}")
        return dict(entry.body) if entry and not entry.archived else None

    @property
    def revisions(self) -> dict[str, int]:
        """Which revision of each shipped artifact this view holds ("offer:key" -> n)."""
        return {ref: e.number for ref, e in sorted(self.entries.items()) if not e.archived}


def ref(kind: str, key: str) -> str:
    return f"{kind}:{key}"


def _frozen(value: Any) -> Any:
    """A deep, read-only copy (dicts become mapping proxies, lists tuples)."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return copy.copy(value)


def thaw(value: Any) -> Any:
    """A plain, mutable deep copy of a frozen value (for JSON or for editing)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(v) for v in value]
    return value


def snapshot(
    session: Session, *, which: Which = "head", live_only: Collection[int] = ()
) -> Workspace:
    """Read every artifact at its head or approved revision in one query.

    `live_only` names artifacts (by id) read at their published revision instead of
    their approved one: those of change requests a publish holds back.
    """
    if which not in ("head", "approved"):
        raise ValueError(f"unknown workspace state {which!r}")
    number: Any = Artifact.head_number if which == "head" else Artifact.approved_number
    held = sorted(live_only) if which == "approved" else []
    if held:
        number = case(
            (Artifact.id.in_(held), Artifact.published_number), else_=Artifact.approved_number
        )
    rows = session.execute(
        select(
            Artifact.kind,
            Artifact.key,
            func.coalesce(Revision.name, Artifact.name),
            Revision.archived,
            Revision.number,
            Revision.body,
        )
        .join(Revision, and_(Revision.artifact_id == Artifact.id, Revision.number == number))
        .order_by(Artifact.kind, Artifact.key)
    ).all()
    entries = {
        ref(kind, key): Entry(kind, key, name, n, archived, _frozen(body))
        for kind, key, name, archived, n, body in rows
    }
    unavailable: dict[str, str] = {}
    if which == "approved":
        for kind, key, name in session.execute(
            select(Artifact.kind, Artifact.key, Artifact.name).where(
                (Artifact.approved_number.is_(None))
                | (Artifact.id.in_(held) & Artifact.published_number.is_(None))
            )
        ):
            unavailable[ref(kind, key)] = name
    return Workspace(
        which=which, entries=MappingProxyType(entries), unavailable=MappingProxyType(unavailable)
    )
