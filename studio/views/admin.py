"""Admin: people and their roles."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from studio import security
from studio.db import db_session
from studio.errors import ValidationFailed
from studio.models import User
from studio.roles import ROLES
from studio.services import accounts
from studio.web import is_htmx, page_arg

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users")
@security.requires("admin")
def users() -> str:
    query = request.args.get("q", "")
    page = accounts.search_users(db_session(), query, page_arg())
    template = "admin/_users_table.html" if is_htmx() else "admin/users.html"
    return render_template(template, page=page, q=query)


@bp.route("/users/new", methods=["GET", "POST"])
@security.requires("admin")
def new_user() -> str | Response | tuple[str, int]:
    form: dict[str, Any] = {"email": "", "name": "", "roles": []}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {
            "email": request.form.get("email", ""),
            "name": request.form.get("name", ""),
            "roles": request.form.getlist("roles"),
        }
        session = db_session()
        actor = security.current_user()
        try:
            user = accounts.create_user(
                session,
                email=form["email"],
                name=form["name"],
                password=request.form.get("password", ""),
                roles=form["roles"],
                actor_id=actor.id if actor else None,
            )
        except ValidationFailed as failed:
            errors = failed.by_field()
        else:
            flash(f"{user.name} can now sign in as {user.email}.", "success")
            return redirect(url_for("admin.user", user_id=user.id))
        return render_template("admin/new_user.html", form=form, errors=errors, roles=ROLES), 422
    return render_template("admin/new_user.html", form=form, errors=errors, roles=ROLES)


@bp.get("/users/<int:user_id>")
@security.requires("admin")
def user(user_id: int) -> str:
    return render_template(
        "admin/user.html", user=_get_user(db_session(), user_id), roles=ROLES, errors={}
    )


@bp.post("/users/<int:user_id>/roles")
@security.requires("admin")
def update_roles(user_id: int) -> Response | tuple[str, int]:
    session = db_session()
    target = _get_user(session, user_id)
    actor = security.current_user()
    assert actor is not None
    try:
        accounts.set_roles(session, target, request.form.getlist("roles"), actor_id=actor.id)
    except ValidationFailed as failed:
        return render_template(
            "admin/user.html", user=target, roles=ROLES, errors=failed.by_field()
        ), 422
    flash(f"Roles for {target.name} saved.", "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@security.requires("admin")
def deactivate(user_id: int) -> str | Response | tuple[str, int]:
    session = db_session()
    target = _get_user(session, user_id)
    if request.method == "GET":
        return render_template("admin/confirm_deactivate.html", user=target)
    actor = security.current_user()
    assert actor is not None
    try:
        accounts.set_active(session, target, False, actor_id=actor.id)
    except ValidationFailed as failed:
        return render_template(
            "admin/user.html", user=target, roles=ROLES, errors=failed.by_field()
        ), 422
    flash(f"{target.name} can no longer sign in.", "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/activate")
@security.requires("admin")
def activate(user_id: int) -> Response:
    session = db_session()
    target = _get_user(session, user_id)
    actor = security.current_user()
    assert actor is not None
    accounts.set_active(session, target, True, actor_id=actor.id)
    flash(f"{target.name} can sign in again.", "success")
    return redirect(url_for("admin.user", user_id=user_id))
