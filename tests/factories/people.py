"""People: the one way a test makes a person (with roles, a password, active or not)."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from studio.models import User, UserRole
from studio.services import accounts

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def make_user(
    session: Session,
    *roles: str,
    email: str | None = None,
    name: str | None = None,
    active: bool = True,
    password: str = PASSWORD,
) -> User:
    """Store a person who can sign in with `password` and commit.

    The row is written directly (test set-up is not a governed action, so it leaves no
    audit entry); the password is hashed by `accounts.hash_password`, which test apps
    make cheap (`PASSWORD_HASH_METHOD`, see tests/factories/apps.py).
    """
    n = next(_counter)
    user = User(
        email=accounts.normalize_email(email or f"person{n}@example.com"),
        name=name or f"Person {n}",
        password_hash=accounts.hash_password(password),
        active=active,
        failed_logins=0,
    )
    user.role_rows = [UserRole(role=role) for role in sorted(set(roles))]
    session.add(user)
    session.commit()
    return user
