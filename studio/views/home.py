"""The signed-in home page: what each person can work on."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from studio import security
from studio.db import db_session
from studio.roles import areas_for

bp = Blueprint("home", __name__)


@bp.get("/")
@security.signed_in
def index() -> str:
    user = security.current_user()
    assert user is not None
    return render_template("home.html", areas=areas_for(user.roles))


@bp.get("/healthz")
@security.public
def health() -> dict[str, str]:
    """Liveness: the process answers. It never asks the database, so an outage does not
    get healthy workers restarted; `/readyz` says whether the database answers."""
    return {"status": "ok"}


@bp.get("/readyz")
@security.public
def ready() -> tuple[dict[str, str], int]:
    """Readiness: 200 when the database answers a query, else 503 naming it as down."""
    session = db_session()
    try:
        session.execute(text("SELECT 1"))
        session.rollback()
    except SQLAlchemyError as exc:
        try:
            session.rollback()
        except SQLAlchemyError:
            current_app.logger.warning("readiness: rollback failed")
        current_app.logger.warning("readiness: database down: %s", type(exc).__name__)
        return {"status": "not_ready", "database": "down", "error": type(exc).__name__}, 503
    return {"status": "ready", "database": "up"}, 200
