"""Layouts: marketing edits the per-channel templates that carry an offer."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from studio import security
from studio.artifact_editor import ArtifactEditor, Refused
from studio.db import db_session
from studio.errors import ValidationFailed
from studio.services import artifacts, layouts, offers
from studio.views.offers import sandboxed_document
from studio.web import actor_id, artifact_or_404, is_htmx, page_arg, source_arg

bp = Blueprint("layouts", __name__, url_prefix="/layouts")
EDITOR = ArtifactEditor(
    "layout",
    page="layouts.edit",
    index="layouts.index",
    confirm_archive="layouts/confirm_archive.html",
    source_field="source",
)


def _page(template: str, status: int = 200, **context: object) -> tuple[str, int]:
    context.setdefault("errors", {})
    context.setdefault("conflict", None)
    return render_template(
        template,
        channels=layouts.CHANNELS,
        slots=layouts.SLOTS,
        mjml_notes=layouts.MJML_NOTES,
        **context,
    ), status


@bp.get("/")
@security.requires("layouts")
def index() -> str:
    session = db_session()
    query = request.args.get("q", "")
    show_archived = request.args.get("archived") == "1"
    page = artifacts.listing(
        session, "layout", query=query, archived=show_archived, page=page_arg()
    )
    channel_of = layouts.channels_by_key(session, [a.key for a in page.items])
    template = "layouts/_list.html" if is_htmx() else "layouts/index.html"
    return render_template(
        template,
        page=page,
        q=query,
        show_archived=show_archived,
        channel_of=channel_of,
        channels=layouts.CHANNELS,
    )


@bp.route("/new", methods=["GET", "POST"])
@security.requires("layouts")
def new() -> str | Response | tuple[str, int]:
    channel = request.values.get("channel", "email_html")
    if channel not in layouts.CHANNELS:
        channel = "email_html"
    form = {
        "key": request.form.get("key", ""),
        "name": request.form.get("name", ""),
        "channel": channel,
        "source": source_arg(default=layouts.STARTERS[channel]),
    }
    if request.method == "GET":
        return _page("layouts/new.html", form=form, report=layouts.check(form["source"], channel))
    session = db_session()
    try:
        artifact = layouts.create(
            session,
            key=form["key"],
            name=form["name"],
            channel=channel,
            source=form["source"],
            actor_id=actor_id(),
        )
    except ValidationFailed as failed:
        return _page(
            "layouts/new.html",
            422,
            form=form,
            errors=failed.by_field(),
            report=layouts.check(form["source"], channel),
        )
    flash(f"Layout {artifact.name} created.", "success")
    return redirect(url_for("layouts.edit", key=artifact.key))


@bp.get("/<key>")
@security.requires("layouts")
def edit(key: str) -> str | tuple[str, int]:
    session = db_session()
    artifact = artifact_or_404(session, "layout", key)
    head = artifacts.head(session, artifact)
    channel = str(head.body.get("channel", ""))
    source = str(head.body.get("source", ""))
    return _page(
        "layouts/edit.html",
        artifact=artifact,
        head=head,
        channel=channel,
        name=artifact.name,
        source=source,
        base_number=head.number,
        report=layouts.check(source, channel),
    )


@bp.post("/<key>")
@security.requires("layouts")
def save(key: str) -> ResponseReturnValue:
    session = db_session()
    artifact = artifact_or_404(session, "layout", key)
    channel = layouts.channel_of(session, artifact)
    source = source_arg()
    name = request.form.get("name", artifact.name)

    def redraw(refused: Refused) -> tuple[str, int]:
        shown = refused.artifact or artifact
        return _page(
            "layouts/edit.html",
            refused.status,
            artifact=shown,
            head=artifacts.head(session, shown),
            channel=channel,
            name=name,
            source=source,
            base_number=refused.base_number,
            errors=refused.by_field(),
            conflict=refused.conflict,
            report=layouts.check(source, channel),
        )

    return EDITOR.save(
        artifact,
        lambda base: layouts.save(
            session,
            artifact,
            name=name,
            source=source,
            base_number=base,
            actor_id=actor_id(),
            summary=request.form.get("summary", ""),
        ),
        mine=source,
        redraw=redraw,
        then=url_for("layouts.edit", key=key),
    )


@bp.post("/check")
@security.requires("layouts")
def check() -> str:
    """Live compile errors for the editor (htmx, debounced as the person types)."""
    report = layouts.check(source_arg(), request.form.get("channel", "email_html"))
    return render_template("layouts/_diagnostics.html", report=report)


@bp.get("/<key>/preview.html")
@security.requires("layouts")
def preview(key: str) -> Response:
    """The saved layout with a sample offer, as its own document for a sandboxed frame."""
    session = db_session()
    html = offers.layout_preview(session, artifact_or_404(session, "layout", key)) or (
        "<!doctype html><title>No preview</title><p>Add an offer to the library to see "
        "this layout filled in.</p>"
    )
    return sandboxed_document(html)


@bp.route("/<key>/archive", methods=["GET", "POST"])
@security.requires("layouts")
def archive(key: str) -> ResponseReturnValue:
    return EDITOR.archive(key)


@bp.post("/<key>/restore")
@security.requires("layouts")
def restore(key: str) -> Response:
    return EDITOR.restore(key)
