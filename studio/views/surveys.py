"""Layouts: how often one customer may be asked the NPS question, across channels."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from studio import security
from studio.db import db_session
from studio.errors import ValidationFailed
from studio.services import surveys
from studio.web import actor_id

bp = Blueprint("surveys", __name__, url_prefix="/survey-settings")


@bp.route("/", methods=["GET", "POST"])
@security.requires("layouts")
def frequency() -> str | tuple[str, int] | Response:
    session = db_session()
    if request.method == "GET":
        return render_template(
            "surveys/frequency.html", days=surveys.every_days(session), errors={}
        )
    raw = request.form.get("nps_every_days", "")
    try:
        days = surveys.set_every_days(session, raw, actor_id=actor_id())
    except ValidationFailed as failed:
        return render_template("surveys/frequency.html", days=raw, errors=failed.by_field()), 422
    flash(
        f"Customers are now asked at most once every {days} days."
        if days
        else "Customers may now be asked on every message.",
        "success",
    )
    return redirect(url_for("surveys.frequency"))
