"""The API reference page, rendered on the server from the served OpenAPI document.

No documentation widget from a CDN: the page is plain HTML built from the same
`studio.api.openapi.document()` that `/api/v1/openapi.json` serves, so it cannot drift
and works under the studio's Content-Security-Policy. Public, like the document itself:
integrators read it before they hold a studio account.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, render_template
from markupsafe import Markup, escape

from studio import security
from studio.api import openapi

bp = Blueprint("api_docs", __name__, url_prefix="/api")

_CODE = re.compile(r"`([^`]+)`")
_PROSE_KEYS = frozenset({"description", "auth"})


def _prose(text: str) -> Markup:
    """Escaped text where `backticks` become <code>, as the document's Markdown intends."""
    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(text))))


def _render_prose(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _prose(v) if k in _PROSE_KEYS and isinstance(v, str) else _render_prose(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_render_prose(item) for item in value]
    return value


@bp.get("/docs")
@security.public
def page() -> str:
    model = openapi.page_model(openapi.document())
    for operation in model["operations"]:
        example = operation["example"]
        operation["example"] = json.dumps(example, indent=2) if example is not None else None
    return render_template("api/docs.html", api=_render_prose(model))
