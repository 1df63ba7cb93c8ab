"""The workspace contact policy: edited by service leads next to the rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue

from studio import security
from studio.artifact_editor import ArtifactEditor, Refused
from studio.db import db_session
from studio.services import contact_policy
from studio.web import actor_id, source_arg

bp = Blueprint("contact_policy", __name__, url_prefix="/rules/policy")


def _source_text(body: Mapping[str, Any]) -> str:
    return str(body.get("source", ""))


EDITOR = ArtifactEditor("policy", text_of=_source_text)


@bp.route("", methods=["GET", "POST"])
@security.requires("rules")
def edit() -> ResponseReturnValue:
    session = db_session()
    if request.method == "GET":
        state = contact_policy.state(session)
        return render_template(
            "contact_policy/edit.html",
            state=state,
            text=state.source,
            errors=[],
            warnings=contact_policy.check(session, state.source),
            conflict=None,
            base_number=state.base_number,
        )
    text = source_arg()

    def redraw(refused: Refused) -> tuple[str, int]:
        return render_template(
            "contact_policy/edit.html",
            state=contact_policy.state(session),
            text=text,
            errors=refused.messages(),
            warnings=(),
            conflict=refused.conflict,
            base_number=refused.base_number,
        ), refused.status

    return EDITOR.save(
        None,
        lambda base: contact_policy.save(
            session,
            text,
            base_number=base,
            actor_id=actor_id(),
            summary=request.form.get("summary", ""),
        ),
        mine=text,
        redraw=redraw,
        then=url_for("contact_policy.edit"),
        saved=lambda _stored: (
            "Contact policy saved. Submit it for review to ship it in the next bundle.",
            "success",
        ),
    )
