"""Surveys: marketing writes narrow-cast surveys and reads their results."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from studio import security
from studio.artifact_editor import ArtifactEditor, Refused
from studio.db import db_session
from studio.errors import ValidationFailed
from studio.services import artifacts, survey_library, survey_results
from studio.web import actor_id, artifact_or_404, int_arg, is_htmx, page_arg

bp = Blueprint("survey_library", __name__, url_prefix="/surveys")
EDITOR = ArtifactEditor(
    "survey",
    page="survey_library.edit",
    index="survey_library.index",
    confirm_archive="survey_library/confirm_archive.html",
)


def _form_page(template: str, status: int = 200, **context: object) -> tuple[str, int]:
    context.setdefault("errors", {})
    context.setdefault("conflict", None)
    return render_template(template, kinds=survey_library.QUESTION_KINDS, **context), status


@bp.get("/")
@security.requires("surveys")
def index() -> str:
    session = db_session()
    query = request.args.get("q", "")
    page = artifacts.listing(session, "survey", query=query, page=page_arg())
    return render_template("survey_library/index.html", page=page, q=query)


@bp.route("/new", methods=["GET", "POST"])
@security.requires("surveys")
def new() -> ResponseReturnValue:
    form = {
        "key": request.form.get("key", ""),
        "title": request.form.get("title", ""),
        "intro": request.form.get("intro", ""),
    }
    rows = survey_library.rows_from_form(request.form)
    if request.method == "GET":
        return _form_page("survey_library/new.html", form=form, rows=rows)
    try:
        artifact = survey_library.create(
            db_session(),
            key=form["key"],
            title=form["title"],
            intro=form["intro"],
            rows=rows,
            actor_id=actor_id(),
        )
    except ValidationFailed as failed:
        return _form_page(
            "survey_library/new.html", 422, form=form, rows=rows, errors=failed.by_field()
        )
    flash(f"Survey {artifact.name} created. Submit it for review to publish it.", "success")
    return redirect(url_for("survey_library.edit", key=artifact.key))


@bp.get("/<key>")
@security.requires("surveys")
def edit(key: str) -> ResponseReturnValue:
    session = db_session()
    artifact = artifact_or_404(session, "survey", key)
    head = artifacts.head(session, artifact)
    form = {"title": head.body.get("title", artifact.name), "intro": head.body.get("intro", "")}
    return _form_page(
        "survey_library/edit.html",
        artifact=artifact,
        form=form,
        rows=survey_library.rows_of(head.body),
        base_number=head.number,
    )


@bp.post("/<key>")
@security.requires("surveys")
def save(key: str) -> ResponseReturnValue:
    session = db_session()
    artifact = artifact_or_404(session, "survey", key)
    form = {"title": request.form.get("title", ""), "intro": request.form.get("intro", "")}
    rows = survey_library.rows_from_form(request.form)

    def redraw(refused: Refused) -> tuple[str, int]:
        return _form_page(
            "survey_library/edit.html",
            refused.status,
            artifact=refused.artifact or artifact,
            form=form,
            rows=rows,
            base_number=refused.base_number,
            errors=refused.by_field(),
            conflict=refused.conflict,
        )

    mine = artifacts.body_text(survey_library.body_from_form(form["title"], form["intro"], rows)[0])
    return EDITOR.save(
        artifact,
        lambda base: survey_library.save(
            session,
            artifact,
            title=form["title"],
            intro=form["intro"],
            rows=rows,
            base_number=base,
            actor_id=actor_id(),
            summary=request.form.get("summary", ""),
        ),
        mine=mine,
        redraw=redraw,
        then=url_for("survey_library.edit", key=key),
    )


@bp.route("/<key>/archive", methods=["GET", "POST"])
@security.requires("surveys")
def archive(key: str) -> ResponseReturnValue:
    return EDITOR.archive(key)


@bp.post("/<key>/restore")
@security.requires("surveys")
def restore(key: str) -> ResponseReturnValue:
    return EDITOR.restore(key)


@bp.get("/<key>/results")
@security.requires("analytics")
def results(key: str) -> ResponseReturnValue:
    session = db_session()
    artifact = artifact_or_404(session, "survey", key)
    report = survey_results.report(
        session, artifact, text_page=page_arg(), question=request.args.get("question", "")
    )
    template = "survey_library/_texts.html" if is_htmx() else "survey_library/results.html"
    return render_template(template, artifact=artifact, report=report)


@bp.get("/<key>/results/<question_id>.svg")
@security.requires("analytics")
def chart(key: str, question_id: str) -> Response:
    """One question's counts as an SVG chart, drawn on the server (no script)."""
    session = db_session()
    artifact = artifact_or_404(session, "survey", key)
    svg = survey_results.chart(session, artifact, question_id)
    if svg is None:
        return Response("No such chart.", status=404, mimetype="text/plain")
    response = Response(svg, mimetype="image/svg+xml")
    security.frame_policy(response, security.CHART_POLICY)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<key>/results.csv")
@security.requires("analytics")
def export(key: str) -> Response:
    session = db_session()
    artifact = artifact_or_404(session, "survey", key)
    limit = int_arg(request.args.get("limit"), survey_results.MAX_EXPORT_ROWS)
    body = survey_results.csv_export(session, artifact, limit=limit)
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="survey-{artifact.key}.csv"'},
    )
