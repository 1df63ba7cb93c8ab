"""The tone lexicon: the service team's distress terms, edited next to the rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue

from preview.tone import Lexicon
from studio import security
from studio.artifact_editor import ArtifactEditor, Refused
from studio.db import db_session
from studio.services import lexicon
from studio.web import actor_id

bp = Blueprint("lexicon", __name__, url_prefix="/rules/lexicon")


def _terms_text(body: Mapping[str, Any]) -> str:
    """A stored lexicon as the editor shows it: one term a line."""
    return "\n".join(Lexicon.from_dict(body).distress)


EDITOR = ArtifactEditor("lexicon", text_of=_terms_text)


@bp.route("", methods=["GET", "POST"])
@security.requires("rules")
def edit() -> ResponseReturnValue:
    session = db_session()
    if request.method == "GET":
        state = lexicon.state(session)
        return render_template(
            "lexicon/edit.html",
            state=state,
            text=state.text,
            errors=[],
            conflict=None,
            base_number=state.base_number,
            trial=lexicon.try_text(state.text, lexicon.SAMPLE_TEXT),
        )
    text = request.form.get("terms", "")

    def redraw(refused: Refused) -> tuple[str, int]:
        return render_template(
            "lexicon/edit.html",
            state=lexicon.state(session),
            text=text,
            errors=refused.messages(),
            conflict=refused.conflict,
            base_number=refused.base_number,
            trial=lexicon.try_text(text, request.form.get("sample", "")),
        ), refused.status

    return EDITOR.save(
        None,
        lambda base: lexicon.save(
            session,
            text,
            base_number=base,
            actor_id=actor_id(),
            summary=request.form.get("summary", ""),
        ),
        mine=text,
        redraw=redraw,
        then=url_for("lexicon.edit"),
        saved=lambda _stored: (
            "Tone lexicon saved. Submit it for review to ship it in the next bundle.",
            "success",
        ),
    )


@bp.post("/try")
@security.requires("rules")
def try_out() -> str:
    """The tone of the try-out text with the terms as typed, unsaved (htmx)."""
    trial = lexicon.try_text(request.form.get("terms", ""), request.form.get("sample", ""))
    return render_template("lexicon/_trial.html", trial=trial)
