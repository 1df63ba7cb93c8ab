"""People and sign-in: creating accounts, checking passwords, locking out guessers."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from studio import audit
from studio.config import DEFAULT_PASSWORD_HASH
from studio.errors import FieldError, ValidationFailed
from studio.models import User, UserRole
from studio.roles import ROLES
from studio.services.notifications import header_text_problem
from studio.services.pagination import Page, clamp

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,188}\.[^@\s]{2,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
MAX_NAME = 120
MAX_EMAIL = 254

_hash_method = DEFAULT_PASSWORD_HASH


def use_password_hash(method: str) -> None:
    """Hash new passwords with `method` (the app factory passes `Settings.password_hash_method`,
    which is the scrypt default everywhere except in test apps)."""
    global _hash_method
    _hash_method = method


def hash_password(password: str) -> str:
    return generate_password_hash(password, _hash_method)


@functools.cache
def _dummy_hash(method: str) -> str:
    """A real hash to compare against when the email is unknown, so a wrong email costs the
    same time as a wrong password and does not reveal which accounts exist."""
    return generate_password_hash("not-a-real-password-0000", method)


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    error: str | None = None


def normalize_email(email: str) -> str:
    return email.strip().lower()


def validate_new_user(
    session: Session, email: str, name: str, password: str, roles: list[str]
) -> list[FieldError]:
    errors: list[FieldError] = []
    email = normalize_email(email)
    if not email:
        errors.append(FieldError("email", "Enter an email address."))
    elif len(email) > MAX_EMAIL or not EMAIL_RE.match(email):
        errors.append(FieldError("email", "Enter a valid email address, like ana@example.com."))
    elif session.scalar(select(User.id).where(User.email == email)) is not None:
        errors.append(FieldError("email", f"Someone already has the email {email}."))
    name = name.strip()
    if not name:
        errors.append(FieldError("name", "Enter the person's name."))
    elif len(name) > MAX_NAME:
        errors.append(FieldError("name", f"Keep the name under {MAX_NAME} characters."))
    elif (problem := header_text_problem(name)) is not None:
        errors.append(FieldError("name", f"The name is used in email headers. {problem}"))
    errors.extend(password_errors(password))
    errors.extend(role_errors(roles))
    return errors


def password_errors(password: str) -> list[FieldError]:
    if len(password) < MIN_PASSWORD:
        return [FieldError("password", f"Use at least {MIN_PASSWORD} characters.")]
    if len(password) > MAX_PASSWORD:
        return [FieldError("password", f"Use at most {MAX_PASSWORD} characters.")]
    return []


def role_errors(roles: list[str]) -> list[FieldError]:
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        return [FieldError("roles", f"Unknown role: {', '.join(unknown)}.")]
    return []


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    roles: list[str],
    actor_id: int | None,
) -> User:
    """Create an account or raise ValidationFailed with every problem at once."""
    errors = validate_new_user(session, email, name, password, roles)
    if errors:
        raise ValidationFailed(errors)
    user = User(
        email=normalize_email(email),
        name=name.strip(),
        password_hash=hash_password(password),
        active=True,
        failed_logins=0,
    )
    user.role_rows = [UserRole(role=role) for role in sorted(set(roles))]
    session.add(user)
    session.flush()
    audit.record(
        session,
        "user.create",
        actor_id=actor_id,
        object_type="user",
        object_id=user.id,
        email=user.email,
        roles=sorted(set(roles)),
    )
    return user


def sign_in(
    session: Session,
    email: str,
    password: str,
    *,
    max_failures: int,
    lockout: timedelta,
    now: datetime | None = None,
) -> SignInResult:
    """Check a password, counting failures and locking the account after too many."""
    now = now or datetime.now(UTC)
    generic = "That email and password do not match an active account."
    if len(password) > MAX_PASSWORD or len(email) > MAX_EMAIL:
        return SignInResult(None, generic)
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.active:
        check_password_hash(_dummy_hash(_hash_method), password)
        return SignInResult(None, generic)
    locked_until = _aware(user.locked_until)
    if locked_until is not None and locked_until > now:
        minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
        return SignInResult(None, f"Too many failed sign-ins. Try again in {minutes} minute(s).")
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        detail: dict[str, int | str] = {"failures": user.failed_logins}
        if user.failed_logins >= max_failures:
            user.locked_until = now + lockout
            user.failed_logins = 0
            detail["locked_until"] = user.locked_until.isoformat()
        audit.record(
            session,
            "auth.sign_in_failed",
            actor_id=user.id,
            object_type="user",
            object_id=user.id,
            **detail,
        )
        return SignInResult(None, generic)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record(session, "auth.sign_in", actor_id=user.id, object_type="user", object_id=user.id)
    return SignInResult(user)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def set_roles(session: Session, user: User, roles: list[str], *, actor_id: int) -> None:
    errors = role_errors(roles)
    if user.id == actor_id and "admin" not in roles:
        errors.append(FieldError("roles", "You cannot take the admin role from yourself."))
    if errors:
        raise ValidationFailed(errors)
    wanted = sorted(set(roles))
    before = sorted(user.roles)
    user.role_rows = [row for row in user.role_rows if row.role in wanted]
    for role in wanted:
        if role not in user.roles:
            user.role_rows.append(UserRole(role=role))
    audit.record(
        session,
        "user.roles",
        actor_id=actor_id,
        object_type="user",
        object_id=user.id,
        before=before,
        after=wanted,
    )


def end_sessions(user: User) -> None:
    """Make every session cookie issued to `user` so far stop working (checked per request)."""
    user.session_version = (user.session_version or 1) + 1


def set_password(session: Session, user: User, password: str, *, actor_id: int | None) -> None:
    """Give `user` a new password and end their sessions, or raise `ValidationFailed`."""
    errors = password_errors(password)
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = generate_password_hash(password)
    user.failed_logins = 0
    user.locked_until = None
    end_sessions(user)
    audit.record(session, "user.password", actor_id=actor_id, object_type="user", object_id=user.id)


def set_active(session: Session, user: User, active: bool, *, actor_id: int) -> None:
    if user.id == actor_id and not active:
        raise ValidationFailed([FieldError("active", "You cannot deactivate your own account.")])
    user.active = active
    if not active:
        end_sessions(user)
    if active:
        user.failed_logins = 0
        user.locked_until = None
    audit.record(
        session,
        "user.activate" if active else "user.deactivate",
        actor_id=actor_id,
        object_type="user",
        object_id=user.id,
    )


def search_users(
    session: Session, query: str = "", page: int = 1, per_page: int = 25
) -> Page[User]:
    stmt = select(User)
    query = query.strip()[:100]
    if query:
        # `%` and `_` are searched for as typed, not as LIKE's wildcards.
        needle = query.lower()
        stmt = stmt.where(
            or_(
                func.lower(User.email).contains(needle, autoescape=True),
                func.lower(User.name).contains(needle, autoescape=True),
            )
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = clamp(page, total=total, per_page=per_page)
    items = list(
        session.scalars(
            stmt.order_by(User.name, User.id).offset((page - 1) * per_page).limit(per_page)
        )
    )
    return Page(items=items, page=page, per_page=per_page, total=total)
