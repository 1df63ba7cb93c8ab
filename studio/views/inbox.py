"""The in-app inbox: what needs this person, with an unread count in the top bar."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from studio import security
from studio.db import db_session
from studio.services import notifications
from studio.web import is_htmx, page_arg

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


def _unread() -> int:
    """Counted once per request, only when a page shows the top bar."""
    if "inbox_unread" not in g:
        user = security.current_user()
        g.inbox_unread = notifications.unread_count(db_session(), user.id) if user else 0
    return int(g.inbox_unread)


@bp.app_context_processor
def _inbox_badge() -> dict[str, Any]:
    return {"inbox_unread": _unread}


@bp.get("/")
@security.signed_in
def index() -> str:
    user = security.current_user()
    assert user is not None
    unread_only = request.args.get("show") == "unread"
    page = notifications.inbox(db_session(), user.id, page=page_arg(), unread_only=unread_only)
    template = "inbox/_items.html" if is_htmx() else "inbox/index.html"
    return render_template(template, page=page, unread_only=unread_only)


@bp.post("/<int:note_id>/open")
@security.signed_in
def open_note(note_id: int) -> Response:
    """Mark a note read and follow its link (only local links are followed)."""
    user = security.current_user()
    assert user is not None
    session = db_session()
    note = notifications.find(session, user.id, note_id)
    if note is None:
        abort(404)
    notifications.mark_read(session, user.id, note_id)
    link = note.link if note.link.startswith("/") and not note.link.startswith("//") else ""
    return redirect(link or url_for("inbox.index"))


@bp.post("/read-all")
@security.signed_in
def read_all() -> Response:
    user = security.current_user()
    assert user is not None
    notifications.mark_read(db_session(), user.id)
    return redirect(url_for("inbox.index"))
