"""One decision explained, for whoever handles a complaint about it."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from studio import security
from studio.db import db_session
from studio.services import decision_log

bp = Blueprint("decisions", __name__, url_prefix="/decisions")


@bp.get("/<decision_id>")
@security.requires("analytics")
def show(decision_id: str) -> str:
    explained = decision_log.explain(db_session(), decision_id[:64])
    if explained is None:
        abort(404)
    return render_template("decisions/show.html", explained=explained)
