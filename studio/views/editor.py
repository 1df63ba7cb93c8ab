"""JSON endpoints for the code editors: live diagnostics with ranges and quick fixes,
the completion and hover vocabulary, formatting, and a fresh form token so a save
refused after the session ended can be sent again without losing the text."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request
from werkzeug.wrappers import Response

from studio import security
from studio.db import db_session
from studio.services import layouts, previews, rule_editor, rulesets, template_vocabulary

bp = Blueprint("editor", __name__, url_prefix="/editor")


def _text(name: str) -> str:
    """A text field from a JSON body or a form, empty when missing or not text."""
    body: Any = request.get_json(silent=True) if request.is_json else None
    value = body.get(name, "") if isinstance(body, dict) else request.form.get(name, "")
    return value if isinstance(value, str) else ""


def _ruleset_key() -> str:
    """The ruleset being edited: its key on the edit page, the typed key on the new one."""
    return (_text("ruleset_key") or _text("key")).strip() or "new_ruleset"


@bp.post("/rules/diagnostics")
@security.requires("rules")
def rule_diagnostics() -> Response:
    """Every diagnostic of the posted source, with ranges and one-click fixes."""
    return jsonify(
        rule_editor.diagnostics(
            db_session(), _text("source"), name=_text("name") or "ruleset", key=_ruleset_key()
        )
    )


@bp.post("/rules/problems")
@security.requires("rules")
def rule_problems() -> str:
    """The problems list (htmx partial), from the same remembered answer as the markers."""
    return render_template(
        "rules/_diagnostics.html",
        report=rule_editor.report(
            db_session(), _text("source"), name=_text("name") or "ruleset", key=_ruleset_key()
        ),
    )


@bp.get("/rules/vocabulary")
@security.requires("rules")
def rule_vocabulary() -> Response:
    """Fields, enum values, offers and keywords for completion and hover docs."""
    return jsonify(rule_editor.vocabulary(db_session()))


@bp.post("/rules/format")
@security.requires("rules")
def rule_format() -> Response | tuple[Response, int]:
    formatted = rulesets.format_source(_text("source"))
    if formatted is None:
        return jsonify(
            {"error": "Fix the errors first: only a ruleset that parses can be formatted."}
        ), 422
    return jsonify({"source": formatted})


@bp.post("/layouts/diagnostics")
@security.requires("layouts")
def layout_diagnostics() -> Response:
    report = layouts.check(_text("source"), _text("channel") or "email_html")
    return jsonify(
        {
            "ok": report.ok,
            "errors": report.errors,
            "warnings": report.warnings,
            "diagnostics": report.diagnostics,
        }
    )


@bp.get("/templates/vocabulary")
@security.signed_in
def templates_vocabulary() -> Response:
    """Names a layout or offer template may use: customer., inquiry., offer., data., filters."""
    return jsonify(template_vocabulary.vocabulary(rulesets.current_schema(db_session())))


@bp.get("/token")
@security.signed_in
def token() -> Response:
    """The current form token, for sending a refused save again after signing in
    (someone not signed in yet is sent to the sign-in page instead)."""
    return jsonify({"csrf_token": security.csrf_token()})


@bp.get("/signed-in")
@security.signed_in
def signed_in() -> str:
    """Where signing in again from a refused save lands: back to the other tab."""
    return render_template("editor/signed_in.html")


def _new_preview(kind: str) -> str:
    """The preview pane for an artifact that has not been saved yet, from the form."""
    user = security.current_user()
    assert user is not None
    key = request.form.get("key", "").strip() or f"new_{kind}"
    view = previews.render(db_session(), form=request.form, owner=user.id, kind=kind, key=key)
    template = (
        "preview/_pane_body.html" if request.form.get("part") == "pane" else "preview/_result.html"
    )
    return render_template(template, view=view, pv_url=request.path)


@bp.post("/preview/new-offer")
@security.requires("offers")
def preview_new_offer() -> str:
    return _new_preview("offer")


@bp.post("/preview/new-ruleset")
@security.requires("rules")
def preview_new_ruleset() -> str:
    return _new_preview("ruleset")


@bp.post("/preview/new-layout")
@security.requires("layouts")
def preview_new_layout() -> str:
    return _new_preview("layout")
