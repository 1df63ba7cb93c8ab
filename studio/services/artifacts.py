"""Authored artifacts and their immutable revisions, with optimistic concurrency.

Every save writes a new revision numbered one past the head. The caller passes the
head number it started from (`base_number`); if somebody else saved in between, the
save is refused with an `EditConflict` that carries their revision, so the editor can
show both versions and let the person merge by hand. A race that slips past the check
is caught by the database (unique revision numbers, the artifact's version counter).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from studio import audit
from studio.errors import EditConflict, FieldError
from studio.models import ARTIFACT_KINDS, Artifact, Revision, utcnow
from studio.services.pagination import Page, clamp
from studio.services.write_lock import take_workspace_lock

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
MAX_NAME = 200


def key_and_name_errors(
    key: str | None, name: str, *, noun: str, example: str, reserved: frozenset[str] = frozenset()
) -> list[FieldError]:
    """The rules every artifact's key and name follow; `key` None means it is not changing.

    `reserved` lists the keys that would clash with the area's own URLs (new, check, ...).
    """
    errors: list[FieldError] = []
    if key is not None and not KEY_RE.match(key):
        errors.append(
            FieldError(
                "key",
                f"Use 2-64 lowercase letters, digits or _, starting with a letter, like {example}.",
            )
        )
    elif key is not None and key in reserved:
        errors.append(FieldError("key", f"{key} is a reserved word; choose another key."))
    if not name.strip():
        errors.append(FieldError("name", f"Give the {noun} a name."))
    elif len(name) > MAX_NAME:
        errors.append(FieldError("name", f"Keep the name under {MAX_NAME} characters."))
    return errors


def find(session: Session, kind: str, key: str) -> Artifact | None:
    return session.scalar(select(Artifact).where(Artifact.kind == kind, Artifact.key == key))


def create(
    session: Session,
    *,
    kind: str,
    key: str,
    name: str,
    body: dict[str, Any],
    actor_id: int | None,
    summary: str = "Created",
) -> Artifact:
    """Create an artifact with its first revision. The caller has validated `body`."""
    if kind not in ARTIFACT_KINDS:
        raise ValueError(f"unknown artifact kind {kind!r}")
    artifact = Artifact(kind=kind, key=key, name=name, owner_id=actor_id, head_number=1)
    session.add(artifact)
    session.flush()
    session.add(
        Revision(
            artifact_id=artifact.id,
            number=1,
            body=body,
            summary=summary[:200],
            author_id=actor_id,
            name=name,
        )
    )
    session.flush()
    audit.record(
        session, f"{kind}.create", actor_id=actor_id, object_type=kind, object_id=key, revision=1
    )
    return artifact


def save(
    session: Session,
    artifact: Artifact,
    *,
    body: dict[str, Any],
    base_number: int,
    actor_id: int | None,
    name: str | None = None,
    summary: str = "",
    archived: bool | None = None,
) -> Revision:
    """Write the next revision, or raise EditConflict if `base_number` is not the head.

    The revision records the artifact's name and archived state, so a rename or an
    archiving is reviewed and published with the revision that carries it.
    """
    take_workspace_lock(session)
    if base_number != artifact.head_number:
        raise EditConflict(artifact, base_number, head(session, artifact))
    number = artifact.head_number + 1
    if name is not None:
        artifact.name = name
    revision = Revision(
        artifact_id=artifact.id,
        number=number,
        body=body,
        summary=summary[:200],
        author_id=actor_id,
        name=artifact.name,
        archived=artifact.archived if archived is None else archived,
    )
    artifact.head_number = number
    artifact.updated_at = utcnow()
    session.add(revision)
    try:
        session.flush()
    except (IntegrityError, StaleDataError) as race:
        session.rollback()
        fresh = session.get(Artifact, artifact.id)
        assert fresh is not None
        raise EditConflict(fresh, base_number, head(session, fresh)) from race
    audit.record(
        session,
        f"{artifact.kind}.edit",
        actor_id=actor_id,
        object_type=artifact.kind,
        object_id=artifact.key,
        revision=number,
    )
    return revision


def head(session: Session, artifact: Artifact) -> Revision:
    found = revision(session, artifact, artifact.head_number)
    assert found is not None, f"artifact {artifact.id} has no head revision"
    return found


def revision(session: Session, artifact: Artifact, number: int) -> Revision | None:
    return session.scalar(
        select(Revision).where(Revision.artifact_id == artifact.id, Revision.number == number)
    )


def history(session: Session, artifact: Artifact) -> list[Revision]:
    return list(
        session.scalars(
            select(Revision)
            .where(Revision.artifact_id == artifact.id)
            .order_by(Revision.number.desc())
        )
    )


def set_archived(
    session: Session, artifact: Artifact, archived: bool, *, actor_id: int | None
) -> Revision:
    """Archive or restore as a new revision, so the change is reviewed before it goes live.

    The artifact leaves the studio's lists at once; it leaves the published bundle only
    when a reviewer approves the archiving revision and it is published.
    """
    revision = save(
        session,
        artifact,
        body=dict(head(session, artifact).body),
        base_number=artifact.head_number,
        actor_id=actor_id,
        summary="Archived" if archived else "Restored from the archive",
        archived=archived,
    )
    artifact.archived = archived
    audit.record(
        session,
        f"{artifact.kind}.{'archive' if archived else 'restore'}",
        actor_id=actor_id,
        object_type=artifact.kind,
        object_id=artifact.key,
        revision=revision.number,
    )
    return revision


def listing(
    session: Session,
    kind: str,
    *,
    query: str = "",
    archived: bool | None = False,
    page: int = 1,
    per_page: int = 25,
) -> Page[Artifact]:
    """A page of artifacts of one kind, searched by key or name."""
    stmt = select(Artifact).where(Artifact.kind == kind)
    if archived is not None:
        stmt = stmt.where(Artifact.archived == archived)
    query = query.strip()[:100]
    if query:
        # `%` and `_` are searched for as typed, not as LIKE's wildcards.
        needle = query.lower()
        stmt = stmt.where(
            or_(
                func.lower(Artifact.key).contains(needle, autoescape=True),
                func.lower(Artifact.name).contains(needle, autoescape=True),
            )
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = clamp(page, total=total, per_page=per_page)
    items = list(
        session.scalars(
            stmt.order_by(Artifact.name, Artifact.id).offset((page - 1) * per_page).limit(per_page)
        )
    )
    return Page(items=items, page=page, per_page=per_page, total=total)


def body_text(body: Mapping[str, Any]) -> str:
    """A revision body as reviewable text: the source for rulesets and layouts (what people
    wrote, not the compiled HTML derived from it), else the body as sorted JSON."""
    if isinstance(body.get("source"), str):
        return body["source"]
    return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def unified_diff(
    before: dict[str, Any] | None, after: dict[str, Any], *, before_label: str, after_label: str
) -> list[str]:
    """Line diff between two revision bodies (an empty `before` for a new artifact)."""
    old = body_text(before).splitlines() if before is not None else []
    new = body_text(after).splitlines()
    return list(difflib.unified_diff(old, new, before_label, after_label, lineterm=""))
