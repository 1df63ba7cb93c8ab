"""Interaction history: import files, search and slice, customer timelines, backtests."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from studio import security
from studio.db import db_session
from studio.errors import FieldError, ValidationFailed
from studio.jobs import enqueue_after_commit
from studio.roles import RAW_TEXT_ROLES
from studio.services import (
    backtest_charts,
    backtests,
    date_range,
    history_search,
    interaction_import,
    redaction,
    rulesets,
    samples,
)
from studio.views.downloads import parquet_download
from studio.web import actor_id, is_htmx, me, page_arg

bp = Blueprint("history", __name__, url_prefix="/history")

MAX_UPLOAD = 4 * 1024 * 1024 * 1024


def _raw_text() -> bool:
    return bool(me().roles & RAW_TEXT_ROLES)


@bp.get("/")
@security.requires("history")
def index() -> str:
    asked = history_search.SearchParams.from_args(request.args, in_order=False)
    params = asked.dates_in_order()
    result = history_search.search(db_session(), params, page=page_arg(), raw_text=_raw_text())
    template = "history/_results.html" if is_htmx() else "history/index.html"
    return render_template(
        template,
        params=params,
        result=result,
        dates_swapped=(
            date_range.swapped(params.date_from, params.date_to, doing="searching")
            if params != asked
            else ""
        ),
        imported=bool(result.total) or history_search.anything_imported(db_session()),
        raw_text=_raw_text(),
        saved=history_search.saved_for(db_session(), actor_id()),
        args=params.to_args(),
        parquet=history_search.parquet_available(),
        choices=_facet_choices(),
    )


#: The search's facet fields and the schema fields whose values they hold.
_FACET_FIELDS = {
    "category": "inquiry.category",
    "channel": "inquiry.channel",
    "tone": "tone.label",
    "resolution": "inquiry.resolution",
}


def _facet_choices() -> dict[str, list[str]]:
    """The values the schema allows for each enum facet, offered as the field's list of
    suggestions: the search matches values exactly (`chat`, not `Chat`)."""
    schema = rulesets.current_schema(db_session())
    out: dict[str, list[str]] = {}
    for name, path in _FACET_FIELDS.items():
        spec = schema.lookup(path)
        values = getattr(spec, "values", None)
        if values:
            out[name] = list(values)
    return out


@bp.get("/export.csv")
@security.requires("history")
def export() -> Response:
    params = history_search.SearchParams.from_args(request.args)
    rows = history_search.export_csv(db_session(), params, raw_text=_raw_text())
    return Response(
        stream_with_context(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=interactions.csv"},
    )


@bp.get("/export.parquet")
@security.requires("history")
def export_parquet() -> Response:
    params = history_search.SearchParams.from_args(request.args)
    return parquet_download(
        lambda path: history_search.export_parquet(
            db_session(), params, path, raw_text=_raw_text()
        ),
        "interactions.parquet",
    )


@bp.post("/saved")
@security.requires("history")
def save_search() -> Response:
    params = history_search.SearchParams.from_args(request.form)
    saved = history_search.save(
        db_session(), name=request.form.get("name", ""), params=params, owner_id=actor_id()
    )
    if isinstance(saved, FieldError):
        raise ValidationFailed([saved])
    flash(f"Saved the search “{saved.name}”.")
    args: dict[str, Any] = params.to_args()  # filters only, never url_for's own _external...
    return redirect(url_for("history.index", **args))


@bp.route("/saved/<int:saved_id>/remove", methods=["GET", "POST"])
@security.requires("history")
def remove_saved(saved_id: int) -> str | Response:
    saved = history_search.saved_one(db_session(), saved_id, actor_id())
    if saved is None:
        abort(404, description="There is no such saved search of yours.")
    if request.method == "GET":
        return render_template("history/confirm_remove_saved.html", saved=saved)
    name = saved.name
    history_search.remove_saved(db_session(), saved)
    flash(f"Removed the saved search “{name}”.")
    return redirect(url_for("history.index"))


@bp.get("/customers/<customer_id>")
@security.requires("history")
def customer(customer_id: str) -> str:
    entries = history_search.timeline(db_session(), customer_id[:100], raw_text=_raw_text())
    if not entries:
        abort(404, description=f"There is no history for the customer {customer_id[:100]}.")
    return render_template(
        "history/customer.html", customer_id=customer_id, entries=entries, raw_text=_raw_text()
    )


@bp.get("/i/<interaction_id>")
@security.requires("history")
def interaction(interaction_id: str) -> str:
    row = history_search.interaction(db_session(), interaction_id)
    if row is None:
        abort(404, description=f"There is no interaction {interaction_id[:128]}.")
    return render_template("history/interaction.html", row=row, raw_text=_raw_text())


@bp.get("/i/<interaction_id>/preview")
@security.requires("history")
def preview(interaction_id: str) -> str:
    """The full preview of an imported interaction: what the drafts decide and render."""
    row = history_search.interaction(db_session(), interaction_id)
    if row is None:
        abort(404, description=f"There is no interaction {interaction_id[:128]}.")
    back = request.args.get("backtest", "")
    return render_template(
        "history/preview.html", row=row, backtest_id=int(back) if back.isdigit() else None
    )


@bp.post("/i/<interaction_id>/promote")
@security.requires("interactions")
def promote(interaction_id: str) -> Response:
    """Copy a real interaction into the sample library, redacted."""
    row = history_search.interaction(db_session(), interaction_id)
    if row is None:
        abort(404, description=f"There is no interaction {interaction_id[:128]}.")
    body = redaction.redact_body(dict(row.body))
    key = samples.slug(f"history-{interaction_id}")
    sample = samples.create(
        db_session(),
        key=key,
        name=request.form.get("name", "").strip() or f"From history: {row.intent or row.category}",
        tags="history",
        body=body,
        actor_id=actor_id(),
    )
    flash(f"Added {sample.key} to the sample library (redacted).")
    return redirect(url_for("interactions.show", key=sample.key))


# --- imports --------------------------------------------------------------------------------


@bp.get("/imports")
@security.requires("history")
def imports() -> str:
    return _imports_page()


def _imports_page(upload_error: str = "") -> str:
    """The imports page; `upload_error` says why the last upload was refused."""
    return render_template(
        "history/imports.html",
        records=interaction_import.recent(db_session()),
        total=interaction_import.total_interactions(db_session()),
        upload_error=upload_error,
    )


@bp.post("/imports")
@security.requires("history")
def upload() -> Response | tuple[str, int]:
    request.max_content_length = MAX_UPLOAD
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        return _imports_page(
            "Choose a .jsonl, .ndjson, .json or .csv file (optionally .gz) to import."
        ), 422
    name = secure_filename(upload_file.filename) or "upload"
    folder = interaction_import.uploads_folder(current_app.instance_path)
    path = folder / f"{uuid.uuid4().hex}-{name}"
    upload_file.save(path)
    try:
        record = interaction_import.create(
            db_session(),
            path=path,
            filename=name,
            redact=request.form.get("redact") == "1",
            actor_id=actor_id(),
        )
    except interaction_import.ImportRefused as refused:
        Path(path).unlink(missing_ok=True)
        db_session().rollback()
        return _imports_page(f"Nothing was imported: {refused}."), 422
    enqueue_after_commit("interactions.import", import_id=record.id)
    return redirect(url_for("history.import_status", import_id=record.id))


@bp.get("/imports/<int:import_id>")
@security.requires("history")
def import_status(import_id: int) -> str:
    record = interaction_import.get(db_session(), import_id)
    if record is None:
        abort(404, description=f"There is no import #{import_id}.")
    problems = interaction_import.first_problems(db_session(), record)
    template = "history/_import.html" if is_htmx() else "history/import.html"
    return render_template(
        template,
        record=record,
        problems=problems,
        fraction=interaction_import.progress_fraction,
        resumable=interaction_import.resumable(record),
    )


@bp.post("/imports/<int:import_id>/cancel")
@security.requires("history")
def cancel_import(import_id: int) -> Response:
    record = interaction_import.get(db_session(), import_id)
    if record is None:
        abort(404)
    interaction_import.request_cancel(db_session(), record)
    return redirect(url_for("history.import_status", import_id=import_id))


@bp.post("/imports/<int:import_id>/resume")
@security.requires("history")
def resume_import(import_id: int) -> Response:
    record = interaction_import.get(db_session(), import_id)
    if record is None:
        abort(404)
    if interaction_import.resumable(record):
        record.status = "queued"
        enqueue_after_commit("interactions.import", import_id=import_id)
    return redirect(url_for("history.import_status", import_id=import_id))


@bp.get("/imports/<int:import_id>/problems.csv")
@security.requires("history")
def import_problems(import_id: int) -> Response:
    record = interaction_import.get(db_session(), import_id)
    if record is None:
        abort(404)
    rows = interaction_import.problems_csv(db_session(), record)
    return Response(
        stream_with_context(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=import-{import_id}-problems.csv"},
    )


# --- backtests ------------------------------------------------------------------------------


@bp.app_context_processor
def _review_backtest() -> dict[str, object]:
    """`review_backtest(change_id)` for reviews/_backtest.html: the latest backtest."""
    return {
        "review_backtest": lambda change_id: backtests.latest_for_change(db_session(), change_id),
        "default_backtest_from": backtests.default_slice()["date_from"],
        "chart_titles": backtest_charts.TITLES,
    }


@bp.post("/backtests")
@security.requires("history")
def start_backtest() -> Response:
    params = history_search.SearchParams.from_args(request.form)
    change = request.form.get("change_request_id", "")
    row = backtests.create(
        db_session(),
        params=params,
        actor_id=actor_id(),
        change_request_id=int(change) if change.isdigit() else None,
    )
    enqueue_after_commit("backtests.run", backtest_id=row.id)
    return redirect(url_for("history.backtest", backtest_id=row.id))


@bp.get("/backtests/<int:backtest_id>")
@security.requires("history")
def backtest(backtest_id: int) -> str:
    row = backtests.get(db_session(), backtest_id)
    if row is None:
        abort(404, description=f"There is no backtest #{backtest_id}.")
    template = "history/_backtest.html" if is_htmx() else "history/backtest.html"
    return render_template(template, row=row)


@bp.get("/backtests/<int:backtest_id>/charts/<name>.svg")
@security.requires("history")
def backtest_chart(backtest_id: int, name: str) -> Response:
    """A finished backtest's chart, as an image document under the chart policy."""
    row = backtests.get(db_session(), backtest_id)
    svg = backtest_charts.chart(row.result, name) if row is not None else None
    if row is None or row.status != "done" or svg is None:
        abort(404, description=f"Backtest #{backtest_id} has no chart {name[:40]}.")
    response = Response(svg, mimetype="image/svg+xml")
    security.frame_policy(response, security.CHART_POLICY)
    return response


@bp.post("/backtests/<int:backtest_id>/cancel")
@security.requires("history")
def cancel_backtest(backtest_id: int) -> Response:
    row = backtests.get(db_session(), backtest_id)
    if row is None:
        abort(404)
    backtests.request_cancel(row)
    return redirect(url_for("history.backtest", backtest_id=backtest_id))
