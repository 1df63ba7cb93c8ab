"""Offers: marketing keeps its offer library and sees each offer in every channel."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import escape
from werkzeug.wrappers import Response

from studio import security
from studio.artifact_editor import ArtifactEditor, Refused
from studio.db import db_session
from studio.errors import ValidationFailed
from studio.services import artifacts, auto_pause, offers
from studio.web import actor_id, artifact_or_404, is_htmx, page_arg

bp = Blueprint("offers", __name__, url_prefix="/offers")


@bp.context_processor
def _complaint_pauses() -> dict[str, object]:
    """The offers the studio took out of service for complaints, by key, for the badge
    beside an offer's own status (which says what its marketer set)."""
    return {
        "complaint_pauses": {
            pause.offer_key: pause
            for pause in auto_pause.listing(db_session())
            if pause.status in auto_pause.ACTIVE
        }
    }


EDITOR = ArtifactEditor(
    "offer",
    page="offers.show",
    index="offers.index",
    confirm_archive="offers/confirm_archive.html",
    fields_of=offers.form_fields_of,
    labels=offers.flat_labels(),
)


def sandboxed_document(html: str) -> Response:
    """A rendered variant as its own page: it draws, never runs, and loads nothing remote.

    Remote images wait for the person: a bar at the top says they are blocked and links
    to the same page with ``images=1`` (policies in `security.VARIANT_POLICY`).
    """
    load_images = request.args.get("images") == "1"
    if not load_images and security.REMOTE_IMAGE.search(html):
        query = urlencode({**request.args.to_dict(), "images": "1"})
        bar = (
            '<p style="margin:0;padding:6px 10px;font:13px sans-serif;background:#fff4ce;'
            'color:#3d3000">Remote images are not loaded in previews. '
            f'<a href="?{escape(query)}">Load images</a></p>'
        )
        html = html.replace("<body>", "<body>" + bar, 1) if "<body>" in html else bar + html
    response = Response(html, mimetype="text/html")
    return security.frame_policy(
        response, security.variant_policy(request.host_url.rstrip("/"), images=load_images)
    )


def _editor(template: str, *, status: int = 200, **context: object) -> tuple[str, int]:
    context.setdefault("errors", {})
    context.setdefault("conflict", None)
    return render_template(
        template,
        statuses=offers.EDITABLE_STATUSES,
        status_labels=offers.STATUS_LABELS,
        limits=offers.max_lengths(),
        **context,
    ), status


@bp.get("/")
@security.requires("offers")
def index() -> str:
    filters = offers.OfferFilters(
        q=request.args.get("q", ""),
        status=request.args.get("status", ""),
        owner=request.args.get("owner", ""),
        channel=request.args.get("channel", ""),
        validity=request.args.get("validity", ""),
        page=page_arg(),
    )
    page = offers.listing(db_session(), filters)
    template = "offers/_list.html" if is_htmx() else "offers/index.html"
    return render_template(
        template,
        page=page,
        filters=filters,
        status_labels=offers.STATUS_LABELS,
        coverage_labels=offers.COVERAGE_LABELS,
        validity_labels=offers.VALIDITY_LABELS,
    )


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
        return _editor("offers/new.html", status=422, form=form, errors=failed.by_field())
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
        return render_template(
            "offers/_variants.html", artifact=artifact, view=view, labels=offers.VARIANT_LABELS
        )
    return render_template(
        "offers/show.html",
        artifact=artifact,
        head=head,
        body=head.body,
        view=view,
        labels=offers.VARIANT_LABELS,
        status_labels=offers.STATUS_LABELS,
        coverage=offers.coverage(head.body),
        coverage_labels=offers.COVERAGE_LABELS,
        history=artifacts.history(session, artifact)[:10],
    )


@bp.get("/<key>/variants/<channel>.html")
@security.requires("offers")
def variant_document(key: str, channel: str) -> Response:
    """The email or message-center variant as its own document, for a sandboxed frame."""
    if channel not in ("email_html", "message_center"):
        abort(404)
    session = db_session()
    html = offers.variant_document(
        session,
        artifact_or_404(session, "offer", key),
        channel,
        email_layout=request.args.get("layout"),
    )
    if html is None:
        html = (
            '<!doctype html><title>No preview</title><p style="font-family:sans-serif;'
            'color:#6b7488">This variant could not be rendered; see the problems '
            "listed next to it.</p>"
        )
    return sandboxed_document(html)


@bp.route("/<key>/edit", methods=["GET", "POST"])
@security.requires("offers")
def edit(key: str) -> ResponseReturnValue:
    session = db_session()
    artifact = artifact_or_404(session, "offer", key)
    head = artifacts.head(session, artifact)
    if request.method == "GET":
        return _editor(
            "offers/edit.html",
            artifact=artifact,
            head=head,
            form=offers.form_from_body(key, head.body),
        )
    form = offers.form_from_request(request.form)
    form["key"] = key
    body = offers.body_from_form(form)

    def redraw(refused: Refused) -> tuple[str, int]:
        shown = refused.artifact or artifact
        return _editor(
            "offers/edit.html",
            status=refused.status,
            artifact=shown,
            head=artifacts.head(session, shown),
            form=form,
            errors=refused.by_field(),
            conflict=refused.conflict,
            base_number=refused.base_number,
        )

    return EDITOR.save(
        artifact,
        lambda base: offers.save(
            session,
            artifact,
            body,
            base_number=base,
            actor_id=actor_id(),
            summary=request.form.get("summary", ""),
        ),
        mine=artifacts.body_text(body),
        mine_fields=offers.flat_form(form),
        redraw=redraw,
        then=url_for("offers.show", key=key),
    )


@bp.route("/<key>/duplicate", methods=["GET", "POST"])
@security.requires("offers")
def duplicate(key: str) -> str | Response | tuple[str, int]:
    session = db_session()
    artifact = artifact_or_404(session, "offer", key)
    form = {
        "key": request.form.get("key", f"{key}_copy"[:64]),
        "name": request.form.get("name", f"{artifact.name} (copy)"),
    }
    if request.method == "GET":
        return render_template("offers/duplicate.html", artifact=artifact, form=form, errors={})
    try:
        copy = offers.duplicate(
            session, artifact, key=form["key"], name=form["name"], actor_id=actor_id()
        )
    except ValidationFailed as failed:
        return render_template(
            "offers/duplicate.html", artifact=artifact, form=form, errors=failed.by_field()
        ), 422
    flash(f"{copy.name} created as a draft copy of {artifact.name}.", "success")
    return redirect(url_for("offers.show", key=copy.key))


@bp.route("/<key>/archive", methods=["GET", "POST"])
@security.requires("offers")
def archive(key: str) -> ResponseReturnValue:
    return EDITOR.archive(key)


@bp.post("/<key>/restore")
@security.requires("offers")
def restore(key: str) -> Response:
    return EDITOR.restore(key)
