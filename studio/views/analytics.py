"""Analytics: how offers perform once downstream systems report what customers did."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Blueprint, Response, render_template, request, stream_with_context
from werkzeug.wrappers import Response as WerkzeugResponse

from studio import security
from studio.db import db_session
from studio.services import analytics, attribution, harm, parquet_files
from studio.views.downloads import parquet_download
from studio.web import is_htmx

bp = Blueprint("analytics", __name__, url_prefix="/analytics")


def _report() -> analytics.Report:
    window = analytics.window_from(request.args.get("start"), request.args.get("end"))
    return analytics.report(db_session(), window, offer_key=request.args.get("offer", "")[:64])


@bp.get("/")
@security.requires("analytics")
def index() -> str:
    template = "analytics/_report.html" if is_htmx() else "analytics/index.html"
    return render_template(template, report=_report(), offer=request.args.get("offer", ""))


@bp.get("/chart.svg")
@security.requires("analytics")
def chart() -> Response:
    response = Response(analytics.acceptance_chart(_report()), mimetype="image/svg+xml")
    security.frame_policy(response, security.CHART_POLICY)
    response.headers["Cache-Control"] = "no-store"
    return response


def _lift_args() -> tuple[analytics.Window, attribution.Filters]:
    window = analytics.window_from(request.args.get("start"), request.args.get("end"))
    return window, attribution.Filters.from_args(request.args)


@bp.get("/lift")
@security.requires("analytics")
def lift_page() -> str:
    window, filters = _lift_args()
    found = attribution.attribution(db_session(), window, filters)
    return render_template(
        "analytics/lift.html",
        window=window,
        filters=filters,
        found=found,
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


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


_CSV_ROWS_PER_CHUNK = 1000


def _csv_cell(value: object) -> object:
    # A spreadsheet runs a cell that starts like a formula; quote it as text instead.
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return "" if value is None else value


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

    def generate() -> Iterator[str]:
        # Streamed in pieces of `_CSV_ROWS_PER_CHUNK` rows: one chunk per row costs the
        # server more than writing the rows (a 100,000-row export took over a second).
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(found.columns)
        for count, row in enumerate(found.rows, 1):
            writer.writerow([_csv_cell(v) for v in row])
            if count % _CSV_ROWS_PER_CHUNK == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    return Response(
        stream_with_context(generate()),
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
    window = analytics.window_from(request.args.get("start"), request.args.get("end"))
    return render_template(
        "analytics/harm.html", window=window, found=harm.report(db_session(), window)
    )
