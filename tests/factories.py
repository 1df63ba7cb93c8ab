"""Test data that reads like the domain: people with roles, signed-in clients."""

from __future__ import annotations

import itertools

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from studio.models import User
from studio.services import accounts

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def make_user(session: Session, *roles: str, email: str | None = None,
              name: str | None = None, active: bool = True) -> User:
    n = next(_counter)
    user = accounts.create_user(
        session,
        email=email or f"person{n}@example.com",
        name=name or f"Person {n}",
        password=PASSWORD,
        roles=list(roles),
        actor_id=None,
    )
    user.active = active
    session.commit()
    return user


CSRF = "test-csrf-token"


def sign_in_as(client: FlaskClient, user: User) -> FlaskClient:
    """Put the person's id and a known CSRF token in the client's session."""
    with client.session_transaction() as flask_session:
        flask_session["uid"] = user.id
        flask_session["sv"] = user.session_version
        flask_session["csrf"] = CSRF
    return client


def post(client: FlaskClient, url: str, data: dict | None = None, **kwargs):  # type: ignore[no-untyped-def]
    """POST a form the way the studio's own pages do: with the CSRF token."""
    data = dict(data or {})
    data.setdefault("csrf_token", CSRF)
    return client.post(url, data=data, **kwargs)
