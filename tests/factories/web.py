"""Acting through the studio's pages: a signed-in client and CSRF-carrying form posts."""

from __future__ import annotations

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from studio.models import User

CSRF = "test-csrf-token"


def sign_in_as(client: FlaskClient, user: User) -> FlaskClient:
    """Put the person's id and a known CSRF token in the client's session."""
    with client.session_transaction() as flask_session:
        flask_session["uid"] = user.id
        flask_session["sv"] = user.session_version
        flask_session["csrf"] = CSRF
    return client


def post(client: FlaskClient, url: str, data: dict | None = None, **kwargs: object) -> TestResponse:
    """POST a form the way the studio's own pages do: with the CSRF token."""
    data = dict(data or {})
    data.setdefault("csrf_token", CSRF)
    return client.post(url, data=data, **kwargs)
