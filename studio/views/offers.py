"""Offers: marketing keeps its offer library and sees each offer in every channel."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from markupsafe import escape
from werkzeug.wrappers import Response

from studio import security
from studio.db import db_session
from studio.errors import ValidationFailed
from studio.services import artifacts, offers
from studio.web import actor_id, artifact_or_404, int_arg, is_htmx

bp = Blueprint("offers", __name__, url_prefix="/offers")

def sandboxed_document(html: str) -> Response:
    """A rendered variant as its own page: it draws, never runs, and loads nothing remote.

    Remote images wait for the person: a bar at the top says they are blocked and links
    to the same page with ``images=1`` (policies in `security.PREVIEW_DOCUMENT_CSP`).
    """
    load_images = request.args.get("images") == "1"
    if not load_images and security.REMOTE_IMAGE.search(html):
        query = urlencode({**request.args.to_dict(), "images": "1"})
        bar = ('<p style="margin:0;padding:6px 10px;font:13px sans-serif;background:#fff4ce;'
               'color:#3d3000">Remote images are not loaded in previews. '
               f'<a href="?{escape(query)}">Load images</a></p>')
        html = html.replace("<body>", "<body>" + bar, 1) if "<body>" in html else bar + html
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        security.PREVIEW_DOCUMENT_WITH_IMAGES_CSP if load_images
        else security.PREVIEW_DOCUMENT_CSP)
    return response






def _editor(template: str, *, status: int = 200, **context: object) -> tuple[str, int]:
    context.setdefault("errors", {})
    context.setdefault("conflict", None)
    return render_template(template, statuses=offers.EDITABLE_STATUSES,
                           status_labels=offers.STATUS_LABELS,
                           limits=offers.max_lengths(), **context), status


@bp.get("/")
@security.requires("offers")
def index() -> str:
    filters = offers.OfferFilters(
        q=request.args.get("q", ""), status=request.args.get("status", ""),
        owner=request.args.get("owner", ""), channel=request.args.get("channel", ""),
        validity=request.args.get("validity", ""), page=int_arg(request.args.get("page"), 1),
    )
    page = offers.listing(db_session(), filters)
    template = "offers/_list.html" if is_htmx() else "offers/index.html"
    return render_template(template, page=page, filters=filters,
                           status_labels=offers.STATUS_LABELS,
                           coverage_labels=offers.COVERAGE_LABELS,
                           validity_labels=offers.VALIDITY_LABELS)


@bp.route("/new", methods=["GET", "POST"])
@security.requires("offers")
def new() -> str | Response | tuple[str, int]:
    if request.method == "GET":
        return _editor("offers/new.html", form=offers.blank_form())
    session = db_session()
    form = offers.form_from_request(request.form)
    try:
        artifact = offers.create(session, offers.body_from_form(form), actor_id=actor_id())
    except ValidationFailed as failed:
        session.rollback()
        return _editor("offers/new.html", status=422, form=form, errors=failed.by_field())
    session.commit()
    flash(f"Offer {artifact.name} created as revision 1.", "success")
    return redirect(url_for("offers.show", key=artifact.key))


@bp.get("/<key>")
@security.requires("offers")
def show(key: str) -> str:
    """The offer and its variants; htmx asks for the variants panel alone."""
    session = db_session()
    artifact = artifact_or_404(session, "offer", key)
    head = artifacts.head(session, artifact)
    view = offers.variants(session, artifact, email_layout=request.args.get("layout"))
    if is_htmx():
        return render_template("offers/_variants.html", artifact=artifact, view=view,
                               labels=offers.VARIANT_LABELS)
    return render_template("offers/show.html", artifact=artifact, head=head, body=head.body,
                           view=view, labels=offers.VARIANT_LABELS,
                           status_labels=offers.STATUS_LABELS,
                           coverage=offers.coverage(head.body),
                           coverage_labels=offers.COVERAGE_LABELS,
                           history=artifacts.history(session, artifact)[:10])


@bp.get("/<key>/variants/<channel>.html")
@security.requires("offers")
def variant_document(key: str, channel: str) -> Response:
    """The email or message-center variant as its own document, for a sandboxed frame."""
    if channel not in ("email_html", "message_center"):
        abort(404)
    session = db_session()
    html = offers.variant_document(session, artifact_or_404(session, "offer", key), channel,
                                   email_layout=request.args.get("layout"))
    if html is None:
        html = ("<!doctype html><title>No preview</title><p style=\"font-family:sans-serif;"
                "color:#6b7488\">This variant could not be rendered; see the problems "
                "listed next to it.</p>")
    return sandboxed_document(html)


@bp.route("/<key>/edit", methods=["GET", "POST"])
@security.requires("offers")
def edit(key: str) -> str | Response | tuple[str, int]:
    session = db_session()
    artifact = artifact_or_404(session, "offer", key)
    head = artifacts.head(session, artifact)
    if request.method == "GET":
        return _editor("offers/edit.html", artifact=artifact, head=head,
                       form=offers.form_from_body(key, head.body))
    form = offers.form_from_request(request.form)
    form["key"] = key
    base = int_arg(request.form.get("base_number"), -1)
    try:
        revision = offers.save(session, artifact, offers.body_from_form(form),
                               base_number=base, actor_id=actor_id(),
                               summary=request.form.get("summary", ""))
    except ValidationFailed as failed:
        session.rollback()
        return _editor("offers/edit.html", status=422, artifact=artifact, head=head, form=form,
                       errors=failed.by_field(), base_number=base)
    except artifacts.EditConflict as conflict:
        session.rollback()
        fresh = artifact_or_404(session, "offer", key)
        return _editor("offers/edit.html", status=409, artifact=fresh,
                       head=artifacts.head(session, fresh), form=form, conflict=conflict,
                       theirs=artifacts.body_text(conflict.theirs.body) if conflict.theirs
                       else "", base_number=fresh.head_number)
    session.commit()
    flash(f"Saved revision {revision.number}.", "success")
    return redirect(url_for("offers.show", key=key))


@bp.route("/<key>/duplicate", methods=["GET", "POST"])
@security.requires("offers")
def duplicate(key: str) -> str | Response | tuple[str, int]:
    session = db_session()
    artifact = artifact_or_404(session, "offer", key)
    form = {"key": request.form.get("key", f"{key}_copy"[:64]),
            "name": request.form.get("name", f"{artifact.name} (copy)")}
    if request.method == "GET":
        return render_template("offers/duplicate.html", artifact=artifact, form=form, errors={})
    try:
        copy = offers.duplicate(session, artifact, key=form["key"], name=form["name"],
                                actor_id=actor_id())
    except ValidationFailed as failed:
        session.rollback()
        return render_template("offers/duplicate.html", artifact=artifact, form=form,
                               errors=failed.by_field()), 422
    session.commit()
    flash(f"{copy.name} created as a draft copy of {artifact.name}.", "success")
    return redirect(url_for("offers.show", key=copy.key))


@bp.route("/<key>/archive", methods=["GET", "POST"])
@security.requires("offers")
def archive(key: str) -> str | Response:
    session = db_session()
    artifact = artifact_or_404(session, "offer", key)
    if request.method == "GET":
        return render_template("offers/confirm_archive.html", artifact=artifact)
    artifacts.set_archived(session, artifact, True, actor_id=actor_id())
    session.commit()
    flash(f"{artifact.name} is archived. It stays in history and can be restored.", "success")
    return redirect(url_for("offers.index"))


@bp.post("/<key>/restore")
@security.requires("offers")
def restore(key: str) -> Response:
    session = db_session()
    artifact = artifact_or_404(session, "offer", key)
    artifacts.set_archived(session, artifact, False, actor_id=actor_id())
    session.commit()
    flash(f"{artifact.name} is restored.", "success")
    return redirect(url_for("offers.show", key=key))
