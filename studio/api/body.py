"""Reading API request bodies: JSON only, capped in size, checked field by field.

The cap is far below the studio's form limit: an interaction or a batch of events is a
few kilobytes, and a decide endpoint that parses whatever it is sent is an easy way to
burn a worker. Malformed JSON and unknown fields are refused with the path of the field
at fault, before anything is stored.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Final

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

from studio.api.errors import ApiError
from studio.services.json_shape import storable_text

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
    except RecursionError:
        line, column = _too_deep_at(data)
        return ApiError(
            400,
            "too_deep",
            f"The body nests more than {MAX_DEPTH} levels deep (from line {line}, "
            f"column {column}).",
        )
    except _NotJSON as exc:
        return ApiError(
            400,
            "invalid_json",
            f"The body is not valid JSON: {exc.name} is not a JSON number "
            "(non-finite numbers are not accepted).",
        )
    except ValueError:  # an integer longer than Python reads (4,300 digits)
        return ApiError(
            400,
            "invalid_json",
            "The body is not valid JSON the studio can read: a number has more than "
            f"{sys.get_int_max_str_digits():,} digits.",
        )
    # Text can hold a NUL or a lone surrogate only through a \u escape (JSON forbids raw
    # control characters, UTF-8 cannot encode surrogates): without one, only depth is checked.
    found = _unstorable(value, 0, strings=b"\\u" in data)
    if found is None:
        return value
    code, parts = found
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in reversed(parts))
    if code == "too_deep":
        return ApiError(
            400,
            "too_deep",
            f"The body nests more than {MAX_DEPTH} levels deep.",
            field=path.removeprefix(".") or None,
        )
    return ApiError(
        400,
        "invalid_text",
        "Text may not contain NUL characters or unpaired surrogates.",
        field=path.removeprefix(".") or None,
    )


def _unstorable(value: Any, depth: int, *, strings: bool) -> tuple[str, list[Any]] | None:
    """The first text no database or UTF-8 answer can hold (NUL, lone surrogates), or
    nesting deeper than `MAX_DEPTH`: (code, path parts innermost first), else None.

    The path is built only on the way out of a problem: a clean batch of 500 events is
    walked without making a string per field."""
    if depth > MAX_DEPTH:
        return "too_deep", []
    if isinstance(value, str):
        if strings and not storable_text(value):
            return "invalid_text", []
    elif isinstance(value, dict):
        # Without text to check, only containers are walked (depth).
        walked = dict | list | str if strings else dict | list
        for key, item in value.items():
            found = _unstorable(key, depth, strings=strings) if strings else None
            if found is None and (depth >= MAX_DEPTH or isinstance(item, walked)):
                found = _unstorable(item, depth + 1, strings=strings)
            if found is not None:
                found[1].append(str(key))
                return found
    elif isinstance(value, list):
        walked = dict | list | str if strings else dict | list
        for index, item in enumerate(value):
            if depth >= MAX_DEPTH or isinstance(item, walked):
                found = _unstorable(item, depth + 1, strings=strings)
                if found is not None:
                    found[1].append(index)
                    return found
    return None


class _NotJSON(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not JSON")
        self.name = name


def _refuse_constant(name: str) -> Any:
    raise _NotJSON(name)


def _too_deep_at(data: bytes) -> tuple[int, int]:
    """Line and column (1-based) of the first bracket nested deeper than `MAX_DEPTH`: one
    pass over the bytes, strings skipped (a body the parser gave up on, at most 1 MB)."""
    depth, line, start = 0, 1, 0
    in_string = escaped = False
    for index, byte in enumerate(data):
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_DEPTH:
                return line, index - start + 1
        elif byte in (0x5D, 0x7D):
            depth -= 1
        if byte == 0x0A:
            line, start = line + 1, index + 1
    return line, 1
