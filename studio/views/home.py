"""The signed-in home page: what each person can work on."""

from __future__ import annotations

from flask import Blueprint, render_template

from studio import security
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
    return {"status": "ok"}
