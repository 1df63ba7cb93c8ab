"""Preview endpoints: the pane in every editor asks here as the person types.

One endpoint per kind of artifact, each guarded by that artifact's area, so a
marketer previews offers and layouts and a service lead previews rulesets. The
sample pages use the `sample` endpoint. Rendered emails and message-center pages are
served from their own URL with a policy that lets them draw but never run anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, render_template, request
from werkzeug.wrappers import Response

from studio import security
from studio.db import db_session
from studio.roles import RAW_TEXT_ROLES
from studio.services import artifacts, contact_policy, history_search, previews

bp = Blueprint("preview", __name__, url_prefix="/preview")


def _owner() -> int:
    user = security.current_user()
    assert user is not None
    return user.id


def _pane(
    kind: str | None = None,
    key: str | None = None,
    history: tuple[str, Mapping[str, Any]] | None = None,
) -> str:
    """The whole pane on first load (`part=pane`), else only the result below it."""
    # The contact policy's pane works before the policy's first save.
    checked = kind is not None and kind != "policy" and key is not None
    if checked and artifacts.find(db_session(), str(kind), str(key)) is None:
        abort(404, description=f"There is no {kind} with the key {key}.")
    view = previews.render(
        db_session(), form=request.form, owner=_owner(), kind=kind, key=key, history=history
    )
    template = (
        "preview/_pane_body.html" if request.form.get("part") == "pane" else "preview/_result.html"
    )
    return render_template(template, view=view, pv_url=request.path)


@bp.post("/offers/<key>")
@security.requires("offers")
def offer(key: str) -> str:
    return _pane("offer", key)


@bp.post("/layouts/<key>")
@security.requires("layouts")
def layout(key: str) -> str:
    return _pane("layout", key)


@bp.post("/rules/<key>")
@security.requires("rules")
def ruleset(key: str) -> str:
    return _pane("ruleset", key)


@bp.post("/policy")
@security.requires("rules")
def policy() -> str:
    """The pane in the contact policy editor: every ruleset, the typed policy applied."""
    return _pane("policy", contact_policy.KEY)


@bp.post("/samples")
@security.requires("interactions")
def sample() -> str:
    return _pane()


@bp.post("/history/<interaction_id>")
@security.requires("history")
def history_interaction(interaction_id: str) -> str:
    """The pane for an imported interaction (a backtest's example), decided by the drafts;
    its text only for the roles that see raw text."""
    row = history_search.interaction(db_session(), interaction_id)
    if row is None:
        abort(404, description=f"There is no interaction {interaction_id[:128]}.")
    user = security.current_user()
    raw_text = user is not None and bool(user.roles & RAW_TEXT_ROLES)
    body = dict(row.body) if raw_text else history_search.without_text(row.body)
    return _pane(history=(f"From history: {interaction_id}", body))


@bp.get("/documents/<doc_id>")
@security.signed_in
def document(doc_id: str) -> Response:
    """A rendered email or page, for a `sandbox=""` frame: it may draw, never run."""
    html = previews.document(doc_id, _owner())
    if html is None:
        html = (
            '<!doctype html><title>Preview expired</title><p style="font-family:'
            'sans-serif;color:#6b7488">This preview has expired. Change anything in '
            "the editor, or reload the page, to render it again.</p>"
        )
    response = Response(html, mimetype="text/html")
    security.frame_policy(response, security.PREVIEW_DOCUMENT_POLICY)
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-store"
    return response
