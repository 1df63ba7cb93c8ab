"""Admin: API tokens for downstream systems (issue, show once, revoke with a confirmation)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from studio import security
from studio.api.auth import forget_tokens
from studio.db import after_commit, db_session
from studio.errors import ValidationFailed
from studio.services import api_tokens
from studio.web import actor_id

bp = Blueprint("tokens", __name__, url_prefix="/admin/tokens")


@bp.get("/")
@security.requires("admin")
def index() -> str:
    return render_template("tokens/index.html", tokens=api_tokens.listing(db_session()))


@bp.route("/new", methods=["GET", "POST"])
@security.requires("admin")
def new() -> str | tuple[str, int]:
    form: dict[str, Any] = {"name": "", "scopes": list(api_tokens.DEFAULT_SCOPES)}
    if request.method == "GET":
        return render_template(
            "tokens/new.html", form=form, errors={}, scopes=api_tokens.SCOPE_LABELS
        )
    form = {"name": request.form.get("name", ""), "scopes": request.form.getlist("scopes")}
    session = db_session()
    try:
        issued = api_tokens.create(
            session, name=form["name"], scopes=form["scopes"], actor_id=actor_id()
        )
    except ValidationFailed as failed:
        return render_template(
            "tokens/new.html", form=form, errors=failed.by_field(), scopes=api_tokens.SCOPE_LABELS
        ), 422
    return render_template(
        "tokens/created.html", issued=issued, scopes=api_tokens.SCOPE_LABELS
    ), 201


@bp.route("/<int:token_id>/revoke", methods=["GET", "POST"])
@security.requires("admin")
def revoke(token_id: int) -> str | Response:
    session = db_session()
    if request.method == "GET":
        token = api_tokens.get(session, token_id)
        if token is None:
            abort(404)
        return render_template("tokens/confirm_revoke.html", token=token)
    revoked = api_tokens.revoke(session, token_id, actor_id=actor_id())
    if revoked is None:
        abort(404)
    after_commit(forget_tokens)
    flash(
        f"“{revoked.name}” ({revoked.prefix}…) is revoked; calls using it now get 401.", "success"
    )
    return redirect(url_for("tokens.index"))
