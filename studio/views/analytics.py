"""Analytics: how offers perform once downstream systems report what customers did."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context
from werkzeug.wrappers import Response as WerkzeugResponse

from studio import security
from studio.db import db_session
from studio.services import analytics, attribution, harm, parquet_files
from studio.views.downloads import parquet_download
from studio.web import is_htmx

bp = Blueprint("analytics", __name__, url_prefix="/analytics")


def _window() -> analytics.ChosenWindow:
    """The window the page shows for its `start` and `end`, with what was changed. Every
    analytics page, chart and export reads its window here, so a link or an export made
    from a page covers the days the page shows."""
    return analytics.choose_window(request.args.get("start"), request.args.get("end"))


def _report(window: analytics.Window) -> analytics.Report:
    return analytics.report(db_session(), window, offer_key=request.args.get("offer", "")[:64])


@bp.get("/")
@security.requires("analytics")
def index() -> str:
    chosen = _window()
    shown = (chosen.window.start.isoformat(), chosen.window.end.isoformat())
    asked = (request.args.get("start", ""), request.args.get("end", ""))
    template = "analytics/_report.html" if is_htmx() else "analytics/index.html"
    return render_template(
        template,
        report=_report(chosen.window),
        chosen=chosen,
        # htmx swaps only the report: the From and To inputs come along when they would
        # otherwise keep showing dates other than the window's.
        refill_dates=is_htmx() and asked != shown,
        offer=request.args.get("offer", ""),
    )


@bp.get("/chart.svg")
@security.requires("analytics")
def chart() -> Response:
    report = _report(_window().window)
    response = Response(analytics.acceptance_chart(report), mimetype="image/svg+xml")
    security.frame_policy(response, security.CHART_POLICY)
    response.headers["Cache-Control"] = "no-store"
    return response


def _lift_args() -> tuple[analytics.Window, attribution.Filters]:
    return _window().window, attribution.Filters.from_args(request.args)


@bp.get("/lift")
@security.requires("analytics")
def lift_page() -> str:
    chosen = _window()
    window, filters = chosen.window, attribution.Filters.from_args(request.args)
    found = attribution.attribution(db_session(), window, filters)
    return render_template(
        "analytics/lift.html",
        window=window,
        chosen=chosen,
        filters=filters,
        found=found,
        offer_keys=attribution.offer_keys(db_session()),
        dimension=request.args.get("by", "offer"),
        grain=request.args.get("grain", "day"),
        dimensions=attribution.DIMENSIONS,
        grains=attribution.GRAINS,
        parquet=parquet_files.available(),
    )


@bp.get("/trend.svg")
@security.requires("analytics")
def trend_chart() -> Response:
    window, filters = _lift_args()
    found = attribution.trend(
        db_session(),
        window,
        filters,
        dimension=request.args.get("by", "offer"),
        grain=request.args.get("grain", "day"),
    )
    response = Response(attribution.trend_chart(found), mimetype="image/svg+xml")
    security.frame_policy(response, security.CHART_POLICY)
    response.headers["Cache-Control"] = "no-store"
    return response


_FORMULA = attribution.FORMULA_STARTS


_CSV_ROWS_PER_CHUNK = 1000


def _csv_cell(value: object) -> object:
    # A spreadsheet runs a cell that starts like a formula; quote it as text instead.
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return "" if value is None else value


def _csv_chunks(found: attribution.Export) -> Iterator[str]:
    """The export as CSV text, `_CSV_ROWS_PER_CHUNK` rows a piece.

    Only the cells that may need it go through `_csv_cell`: the text columns (a formula
    is quoted) and the timestamps (written with their time zone); numbers and dates are
    written as they are, and the csv module writes None as an empty cell. A 155,000-row
    rollup export spent most of its time calling `_csv_cell` on every cell."""
    kinds = found.kinds
    touched = [
        index
        for index, column in enumerate(found.columns)
        if kinds.get(column) in (None, "timestamp")
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(found.columns)
    if found.csv_text is not None:  # made by the database, or from the driver's rows
        yield out.getvalue()
        yield from found.csv_text()
        return
    chunk: list[list[Any]] = []
    for row in found.rows:
        for index in touched:
            value = row[index]
            if value is not None:
                row[index] = _csv_cell(value)
        chunk.append(row)
        if len(chunk) == _CSV_ROWS_PER_CHUNK:
            writer.writerows(chunk)
            chunk.clear()
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    writer.writerows(chunk)
    yield out.getvalue()


def _export() -> attribution.Export:
    window, filters = _lift_args()
    return attribution.export(db_session(), request.args.get("table", "rollups"), window, filters)


def _file_name(found: attribution.Export, suffix: str) -> str:
    window, _filters = _lift_args()
    return f"{found.name}-{window.start}-{window.end}.{suffix}"


@bp.get("/export.csv")
@security.requires("analytics")
def export() -> Response:
    found = _export()
    # Streamed in pieces of `_CSV_ROWS_PER_CHUNK` rows: one chunk per row costs the server
    # more than writing the rows (a 100,000-row export took over a second).
    return Response(
        stream_with_context(_csv_chunks(found)),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={_file_name(found, 'csv')}"},
    )


@bp.get("/export.parquet")
@security.requires("analytics")
def export_parquet() -> WerkzeugResponse:
    """The same tables as the CSV export, as Parquet with typed columns (pyarrow)."""
    found = _export()
    return parquet_download(
        lambda path: parquet_files.write(path, found.columns, found.kinds, found.rows),
        _file_name(found, "parquet"),
    )


@bp.get("/harm")
@security.requires("analytics")
def harm_page() -> str:
    chosen = _window()
    return render_template(
        "analytics/harm.html",
        window=chosen.window,
        chosen=chosen,
        found=harm.report(db_session(), chosen.window),
    )
