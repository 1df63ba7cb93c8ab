"""Small request helpers every area's views share."""

from __future__ import annotations

from flask import abort, request
from sqlalchemy.orm import Session

from studio import security
from studio.models import Artifact, User
from studio.services import artifacts


def is_htmx() -> bool:
    """True for requests htmx makes: the view answers with the partial, not the page."""
    return bool(request.headers.get("HX-Request"))


def me() -> User:
    """The signed-in person (views that call this are behind @requires or @signed_in)."""
    user = security.current_user()
    assert user is not None
    return user


def actor_id() -> int:
    """The signed-in person's id."""
    return me().id


def page_arg() -> int:
    """The `page` query argument: 1 when missing, garbage or below 1."""
    return max(1, int_arg(request.args.get("page"), 1))


def int_arg(value: str | None, default: int) -> int:
    """A number from a query string or form, or the default when it is missing or garbage."""
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def artifact_or_404(session: Session, kind: str, key: str) -> Artifact:
    artifact = artifacts.find(session, kind, key)
    if artifact is None:
        abort(404)
    return artifact


def source_arg(name: str = "source", default: str = "") -> str:
    """A posted source text with the line breaks a person typed.

    A browser sends a textarea's line breaks as CR LF when it submits a form (htmx and
    fetch send the LF the editor holds); the MJML compiler refuses a CR, and the
    conflict box and review diffs would see every line as changed. So sources are
    read as LF, whichever way they were sent.
    """
    text = request.form.get(name, default)
    return text.replace("\r\n", "\n").replace("\r", "\n")
