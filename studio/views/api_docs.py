"""The API reference page, rendered on the server from the served OpenAPI document.

No documentation widget from a CDN: the page is plain HTML built from the same
`studio.api.openapi.document()` that `/api/v1/openapi.json` serves, so it cannot drift
and works under the studio's Content-Security-Policy. Public, like the document itself:
integrators read it before they hold a studio account.
"""

from __future__ import annotations

import json

from flask import Blueprint, render_template

from studio import security
from studio.api import openapi

bp = Blueprint("api_docs", __name__, url_prefix="/api")


@bp.get("/docs")
@security.public
def page() -> str:
    model = openapi.page_model(openapi.document())
    for operation in model["operations"]:
        example = operation["example"]
        operation["example"] = json.dumps(example, indent=2) if example is not None else None
    return render_template("api/docs.html", api=model)
