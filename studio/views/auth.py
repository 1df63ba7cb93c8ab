"""Sign in and sign out."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from studio import audit, security
from studio.db import db_session, keep_refused_changes
from studio.services import accounts

bp = Blueprint("auth", __name__)


# Anything a browser or a Location header could read differently: controls (CR/LF would
# split the header), spaces, backslashes (browsers read "/\\evil" as "//evil").
_UNSAFE_NEXT = re.compile(r"[\x00-\x20\x7f-\x9f\\\u2028\u2029]")


def _safe_next(target: str | None) -> str:
    """Only follow a same-site path after sign-in; anything else goes home (never a 500)."""
    home = url_for("home.index")
    if not target or len(target) > 2000 or _UNSAFE_NEXT.search(target):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return home
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@security.public
def sign_in() -> str | Response | tuple[str, int]:
    if security.current_user() is not None and request.method == "GET":
        return redirect(url_for("home.index"))
    settings = current_app.config["STUDIO_SETTINGS"]
    email = request.form.get("email", "")[:300]
    if request.method == "POST":
        result = accounts.sign_in(
            db_session(),
            email,
            request.form.get("password", ""),
            max_failures=settings.max_failed_logins,
            lockout=timedelta(minutes=settings.lockout_minutes),
        )
        if result.user is not None:
            security.sign_in_session(result.user)
            return redirect(_safe_next(request.args.get("next")))
        keep_refused_changes()  # the failure counts towards the lockout
        return render_template("auth/sign_in.html", error=result.error, email=email), 401
    # Sent here from a page that needs a signed-in person: say so, and where they go next.
    going = _safe_next(request.args.get("next"))
    note = (
        "Sign in to open that page; you go straight to it afterwards."
        if going != url_for("home.index")
        else None
    )
    return render_template("auth/sign_in.html", error=None, email=email, note=note)


@bp.post("/sign-out")
@security.public
def sign_out() -> Response:
    user = security.current_user()
    if user is not None:
        session_db = db_session()
        accounts.end_sessions(user)
        audit.record(
            session_db, "auth.sign_out", actor_id=user.id, object_type="user", object_id=user.id
        )
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))
