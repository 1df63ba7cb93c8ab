"""The asset library: marketing uploads images once and reuses them in offers and layouts.

Images are served publicly at a content-addressed URL, because the emails and message
center pages that show them are opened by customers, not by studio users.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from studio import security
from studio.db import db_session
from studio.errors import ValidationFailed
from studio.services import assets
from studio.web import actor_id, is_htmx, page_arg

bp = Blueprint("assets", __name__, url_prefix="/assets")

ONE_YEAR = 365 * 24 * 3600


def _library(status: int = 200, errors: dict[str, str] | None = None) -> tuple[str, int]:
    query = request.args.get("q", "")
    page = assets.listing(db_session(), query=query, page=page_arg())
    template = "assets/_grid.html" if is_htmx() and status == 200 else "assets/index.html"
    return render_template(
        template,
        page=page,
        q=query,
        errors=errors or {},
        url_for_asset=assets.url_for_asset,
        max_mb=assets.MAX_BYTES // 1_048_576,
    ), status


@bp.get("/")
@security.requires("offers")
def index() -> tuple[str, int]:
    return _library()


@bp.post("/")
@security.requires("offers")
def upload() -> Response | tuple[str, int]:
    """Bodies past the app's MAX_CONTENT_LENGTH are refused with 413 before this runs;
    smaller files past the library's own cap get a message next to the field."""
    session = db_session()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _library(422, {"file": "Choose an image file to upload."})
    data = upload.stream.read(assets.MAX_BYTES + 1)
    try:
        stored = assets.store(session, filename=upload.filename, data=data, actor_id=actor_id())
    except ValidationFailed as failed:
        return _library(422, failed.by_field())
    if stored.existing:
        flash(f"This image is already in the library as {stored.asset.filename}.", "info")
    else:
        flash(
            f"{stored.asset.filename} uploaded ({stored.asset.width}×{stored.asset.height}).",
            "success",
        )
    return redirect(url_for("assets.index"))


@bp.get("/picker")
@security.requires("offers")
def picker() -> str:
    """The library as a list of choices, for the image field and the rich-text editor."""
    page = assets.listing(
        db_session(), query=request.args.get("q", ""), page=page_arg(), per_page=12
    )
    return render_template(
        "assets/_picker.html",
        page=page,
        q=request.args.get("q", ""),
        url_for_asset=assets.url_for_asset,
        target=request.args.get("target", "blocks.image_url"),
    )


@bp.get("/<sha256>.<extension>")
@security.public
def serve(sha256: str, extension: str) -> Response:
    asset = assets.get(db_session(), sha256, extension)
    if asset is None:
        abort(404)
    if request.if_none_match.contains(asset.sha256):
        response = Response(status=304)
    else:
        response = Response(asset.data, mimetype=asset.content_type)
    response.set_etag(asset.sha256)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    security.frame_policy(response, security.ASSET_POLICY)
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["Content-Disposition"] = "inline"
    return response
