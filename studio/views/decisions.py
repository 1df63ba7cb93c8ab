"""One decision explained, for whoever handles a complaint about it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from studio import security
from studio.db import db_session
from studio.services import decision_log
from studio.web import me

bp = Blueprint("decisions", __name__)


@bp.route("/admin/decision-log", methods=["GET", "POST"])
@security.requires("admin")
def settings() -> Response | str:
    session = db_session()
    if request.method == "POST":
        allowed = request.form.get("raw_customer_ids") == "on"
        decision_log.set_raw_ids_allowed(session, allowed, actor=me())
        flash("Decision log settings saved.", "success")
        return redirect(url_for("decisions.settings"))
    return render_template("decisions/settings.html", raw_ids=decision_log.raw_ids_allowed(session))


@bp.get("/decisions/<decision_id>")
@security.requires("analytics")
def show(decision_id: str) -> str:
    explained = decision_log.explain(db_session(), decision_id[:64])
    if explained is None:
        abort(404)
    return render_template("decisions/show.html", explained=explained)
