"""API tokens for downstream systems: issued by an admin, shown once, stored hashed.

A token is a random secret with a short readable prefix (`pst_ab12cd34…`). Only its
sha256 is stored, so a database leak does not leak working tokens; the prefix is kept
in clear so people can tell tokens apart in the admin list and in logs. Each token
carries scopes (what it may do), a last-used time (so stale tokens can be spotted and
revoked), and a revocation time (tokens are revoked, never deleted, for the audit trail).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio import audit
from studio.errors import FieldError, ValidationFailed
from studio.models import ApiToken, User

SCOPES: Final = ("bundles:read", "decide", "events:write", "messages:write", "interactions:write")
#: What a new token's form offers ticked: `interactions:write` (adding to the interaction
#: history) is opt-in, given only to the systems that should write history.
DEFAULT_SCOPES: Final = ("bundles:read", "decide", "events:write", "messages:write")
SCOPE_LABELS: Final = {
    "bundles:read": "Fetch signed bundles and public keys",
    "decide": "Ask the studio for decisions",
    "events:write": "Send feedback events and report decisions",
    "messages:write": "Open customer messages (the /m/<token> page)",
    "interactions:write": "Send interactions to the history (checked and stored like an import)",
}
TOKEN_PREFIX: Final = "pst_"
PREFIX_LENGTH: Final = 12
MAX_NAME: Final = 120
#: How stale `last_used_at` may get: it is written at most this often per token.
LAST_USED_RESOLUTION: Final = timedelta(seconds=60)


@dataclass(frozen=True)
class TokenSummary:
    """What the admin pages show about a token: never the secret, never its hash."""

    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class IssuedToken:
    """A new token: `secret` is the only copy of the token and is shown exactly once."""

    summary: TokenSummary
    secret: str


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _summary(token: ApiToken, creator: str) -> TokenSummary:
    return TokenSummary(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        scopes=tuple(s for s in SCOPES if s in (token.scopes or [])),
        created_at=token.created_at,
        created_by=creator,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def validate(name: str, scopes: Iterable[str]) -> list[FieldError]:
    errors = []
    name = name.strip()
    if not name:
        errors.append(
            FieldError(
                "name",
                "Name the system that will use this token, e.g. 'Email responder (production)'.",
            )
        )
    elif len(name) > MAX_NAME:
        errors.append(FieldError("name", f"Keep the name under {MAX_NAME} characters."))
    scopes = list(scopes)
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        errors.append(FieldError("scopes", f"'{unknown[0]}' is not a scope."))
    elif not scopes:
        errors.append(FieldError("scopes", "Choose at least one thing this token may do."))
    return errors


def create(
    session: Session, *, name: str, scopes: Iterable[str], actor_id: int | None
) -> IssuedToken:
    """Issue a token (flushed, not committed); raise `ValidationFailed` if refused."""
    scopes = list(dict.fromkeys(scopes))
    errors = validate(name, scopes)
    if errors:
        raise ValidationFailed(errors)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name.strip(),
        token_hash=hash_token(secret),
        prefix=secret[:PREFIX_LENGTH],
        scopes=[s for s in SCOPES if s in scopes],
        created_by=actor_id,
        created_at=datetime.now(UTC),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        "api_token.create",
        actor_id=actor_id,
        object_type="api_token",
        object_id=token.id,
        name=token.name,
        prefix=token.prefix,
        scopes=token.scopes,
    )
    return IssuedToken(_summary(token, _creator_name(session, actor_id)), secret)


def revoke(session: Session, token_id: int, *, actor_id: int | None) -> TokenSummary | None:
    """Revoke a token (idempotent); None when there is no such token."""
    token = session.get(ApiToken, token_id)
    if token is None:
        return None
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        audit.record(
            session,
            "api_token.revoke",
            actor_id=actor_id,
            object_type="api_token",
            object_id=token.id,
            name=token.name,
            prefix=token.prefix,
        )
        session.flush()
    return _summary(token, _creator_name(session, token.created_by))


def get(session: Session, token_id: int) -> TokenSummary | None:
    token = session.get(ApiToken, token_id)
    return _summary(token, _creator_name(session, token.created_by)) if token else None


def listing(session: Session) -> list[TokenSummary]:
    """Active tokens first, newest first within each group."""
    rows = session.execute(
        select(ApiToken, User.name)
        .outerjoin(User, User.id == ApiToken.created_by)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    return [_summary(token, creator or "") for token, creator in rows]


@dataclass(frozen=True)
class Credential:
    """What an API request may do, as found from its token's hash."""

    token_id: int
    name: str
    scopes: frozenset[str]
    active: bool


def find(session: Session, token_hash: str, *, now: datetime | None = None) -> Credential | None:
    """Look a presented token up by hash and note that it was used (at most once a minute).

    The last-used write shares the request's transaction; callers commit it.
    """
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
    if token is None:
        return None
    active = token.revoked_at is None
    now = now or datetime.now(UTC)
    last = _aware(token.last_used_at)
    if active and (last is None or now - last >= LAST_USED_RESOLUTION):
        token.last_used_at = now
    return Credential(token.id, token.name, frozenset(token.scopes or ()), active)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were written in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _creator_name(session: Session, user_id: int | None) -> str:
    if user_id is None:
        return ""
    return session.scalar(select(User.name).where(User.id == user_id)) or ""
