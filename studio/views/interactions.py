"""Sample interactions: the customer contacts offers and rules are previewed against."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from studio import security
from studio.artifact_editor import sample_conflict_box
from studio.db import db_session
from studio.errors import SampleConflict, ValidationFailed
from studio.models import SampleInteraction
from studio.services import lexicon, previews, rulesets, samples
from studio.web import actor_id, int_arg, is_htmx, page_arg

bp = Blueprint("interactions", __name__, url_prefix="/interactions")

MAX_UPLOAD = 2 * 1024 * 1024


def _sample(session: Session, key: str) -> SampleInteraction:
    sample = samples.get(session, key)
    if sample is None:
        abort(404, description=f"There is no sample interaction with the key {key}.")
    return sample


@bp.get("/")
@security.requires("interactions")
def index() -> str:
    query, tag = request.args.get("q", ""), request.args.get("tag", "")
    page = samples.listing(db_session(), query=query, tag=tag, page=page_arg())
    template = "interactions/_list.html" if is_htmx() else "interactions/index.html"
    return render_template(template, page=page, q=query, tag=tag)


@bp.route("/new", methods=["GET", "POST"])
@security.requires("interactions")
def new() -> str | Response | tuple[str, int]:
    session = db_session()
    mode = request.values.get("mode", "form")
    if request.method == "GET":
        return render_template(
            "interactions/new.html",
            sub=samples.submission_for(session, None, mode),
            spec=samples.editor_spec(session),
            errors={},
        )
    sub = samples.submission(request.form, mode)
    try:
        sample = samples.create_from(session, sub, actor_id=actor_id())
    except ValidationFailed as failed:
        return render_template(
            "interactions/new.html",
            sub=sub,
            spec=samples.editor_spec(session),
            errors=failed.by_field(),
        ), 422
    flash(f"Sample “{sample.name}” added.", "success")
    return redirect(url_for("interactions.show", key=sample.key))


@bp.route("/import", methods=["GET", "POST"])
@security.requires("interactions")
def import_lines() -> str | tuple[str, int]:
    if request.method == "GET":
        return render_template("interactions/import.html", report=None, text="", tags="")
    upload = request.files.get("file")
    text = request.form.get("text", "")
    if upload is not None and upload.filename:
        raw = upload.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            return render_template(
                "interactions/import.html",
                report=None,
                text="",
                tags=request.form.get("tags", ""),
                error="That file is over 2 MB; split it and import the parts one by one.",
            ), 413
        text = raw.decode("utf-8", errors="replace")
    if not text.strip():
        return render_template(
            "interactions/import.html",
            report=None,
            text="",
            tags=request.form.get("tags", ""),
            error="Choose a .jsonl file or paste JSON lines.",
        ), 422
    session = db_session()
    report = samples.import_lines(
        session, text, actor_id=actor_id(), tags=request.form.get("tags", "")
    )
    status = 200 if report.created or not report.problems else 422
    return render_template(
        "interactions/import.html", report=report, text="", tags=request.form.get("tags", "")
    ), status


@bp.get("/matrix")
@security.requires("interactions")
def matrix() -> str:
    kind, key = "ruleset", request.args.get("ruleset", "")
    if request.args.get("offer"):
        kind, key = "offer", request.args["offer"]
    view = previews.matrix(db_session(), kind=kind, key=key)
    template = "interactions/_matrix.html" if is_htmx() else "interactions/matrix.html"
    return render_template(template, view=view)


@bp.post("/tone")
@security.requires("interactions")
def tone() -> str:
    """The tone the studio would infer from the text being typed (htmx)."""
    result = lexicon.infer(db_session(), request.form.get("inquiry.text", ""))
    return render_template("interactions/_tone.html", tone=result)


@bp.get("/<key>")
@security.requires("interactions")
def show(key: str) -> str:
    sample = _sample(db_session(), key)
    focus_kind, focus_key = "", ""
    for kind in ("ruleset", "offer"):
        if request.args.get(kind):
            focus_kind, focus_key = kind, request.args[kind]
    return render_template(
        "interactions/show.html", sample=sample, focus_kind=focus_kind, focus_key=focus_key
    )


@bp.route("/<key>/edit", methods=["GET", "POST"])
@security.requires("interactions")
def edit(key: str) -> str | Response | tuple[str, int]:
    session = db_session()
    sample = _sample(session, key)
    mode = request.values.get("mode", "form")
    if request.method == "GET":
        return render_template(
            "interactions/edit.html",
            sample=sample,
            sub=samples.submission_for(session, sample, mode),
            spec=samples.editor_spec(session),
            errors={},
            conflict=None,
            lock_version=sample.lock_version,
        )
    sub = samples.submission(request.form, mode)
    lock_version = int_arg(request.form.get("lock_version"), -1)
    try:
        samples.update_from(session, sample, sub, lock_version=lock_version, actor_id=actor_id())
    except ValidationFailed as failed:
        return render_template(
            "interactions/edit.html",
            sample=_sample(session, key),
            sub=sub,
            spec=samples.editor_spec(session),
            errors=failed.by_field(),
            conflict=None,
            lock_version=lock_version,
        ), 422
    except SampleConflict as conflict:
        fresh = _sample(session, key)
        box = sample_conflict_box(
            fresh,
            message=str(conflict),
            base_version=lock_version,
            mine=_typed_body(session, sub),
            theirs=json.dumps(fresh.body, indent=2, ensure_ascii=False),
        )
        return render_template(
            "interactions/edit.html",
            sample=fresh,
            sub=sub,
            spec=samples.editor_spec(session),
            errors={},
            conflict=box,
            lock_version=fresh.lock_version,
        ), 409
    flash("Sample saved.", "success")
    return redirect(url_for("interactions.show", key=key))


def _typed_body(session: Session, sub: samples.Submission) -> str:
    """The interaction the person tried to save, as JSON text for the conflict box."""
    if sub.mode == "json":
        return sub.json_text
    body, _errors = samples.body_from_form(rulesets.current_schema(session), sub.values)
    return json.dumps(body, indent=2, ensure_ascii=False)


@bp.route("/<key>/duplicate", methods=["GET", "POST"])
@security.requires("interactions")
def duplicate(key: str) -> str | Response | tuple[str, int]:
    session = db_session()
    sample = _sample(session, key)
    form = {
        "key": request.form.get("key", f"{key}-copy"[:64]),
        "name": request.form.get("name", f"{sample.name} (copy)"[:200]),
    }
    if request.method == "GET":
        return render_template("interactions/duplicate.html", sample=sample, form=form, errors={})
    try:
        copy = samples.duplicate(
            session, sample, key=form["key"], name=form["name"], actor_id=actor_id()
        )
    except ValidationFailed as failed:
        return render_template(
            "interactions/duplicate.html", sample=sample, form=form, errors=failed.by_field()
        ), 422
    flash(f"“{copy.name}” created as a copy.", "success")
    return redirect(url_for("interactions.edit", key=copy.key))


@bp.route("/<key>/delete", methods=["GET", "POST"])
@security.requires("interactions")
def delete(key: str) -> str | Response:
    session = db_session()
    sample = _sample(session, key)
    if request.method == "GET":
        return render_template("interactions/confirm_delete.html", sample=sample)
    samples.delete(session, sample, actor_id=actor_id())
    flash(f"“{sample.name}” deleted.", "success")
    return redirect(url_for("interactions.index"))
