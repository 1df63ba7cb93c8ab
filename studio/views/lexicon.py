"""The tone lexicon: the service team's distress terms, edited next to the rules."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from studio import security
from studio.db import db_session
from studio.errors import EditConflict, ValidationFailed
from studio.services import lexicon
from studio.web import int_arg

bp = Blueprint("lexicon", __name__, url_prefix="/rules/lexicon")



@bp.route("", methods=["GET", "POST"])
@security.requires("rules")
def edit() -> str | Response | tuple[str, int]:
    session = db_session()
    if request.method == "GET":
        state = lexicon.state(session)
        return render_template("lexicon/edit.html", state=state, text=state.text, errors=[],
                               conflict=None, base_number=state.base_number,
                               trial=lexicon.try_text(state.text, lexicon.SAMPLE_TEXT))
    text = request.form.get("terms", "")
    user = security.current_user()
    assert user is not None
    base = int_arg(request.form.get("base_number"), -1)
    try:
        lexicon.save(session, text, base_number=base,
                     actor_id=user.id, summary=request.form.get("summary", ""))
    except ValidationFailed as failed:
        session.rollback()
        return render_template("lexicon/edit.html", state=lexicon.state(session), text=text,
                               errors=[e.message for e in failed.errors], conflict=None,
                               base_number=base,
                               trial=lexicon.try_text(text, request.form.get("sample", ""))), 422
    except EditConflict as conflict:
        session.rollback()
        fresh = lexicon.state(session)
        return render_template("lexicon/edit.html", state=fresh, text=text,
                               errors=[], conflict=conflict, base_number=fresh.base_number,
                               trial=lexicon.try_text(text, request.form.get("sample", ""))), 409
    session.commit()
    flash("Tone lexicon saved. Submit it for review to ship it in the next bundle.", "success")
    return redirect(url_for("lexicon.edit"))


@bp.post("/try")
@security.requires("rules")
def try_out() -> str:
    """The tone of the try-out text with the terms as typed, unsaved (htmx)."""
    trial = lexicon.try_text(request.form.get("terms", ""), request.form.get("sample", ""))
    return render_template("lexicon/_trial.html", trial=trial)
