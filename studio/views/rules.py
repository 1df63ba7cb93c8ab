"""Rules: the service team writes when-to-offer rulesets and the interaction schema."""

from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from studio import security
from studio.artifact_editor import ArtifactEditor, ConflictBox, Refused
from studio.db import db_session
from studio.errors import FieldError, ValidationFailed
from studio.models import Artifact, Revision
from studio.services import artifacts, rulesets
from studio.web import actor_id, artifact_or_404, is_htmx, page_arg

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
        "source": request.form.get("source", ""),
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
        report=rulesets.check(session, source, name=artifact.name),
    )


@bp.post("/<key>")
@security.requires("rules")
def save(key: str) -> ResponseReturnValue:
    session = db_session()
    artifact = artifact_or_404(session, "ruleset", key)
    source = request.form.get("source", "")
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
                f"Saved revision {revision.number} with {report.errors} error(s): fix "
                "them before submitting it for review.",
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
        report=rulesets.check(session, source, name=name),
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
    source = request.form.get("source", "")
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
    session = db_session()
    artifact = artifacts.find(session, "schema", rulesets.SCHEMA_KEY)
    if request.method == "GET":
        text = json.dumps(rulesets.current_schema(session).to_dict(), indent=2)
        return render_template(
            "rules/schema.html",
            text=text,
            artifact=artifact,
            errors={},
            base_number=artifact.head_number if artifact else 0,
        )
    text = request.form.get("schema", "")
    base = SCHEMA_EDITOR.base_number(0)

    def redraw(refused: Refused) -> tuple[str, int]:
        message = " ".join(refused.messages())
        return render_template(
            "rules/schema.html",
            text=text,
            artifact=refused.artifact or artifact,
            base_number=refused.base_number,
            conflict=refused.conflict,
            errors={"schema": message} if message else {},
        ), refused.status

    try:
        body = json.loads(text)
        if not isinstance(body, dict):
            raise ValueError("the schema must be a JSON object")
    except ValueError as bad:
        return redraw(
            Refused(422, artifact, base, [FieldError("schema", f"This is not valid JSON: {bad}")])
        )
    return SCHEMA_EDITOR.save(
        artifact,
        lambda base: rulesets.save_schema(session, body, actor_id=actor_id(), base_number=base),
        mine=artifacts.body_text(body),
        redraw=redraw,
        base=base,
        saved=lambda _stored: ("Interaction schema saved.", "success"),
        then=url_for("rules.schema"),
    )
