"""Automatic pauses and their review; complaint thresholds; the admin's webhook page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from studio import security
from studio.db import db_session
from studio.errors import NotAllowed, ValidationFailed
from studio.models import Artifact, OfferPause, User
from studio.services import auto_pause, bundles, webhooks
from studio.web import me

bp = Blueprint("pauses", __name__)


@bp.get("/pauses/")
@security.requires("analytics")
def index() -> str:
    return _index({}, {})


def _index(errors: dict[str, str], form: dict[str, str]) -> str:
    session = db_session()
    offers = list(
        session.scalars(
            select(Artifact.key)
            .where(Artifact.kind == "offer", Artifact.archived.is_(False))
            .order_by(Artifact.key)
        )
    )
    return render_template(
        "pauses/index.html",
        pauses=auto_pause.listing(session),
        thresholds=auto_pause.thresholds(session),
        offers=offers,
        errors=errors,
        form=form,
    )


@bp.post("/pauses/thresholds")
@security.requires("analytics")
def set_threshold() -> Response | tuple[str, int]:
    session = db_session()
    form = {name: request.form.get(name, "")[:64] for name in ("offer", "rate", "min_exposures")}
    try:
        threshold = auto_pause.set_threshold(
            session, form["offer"], form["rate"], form["min_exposures"], actor=me()
        )
    except ValidationFailed as failed:
        return _index(failed.by_field(), form), 422
    except NotAllowed:
        abort(403, description="Only marketers set complaint thresholds.")
    removed = threshold is None
    flash(
        f"Complaint threshold for {form['offer']} "
        + ("removed: it is no longer paused automatically." if removed else "saved."),
        "success",
    )
    return redirect(url_for("pauses.index"))


@bp.get("/pauses/<int:pause_id>")
@security.requires("analytics")
def show(pause_id: int) -> str:
    found = auto_pause.get(db_session(), pause_id)
    if found is None:
        abort(404)
    return _show(found, {})


def _show(found: OfferPause, errors: dict[str, str]) -> str:
    session = db_session()
    return render_template(
        "pauses/show.html",
        pause=found,
        errors=errors,
        decider=session.get(User, found.decided_by) if found.decided_by else None,
        complaints=auto_pause.recent_complaints(session, found),
    )


@bp.get("/pauses/<int:pause_id>/undo")
@security.requires("analytics")
def confirm_undo(pause_id: int) -> str:
    found = auto_pause.get(db_session(), pause_id)
    if found is None:
        abort(404)
    return render_template("pauses/confirm_undo.html", pause=found)


@bp.post("/pauses/<int:pause_id>/review")
@security.requires("analytics")
def review(pause_id: int) -> Response | tuple[str, int]:
    session = db_session()
    found = auto_pause.get(session, pause_id)
    if found is None:
        abort(404)
    verdict = request.form.get("verdict", "")
    ring = bundles.key_ring(session, current_app.instance_path)
    try:
        auto_pause.review(session, pause_id, verdict, actor=me(), ring=ring)
    except ValidationFailed as failed:
        return _show(found, failed.by_field()), 422
    except NotAllowed:
        abort(403, description="Only reviewers keep or undo an automatic pause.")
    flash(
        "Pause kept."
        if verdict == "keep"
        else f"Pause undone: {found.offer_key} is back in bundle v{found.restored_version}.",
        "success",
    )
    return redirect(url_for("pauses.show", pause_id=pause_id))


@bp.route("/admin/webhook", methods=["GET", "POST"])
@security.requires("admin")
def webhook() -> Response | str | tuple[str, int]:
    session = db_session()
    if request.method == "POST":
        url, secret = request.form.get("url", "")[:600], request.form.get("secret", "")[:200]
        try:
            webhooks.configure(session, url, secret, actor=me())
        except ValidationFailed as failed:
            return render_template(
                "pauses/webhook.html",
                url=url,
                errors=failed.by_field(),
                deliveries=webhooks.recent(session),
            ), 422
        flash("Webhook saved." if url.strip() else "Webhook removed.", "success")
        return redirect(url_for("pauses.webhook"))
    conf = webhooks.config(session)
    return render_template(
        "pauses/webhook.html",
        url=conf.url if conf else "",
        errors={},
        deliveries=webhooks.recent(session),
    )
