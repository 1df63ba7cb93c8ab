"""Analytics: how offers perform once downstream systems report what customers did."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from studio import security
from studio.db import db_session
from studio.services import analytics
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
