"""Rules: the service team writes when-to-offer rulesets and the interaction schema."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from studio import security
from studio.artifact_editor import ArtifactEditor, ConflictBox, Refused
from studio.db import db_session
from studio.errors import FieldError, ValidationFailed
from studio.models import Artifact, Revision
from studio.services import artifacts, rule_editor, rulesets, schema_form
from studio.web import actor_id, artifact_or_404, is_htmx, page_arg, source_arg

bp = Blueprint("rules", __name__, url_prefix="/rules")
EDITOR = ArtifactEditor(
    "ruleset",
    page="rules.edit",
    index="rules.index",
    confirm_archive="rules/confirm_archive.html",
    source_field="source",
)
SCHEMA_EDITOR = ArtifactEditor("schema")


@bp.get("/")
@security.requires("rules")
def index() -> str:
    query = request.args.get("q", "")
    show_archived = request.args.get("archived") == "1"
    page = artifacts.listing(
        db_session(), "ruleset", query=query, archived=show_archived, page=page_arg()
    )
    template = "rules/_list.html" if is_htmx() else "rules/index.html"
    return render_template(template, page=page, q=query, show_archived=show_archived)


@bp.route("/new", methods=["GET", "POST"])
@security.requires("rules")
def new() -> str | Response | tuple[str, int]:
    session = db_session()
    form = {
        "key": request.form.get("key", ""),
        "name": request.form.get("name", ""),
        "source": source_arg(),
    }
    if request.method == "POST":
        try:
            artifact = rulesets.create(
                session,
                key=form["key"],
                name=form["name"],
                source=form["source"],
                actor_id=actor_id(),
            )
        except ValidationFailed as failed:
            return render_template(
                "rules/new.html",
                form=form,
                errors=failed.by_field(),
                starter=rulesets.STARTER_SOURCE,
                report=rulesets.check(session, form["source"]),
            ), 422
        flash(f"Ruleset {artifact.name} created.", "success")
        return redirect(url_for("rules.edit", key=artifact.key))
    return render_template(
        "rules/new.html",
        form=form,
        errors={},
        starter=rulesets.STARTER_SOURCE,
        report=rulesets.check(session, form["source"]),
    )


@bp.get("/<key>")
@security.requires("rules")
def edit(key: str) -> str:
    session = db_session()
    artifact = artifact_or_404(session, "ruleset", key)
    head = artifacts.head(session, artifact)
    source = head.body.get("source", "")
    return render_template(
        "rules/edit.html",
        artifact=artifact,
        head=head,
        source=source,
        name=artifact.name,
        errors={},
        conflict=None,
        base_number=head.number,
        report=rule_editor.report(
            session, source, name=artifact.name, key=artifact.key, all_overlaps=True
        ),
    )


@bp.post("/<key>")
@security.requires("rules")
def save(key: str) -> ResponseReturnValue:
    session = db_session()
    artifact = artifact_or_404(session, "ruleset", key)
    source = source_arg()
    name = request.form.get("name", artifact.name)

    def redraw(refused: Refused) -> tuple[str, int]:
        return _editor(
            session,
            refused.artifact or artifact,
            source,
            name,
            base_number=refused.base_number,
            errors=refused.by_field(),
            conflict=refused.conflict,
        ), refused.status

    def saved(revision: Revision) -> tuple[str, str]:
        report = rulesets.check(session, source, name=name)
        if report.errors:
            return (
                f"Saved revision {revision.number} with "
                + (
                    "1 error: fix it"
                    if report.errors == 1
                    else f"{report.errors:,} errors: fix them"
                )
                + " before submitting it for review.",
                "error",
            )
        return f"Saved revision {revision.number}.", "success"

    return EDITOR.save(
        artifact,
        lambda base: rulesets.save(
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
        saved=saved,
        then=url_for("rules.edit", key=key),
    )


def _editor(
    session: Session,
    artifact: Artifact,
    source: str,
    name: str,
    *,
    base_number: int,
    errors: dict[str, str] | None = None,
    conflict: ConflictBox | None = None,
) -> str:
    """Re-show the editor with what the person typed, never losing it, and with the
    revision they started from (so a later save still detects someone else's edit)."""
    head = artifacts.head(session, artifact)
    return render_template(
        "rules/edit.html",
        artifact=artifact,
        head=head,
        source=source,
        name=name,
        errors=errors or {},
        conflict=conflict,
        base_number=base_number,
        report=rule_editor.report(session, source, name=name, key=artifact.key, all_overlaps=True),
    )


@bp.post("/check")
@security.requires("rules")
def check() -> str:
    """Live diagnostics for the editor (htmx, debounced as the person types)."""
    report = rulesets.check(
        db_session(), request.form.get("source", ""), name=request.form.get("name", "ruleset")
    )
    return render_template("rules/_diagnostics.html", report=report)


@bp.post("/format")
@security.requires("rules")
def format_source() -> str | tuple[str, int]:
    source = source_arg()
    formatted = rulesets.format_source(source)
    if formatted is None:
        return render_template(
            "rules/_source.html",
            source=source,
            format_error="Fix the errors first: only a ruleset that parses can be formatted.",
        ), 422
    return render_template("rules/_source.html", source=formatted, format_error=None)


@bp.route("/<key>/archive", methods=["GET", "POST"])
@security.requires("rules")
def archive(key: str) -> ResponseReturnValue:
    return EDITOR.archive(key)


@bp.post("/<key>/restore")
@security.requires("rules")
def restore(key: str) -> Response:
    return EDITOR.restore(key)


@bp.route("/schema", methods=["GET", "POST"])
@security.requires("rules")
def schema() -> ResponseReturnValue:
    """The interaction schema, as a form of fields (the default) or as JSON.

    Switching views posts what was typed and draws it in the other view without saving.
    """
    session = db_session()
    artifact = artifacts.find(session, "schema", rulesets.SCHEMA_KEY)
    if request.method == "GET":
        body = rulesets.current_schema(session).to_dict()
        return _schema_page(
            artifact,
            view="json" if request.args.get("view") == "json" else "form",
            body=body,
            base_number=artifact.head_number if artifact else 0,
        )
    base = SCHEMA_EDITOR.base_number(0)
    view = "form" if request.form.get("view") == "form" else "json"
    rows = schema_form.rows_from_form(request.form)
    settings = request.form.get("settings", "")
    text = request.form.get("schema", "")

    def redraw(refused: Refused) -> tuple[str, int]:
        return _schema_page(
            refused.artifact or artifact,
            view=view,
            text=text,
            rows=rows,
            settings=settings,
            base_number=refused.base_number,
            conflict=refused.conflict,
            errors=refused.errors,
        ), refused.status

    try:
        body = _schema_body(view, text, rows, settings)
    except ValidationFailed as failed:
        return redraw(Refused(422, artifact, base, failed.errors))
    switch = request.form.get("switch")
    if switch in ("form", "json") and switch != view:
        return _schema_page(artifact, view=switch, body=body, base_number=base, unsaved=True)
    return SCHEMA_EDITOR.save(
        artifact,
        lambda base: rulesets.save_schema(session, body, actor_id=actor_id(), base_number=base),
        mine=artifacts.body_text(body),
        redraw=redraw,
        base=base,
        saved=lambda _stored: ("Interaction schema saved.", "success"),
        then=url_for("rules.schema", view=view),
    )


def _schema_body(
    view: str, text: str, rows: list[schema_form.Row], settings: str
) -> dict[str, Any]:
    """The schema body the posted view describes, or ValidationFailed saying why not."""
    if view == "form":
        return schema_form.body_from_form(rows, settings)
    try:
        body = json.loads(text)
        if not isinstance(body, dict):
            raise ValueError("the schema must be a JSON object")
    except ValueError as bad:
        raise ValidationFailed([FieldError("schema", f"This is not valid JSON: {bad}")]) from bad
    return body


def _schema_page(
    artifact: Artifact | None,
    *,
    view: str,
    base_number: int,
    body: dict[str, Any] | None = None,
    text: str = "",
    rows: list[schema_form.Row] | None = None,
    settings: str = "",
    conflict: ConflictBox | None = None,
    errors: list[FieldError] | None = None,
    unsaved: bool = False,
) -> str:
    """The schema page in either view: from a body (GET, a switch of views) or from what
    was posted (a refused save), with each error next to the row or box it is about."""
    if body is not None:
        text = json.dumps(body, indent=2)
        rows = schema_form.rows_of(body)
        settings = schema_form.settings_of(body)
    rows = rows or []
    errors = errors or []
    messages = [e.message for e in errors if e.field == "schema"]
    by_row, general = schema_form.row_errors(rows, messages) if view == "form" else ({}, messages)
    for error in errors:
        if error.field.startswith("field-"):
            number = int(error.field.removeprefix("field-"))
            by_row[number] = (
                f"{by_row[number]} {error.message}" if number in by_row else error.message
            )
    settings_error = " ".join(e.message for e in errors if e.field == "settings")
    return render_template(
        "rules/schema.html",
        artifact=artifact,
        view=view,
        text=text,
        rows=rows,
        settings=settings,
        types=schema_form.FIELD_TYPES,
        base_number=base_number,
        conflict=conflict,
        row_errors=by_row,
        general_errors=general,
        settings_error=settings_error,
        errors={"schema": " ".join(general)} if general and view == "json" else {},
        unsaved=unsaved,
    )
