"""Messages: the service responses opened for customers, searchable, each withdrawable."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from studio import security
from studio.db import db_session
from studio.services import messages
from studio.web import actor_id, page_arg

bp = Blueprint("messages", __name__, url_prefix="/messages")


@bp.get("/")
@security.requires("messages")
def index() -> str:
    q = request.args.get("q", "").strip()
    found = messages.listing(db_session(), search=q, page_number=page_arg())
    return render_template("messages/index.html", page=found, q=q)


@bp.route("/<int:message_id>/withdraw", methods=["GET", "POST"])
@security.requires("messages")
def withdraw(message_id: int) -> str | Response:
    session = db_session()
    if request.method == "GET":
        row = messages.get(session, message_id)
        if row is None:
            abort(404)
        return render_template("messages/confirm_withdraw.html", message=row)
    row = messages.withdraw(session, message_id, actor_id=actor_id())
    if row is None:
        abort(404)
    flash(
        f"Message {row.id} for customer {row.customer_id} is withdrawn: its link now "
        "shows a page saying so.",
        "success",
    )
    return redirect(url_for("messages.index"))
