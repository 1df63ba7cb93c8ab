"""The downstream API, `/api/v1`: signed bundles, decisions, feedback events.

Token-authenticated (`Authorization: Bearer`), never session-authenticated, so these
views are `@security.public` for the studio's page guard and CSRF skips the blueprint
named "api". Every answer is JSON, including routing errors and oversized bodies, which
`_api_preflight` answers before the studio's page hooks can render an HTML error.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, request
from flask.blueprints import BlueprintSetupState
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response

from bundle.decision_record import new_decision_id
from bundle.format import KEYS_SIGNATURE_HEADER
from studio import loop_jobs, security
from studio.api import messages as api_messages
from studio.api import openapi
from studio.api.auth import token_required
from studio.api.body import MAX_BODY_BYTES, read_json, too_large
from studio.api.bundle_cache import bundle_cache
from studio.api.errors import ApiError, from_http_exception, from_refusal, json_response
from studio.db import db_session, roll_back_request
from studio.errors import FieldError, NotAllowed, Refusal, ValidationFailed
from studio.outages import database_unavailable
from studio.services import (
    bundles,
    contact_history,
    decision_log,
    decisions,
    events,
    interaction_ingest,
    signing,
)
from studio.services.bundle_cache import Pointer, ServedBundle

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PREFIX = "/api/v1/"
MAX_VERSION = 2**31 - 1
#: Below gunicorn's own 8190-byte field limit, so the API's answer is always this JSON.
MAX_HEADER_BYTES = 4096
CURRENT_CACHE = "private, no-cache"
VERSION_CACHE = "private, max-age=31536000, immutable"


def _api_preflight() -> Response | None:
    """Answer API routing errors and oversized bodies in JSON, before any page hook."""
    if not request.path.startswith(PREFIX):
        return None
    failure = request.routing_exception
    if isinstance(failure, HTTPException) and not isinstance(failure, RequestRedirect):
        return from_http_exception(failure).to_response()
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return too_large().to_response()
    for name, value in request.headers.items():
        if len(name) + len(value) > MAX_HEADER_BYTES:
            return ApiError(
                431,
                "header_too_large",
                f"The {name} header is {len(value)} bytes long; the API accepts "
                f"headers up to {MAX_HEADER_BYTES} bytes.",
                field=name,
            ).to_response()
    return None


@bp.record_once
def _install_preflight(state: BlueprintSetupState) -> None:
    state.app.before_request_funcs.setdefault(None, []).insert(0, _api_preflight)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    roll_back_request()
    return from_http_exception(error).to_response()


@bp.errorhandler(NotAllowed)
def _not_allowed(refused: NotAllowed) -> Response:
    """The app answers NotAllowed with a 403 page; the API, in its own JSON shape."""
    roll_back_request()
    return ApiError(403, "forbidden", str(refused)).to_response()


@bp.errorhandler(ValidationFailed)
def _invalid(failed: ValidationFailed) -> Response:
    """The first problem, with the field it is about, as every API error names one."""
    roll_back_request()
    first = failed.errors[0] if failed.errors else FieldError("", str(failed))
    more = f" (and {len(failed.errors) - 1} more)" if len(failed.errors) > 1 else ""
    return ApiError(422, "invalid", first.message + more, field=first.field or None).to_response()


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    try:
        roll_back_request()
    except Exception:  # noqa: BLE001 - with the database gone the rollback may fail too
        current_app.logger.warning("API rollback failed")
    if database_unavailable(error):
        current_app.logger.error("API: database unavailable: %s", type(error).__name__)
        return ApiError(
            503,
            "database_unavailable",
            "The studio's database is unreachable and this answer needs it; "
            "try again in a moment. Bundles already served keep working.",
            headers={"Retry-After": "5"},
        ).to_response()
    current_app.logger.exception("API error", exc_info=error)
    return ApiError(
        500,
        "internal",
        "Something went wrong on our side; the error has been logged and nothing was stored.",
    ).to_response()


def _answer(result: object) -> Response:
    if isinstance(result, Refusal):
        return from_refusal(result).to_response()
    return json_response(result)


# --- bundles ---------------------------------------------------------------------------


def _bundle_headers(pointer: Pointer, cache_control: str) -> dict[str, str]:
    return {
        "ETag": f'"{pointer.digest}"',
        "Cache-Control": cache_control,
        "X-Bundle-Signature": pointer.signature_header,
        "X-Bundle-Version": str(pointer.version),
        "Vary": "Authorization",
    }


def _not_modified(pointer: Pointer) -> bool:
    return request.if_none_match.contains_weak(pointer.digest)


def _bundle_response(served: ServedBundle, cache_control: str) -> Response:
    response = Response(served.data, mimetype="application/json")
    response.headers.update(_bundle_headers(served.pointer, cache_control))
    return response


def _unmodified_response(pointer: Pointer, cache_control: str) -> Response:
    response = Response(status=304)
    response.headers.update(_bundle_headers(pointer, cache_control))
    return response


def _no_bundle() -> Response:
    return ApiError(
        404, "no_bundle", "Nothing has been published yet: publish a bundle in the studio first."
    ).to_response()


@bp.get("/bundles/current")
@security.public
@token_required("bundles:read")
def current_bundle() -> Response:
    cache = bundle_cache()
    pointer = cache.current(db_session)
    if pointer is None:
        return _no_bundle()
    if _not_modified(pointer):
        return _unmodified_response(pointer, CURRENT_CACHE)
    served = decisions.served_bundle(db_session, cache, pointer.version)
    if isinstance(served, Refusal):
        return from_refusal(served).to_response()
    return _bundle_response(served, CURRENT_CACHE)


@bp.get(f"/bundles/<int(min=1, max={MAX_VERSION}):version>")
@security.public
@token_required("bundles:read")
def bundle_version(version: int) -> Response:
    served = decisions.served_bundle(db_session, bundle_cache(), version)
    if isinstance(served, Refusal):
        return from_refusal(served).to_response()
    if _not_modified(served.pointer):
        return _unmodified_response(served.pointer, VERSION_CACHE)
    return _bundle_response(served, VERSION_CACHE)


def _signature(version: int | None) -> Response:
    served = decisions.served_bundle(db_session, bundle_cache(), version)
    if isinstance(served, Refusal):
        return from_refusal(served).to_response()
    pointer = served.pointer
    return json_response(
        {
            "version": pointer.version,
            "digest": pointer.digest,
            "key_id": pointer.key_id,
            "algorithm": signing.ALGORITHM,
            "signature": pointer.signature,
        }
    )


@bp.get("/bundles/current/signature")
@security.public
@token_required("bundles:read")
def current_signature() -> Response:
    return _signature(None)


@bp.get(f"/bundles/<int(min=1, max={MAX_VERSION}):version>/signature")
@security.public
@token_required("bundles:read")
def version_signature(version: int) -> Response:
    return _signature(version)


@bp.get("/keys")
@security.public
def keys() -> Response:
    data, signatures = bundles.key_announcement(db_session(), current_app.instance_path)
    headers = {"Cache-Control": "public, max-age=300"}
    if signatures:
        headers[KEYS_SIGNATURE_HEADER] = signatures
    return Response(data, mimetype="application/json", headers=headers)


# --- decisions and events -----------------------------------------------------------------


def _log_decision(answer: dict[str, Any], interaction: Any) -> str:
    """Store the decision in the decision log; with the database down the decision is
    still answered (from the bundle in memory) with an id, marked as not logged."""
    try:
        return decision_log.record_decision(db_session(), answer, interaction)
    except DBAPIError:
        roll_back_request()
        current_app.logger.warning("decision answered but not logged: the database is down")
        answer["decision_logged"] = False
        return str(answer.get("decision_id") or new_decision_id())


@bp.post("/decide")
@security.public
@token_required("decide")
def decide() -> Response:
    body = read_json(request)
    if isinstance(body, ApiError):
        return body.to_response()
    open_raw = body.pop("open_message", None) if isinstance(body, dict) else None
    parsed = decisions.parse_request(body)
    if isinstance(parsed, Refusal):
        return from_refusal(parsed).to_response()
    if open_raw is None:
        answer = decisions.decide(db_session, bundle_cache(), parsed, commit_visit=True)
        if not isinstance(answer, Refusal):
            answer["decision_id"] = _log_decision(answer, parsed.interaction)
        return _answer(answer)
    spec = api_messages.may_open() or api_messages.parse_open(open_raw, parsed.interaction)
    if isinstance(spec, ApiError):
        return spec.to_response()
    result = api_messages.decide_and_open(db_session(), db_session, bundle_cache(), parsed, spec)
    if isinstance(result, ApiError):
        return result.to_response()
    result["decision_id"] = decision_log.record_decision(db_session(), result, parsed.interaction)
    return json_response(result, status=201)


@bp.post("/messages")
@security.public
@token_required(api_messages.SCOPE)
def post_message() -> Response:
    body = read_json(request)
    if isinstance(body, ApiError):
        return body.to_response()
    parsed = api_messages.parse_message(body)
    if isinstance(parsed, ApiError):
        return parsed.to_response()
    spec, layout = parsed
    result = api_messages.open_message(db_session(), db_session, bundle_cache(), spec, layout)
    if isinstance(result, ApiError):
        return result.to_response()
    return json_response({"message": result}, status=201, headers={"Location": result["url"]})


@bp.post("/events")
@security.public
@token_required("events:write")
def post_events() -> Response:
    body = read_json(request)
    if isinstance(body, ApiError):
        return body.to_response()
    report = events.ingest(db_session(), body)
    if isinstance(report, Refusal):
        return from_refusal(report).to_response()
    loop_jobs.enqueue_after_commit(db_session())
    return json_response(report.to_dict())


@bp.post("/decisions")
@security.public
@token_required("events:write")
def post_decisions() -> Response:
    body = read_json(request)
    if isinstance(body, ApiError):
        return body.to_response()
    report = decision_log.ingest(db_session(), body)
    if isinstance(report, Refusal):
        return from_refusal(report).to_response()
    return json_response(report.to_dict())


@bp.post("/interactions")
@security.public
@token_required("interactions:write")
def post_interactions() -> Response:
    body = read_json(request)
    if isinstance(body, ApiError):
        return body.to_response()
    report = interaction_ingest.ingest(db_session(), body)
    if isinstance(report, Refusal):
        return from_refusal(report).to_response()
    return json_response(report.to_dict())


@bp.post("/contacts")
@security.public
@token_required("events:write")
def post_contacts() -> Response:
    body = read_json(request)
    if isinstance(body, ApiError):
        return body.to_response()
    report = contact_history.ingest_reports(db_session(), body)
    if isinstance(report, Refusal):
        return from_refusal(report).to_response()
    return json_response(report.to_dict())


# --- the document -----------------------------------------------------------------------


@bp.get("/openapi.json")
@security.public
def openapi_document() -> Response:
    data = json.dumps(openapi.document(), separators=(",", ":"))
    return Response(
        data, mimetype="application/json", headers={"Cache-Control": "public, max-age=300"}
    )
