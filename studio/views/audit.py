"""The audit log: read-only, filterable, paginated."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from studio import security
from studio.db import db_session
from studio.errors import ValidationFailed
from studio.services import audit_log
from studio.web import is_htmx, page_arg

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@security.requires("audit")
def index() -> str | tuple[str, int]:
    session = db_session()
    args = {k: request.args.get(k, "") for k in ("person", "object", "action", "since", "until")}
    status = 200
    errors: dict[str, str] = {}
    try:
        filters = audit_log.parse_filters(args)
    except ValidationFailed as failed:
        errors, filters, status = failed.by_field(), audit_log.Filters(), 422
    page = audit_log.search(session, filters, page=page_arg())
    template = "audit/_events.html" if is_htmx() else "audit/index.html"
    return render_template(
        template,
        page=page,
        filters=filters,
        args=args,
        errors=errors,
        people=audit_log.people(session),
        actions=audit_log.actions(session),
    ), status
