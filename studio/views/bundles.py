"""Bundles: published versions, what changed, publishing and rollback (both confirmed)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from studio import security
from studio.db import db_session, roll_back_request
from studio.errors import BundleTampered, PublishRefused, ValidationFailed
from studio.services import auto_pause, bundles, overlaps, publish, signing
from studio.web import is_htmx, me, page_arg

bp = Blueprint("bundles", __name__, url_prefix="/bundles")


def _ring() -> signing.KeyRing:
    return bundles.key_ring(db_session(), current_app.instance_path)


@bp.errorhandler(signing.KeysMissing)
def _keys_missing(missing: signing.KeysMissing) -> tuple[str, int]:
    """Bundles exist but their keys are gone: say so instead of minting a new key."""
    return render_template(
        "error.html",
        code=503,
        title="Signing keys are missing",
        description=f"{missing} See docs/operations.md, Backup and restore.",
    ), 503


@bp.get("/")
@security.requires("bundles")
def index() -> str:
    page = bundles.listing(db_session(), page=page_arg())
    template = "bundles/_list.html" if is_htmx() else "bundles/index.html"
    return render_template(template, page=page, keys=_ring().public_keys())


@bp.get("/<int:version>")
@security.requires("bundles")
def show(version: int) -> str:
    bundle = bundles.get(db_session(), version)
    if bundle is None:
        abort(404)
    try:
        body = bundles.load_verified(bundle, _ring().public_keys())
        tampered = None
    except BundleTampered as failed:
        body, tampered = None, failed.reason
    return render_template("bundles/show.html", bundle=bundle, body=body, tampered=tampered)


@bp.route("/publish", methods=["GET", "POST"])
@security.requires("bundles")
def publish_now() -> str | Response | tuple[str, int]:
    session = db_session()
    if request.method == "GET":
        return render_template(
            "bundles/publish.html",
            plan=publish.prepare_release(session),
            overlaps=overlaps.for_publish(session),
        )
    try:
        bundle = publish.publish(session, actor=me(), ring=_ring())
    except IntegrityError:
        return _lost_race()
    except PublishRefused:
        return render_template(
            "bundles/publish.html",
            plan=publish.prepare_release(session),
            refused=True,
            overlaps=overlaps.for_publish(session),
        ), 422
    flash(f"Published bundle v{bundle.version}. Downstream systems will pick it up.", "success")
    return redirect(url_for("bundles.show", version=bundle.version))


@bp.route("/<int:version>/rollback", methods=["GET", "POST"])
@security.requires("bundles")
def rollback(version: int) -> str | Response | tuple[str, int]:
    session = db_session()
    target = bundles.get(session, version)
    if target is None:
        abort(404)
    current = bundles.current(session)
    paused = [p for p in auto_pause.listing(session) if p.status in auto_pause.ACTIVE]
    if request.method == "GET":
        return render_template(
            "bundles/confirm_rollback.html",
            target=target,
            current=current,
            errors={"version": f"v{version} is already current: there is nothing to roll back."}
            if target.is_current
            else {},
            paused=paused,
        )
    try:
        bundle = publish.rollback(session, actor=me(), version=version, ring=_ring())
    except IntegrityError:
        return _lost_race()
    except (ValidationFailed, BundleTampered) as failed:
        errors = (
            failed.by_field() if isinstance(failed, ValidationFailed) else {"version": str(failed)}
        )
        return render_template(
            "bundles/confirm_rollback.html",
            target=target,
            current=current,
            errors=errors,
            paused=paused,
        ), 422
    flash(f"v{version} is current again, republished as v{bundle.version}.", "success")
    return redirect(url_for("bundles.index"))


def _lost_race() -> Response:
    """Two publishes (or rollbacks) at the same moment cannot both take a version
    number; the one that loses is told so instead of seeing an error page.

    The clash surfaces when the publish flushes the new bundle row (the unique version),
    inside the service call, so no commit is needed to see it. The failed flush leaves
    the transaction unusable: it is rolled back here, before the redirect commits the
    (now empty) unit of work."""
    roll_back_request()
    flash(
        "Someone else published at the same moment, so nothing changed. Check the "
        "current bundle, then try again if your change is not in it.",
        "error",
    )
    return redirect(url_for("bundles.index"))
