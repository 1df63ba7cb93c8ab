"""Which browser draft a save just stored, so the page after it can let the draft go.

Editors keep a draft of what the person types in the browser (`studio/static/studio.js`,
forms marked ``data-keep-work="<key>"``) until a save succeeds. Only the server knows that
it did: a save that stores answers with a redirect (the page after it is a GET), a save
that is refused draws the form again in answer to the POST. So the script sends the
draft's key with the form (``_keep_work``); when the answer is a redirect, the key is
kept in the session for the next page, which tells the script (``data-saved-work`` on the
body) to drop the draft it sent. A refused save keeps the draft, and the page it draws is
marked unsaved (`refused_form`), so leaving it asks first.
"""

from __future__ import annotations

from typing import Any, Final

from flask import Flask, Response, request, session

FIELD: Final = "_keep_work"
_SESSION_KEY: Final = "saved_work"
_MAX_KEY: Final = 200


def register(app: Flask) -> None:
    app.after_request(_note_saved)

    @app.context_processor
    def _helpers() -> dict[str, Any]:
        return {
            "saved_work": _take_saved,
            "refused_form": _refused_form,
            "typed": _typed,
        }


def _note_saved(response: Response) -> Response:
    if request.method == "POST" and 300 <= response.status_code < 400:
        key = request.form.get(FIELD, "")
        if key and len(key) <= _MAX_KEY:
            session[_SESSION_KEY] = key
    return response


def _take_saved() -> str:
    """The draft key the last save stored (once), or ''."""
    value = session.pop(_SESSION_KEY, "") if _SESSION_KEY in session else ""
    return value if isinstance(value, str) else ""


def _typed(name: str) -> str:
    """What was typed in field `name` when this page draws a refused save again, else ''
    (fields a view does not draw from its own form data, such as "What changed")."""
    if request.method != "POST":
        return ""
    value = request.form.get(name, "")
    return value if isinstance(value, str) else ""


def _refused_form() -> bool:
    """Whether this page answers a POST: a save that stored nothing and draws the form
    again with what was typed (a stored save redirects)."""
    return request.method == "POST"
