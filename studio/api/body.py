"""Reading API request bodies: JSON only, capped in size, checked field by field.

The cap is far below the studio's form limit: an interaction or a batch of events is a
few kilobytes, and a decide endpoint that parses whatever it is sent is an easy way to
burn a worker. Malformed JSON and unknown fields are refused with the path of the field
at fault, before anything is stored.
"""

from __future__ import annotations

import json
from typing import Any, Final

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

from studio.api.errors import ApiError

MAX_BODY_BYTES: Final = 1024 * 1024
MAX_DEPTH: Final = 64


def too_large() -> ApiError:
    return ApiError(
        413,
        "body_too_large",
        f"The request body is larger than the API accepts ({MAX_BODY_BYTES // 1024} KB).",
    )


def read_json(request: Request) -> Any | ApiError:
    """The request's JSON value, or the `ApiError` that says why it cannot be used."""
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        return ApiError(
            415,
            "unsupported_media_type",
            "Send the body as JSON with 'Content-Type: application/json'.",
        )
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return too_large()
    request.max_content_length = MAX_BODY_BYTES + 1  # one byte over tells "too large"
    try:
        data = request.get_data(cache=True)
    except RequestEntityTooLarge:
        return too_large()
    if len(data) > MAX_BODY_BYTES:
        return too_large()
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        return ApiError(400, "invalid_json", "The body is not UTF-8 text.")
    except json.JSONDecodeError as exc:
        return ApiError(
            400,
            "invalid_json",
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
        )
    except (ValueError, RecursionError):
        return ApiError(
            400,
            "invalid_json",
            "The body is not valid JSON (non-finite numbers and very deep "
            "nesting are not accepted).",
        )
    problem = _unstorable_text(value, "")
    return problem if problem is not None else value


def _unstorable_text(value: Any, path: str, depth: int = 0) -> ApiError | None:
    """Refuse text no database or UTF-8 answer can hold (NUL, lone surrogates)."""
    if depth > MAX_DEPTH:
        return ApiError(
            400,
            "too_deep",
            f"The body nests more than {MAX_DEPTH} levels deep.",
            field=path or None,
        )
    if isinstance(value, str):
        if "\x00" in value or not _encodable(value):
            return ApiError(
                400,
                "invalid_text",
                "Text may not contain NUL characters or unpaired surrogates.",
                field=path or None,
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            problem = _unstorable_text(key, where, depth) or _unstorable_text(
                item, where, depth + 1
            )
            if problem is not None:
                return problem
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problem = _unstorable_text(item, f"{path}[{index}]", depth + 1)
            if problem is not None:
                return problem
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
