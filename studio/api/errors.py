"""Every API failure is one JSON shape: `{"error": {"code", "message", "field"}}`.

Downstream systems are programs, so an error must be machine-readable (a stable `code`),
say what to fix in plain words (`message`), and point at the offending part of the
request (`field`, a dotted path such as ``events[3].type``) when there is one. The API
never answers with an HTML page, whatever went wrong.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from studio.errors import Refusal

#: The stable codes for HTTP-level failures, by status.
HTTP_CODES: Mapping[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be read."),
    401: ("unauthenticated", "Send a valid API token as 'Authorization: Bearer <token>'."),
    403: ("forbidden", "This API token may not do that."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    406: ("not_acceptable", "This API answers in JSON only."),
    413: ("body_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send the body as application/json."),
    500: ("internal", "Something went wrong on our side; the error has been logged."),
    503: ("unavailable", "The service cannot answer right now; try again shortly."),
}


@dataclasses.dataclass(frozen=True)
class ApiError:
    """A refused request, as a value: views return it, `to_response` renders it."""

    status: int
    code: str
    message: str
    field: str | None = None
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}

    def to_response(self) -> Response:
        response = Response(
            json.dumps(self.to_dict()), status=self.status, mimetype="application/json"
        )
        response.headers["Cache-Control"] = "no-store"
        for name, value in self.headers.items():
            response.headers[name] = value
        return response


#: The status of each kind of `Refusal` a service returns.
REFUSAL_STATUS: Mapping[str, int] = {
    "invalid": 400,
    "too_large": 413,
    "not_found": 404,
    "unavailable": 503,
}


def from_refusal(refusal: Refusal) -> ApiError:
    """The JSON form of a service's refusal."""
    return ApiError(
        REFUSAL_STATUS[refusal.kind], refusal.code, refusal.message, field=refusal.field
    )


def from_http_exception(error: HTTPException) -> ApiError:
    """The JSON form of a werkzeug error (routing, 413, ...), keeping its Allow header."""
    status = error.code or 500
    code, message = HTTP_CODES.get(status, ("http_error", error.name))
    headers = {}
    if status == 405:
        allowed = getattr(error, "valid_methods", None) or []
        headers["Allow"] = ", ".join(sorted(allowed))
    if status == 413:
        message = "The request body is larger than the API accepts (1 MB)."
    return ApiError(status, code, message, headers=headers)


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A compact JSON answer; API answers are never cached by default."""
    response = Response(
        json.dumps(data, separators=(",", ":"), ensure_ascii=False),
        status=status,
        mimetype="application/json",
    )
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
