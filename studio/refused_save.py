"""A save refused because the session ended or the form token expired keeps the text.

Instead of a bare 400 that loses what the person typed, the refusal page carries every
posted field back in a form aimed at the same address, explains what happened, and
links to signing in again in a new tab; "Save again" fetches the fresh form token first.
Nothing is stored by the refused request itself.
"""

from __future__ import annotations

from flask import render_template, request
from werkzeug.wrappers import Response

#: Fields never echoed back into a page.
_NEVER_REPLAYED = frozenset(
    {"csrf_token", "password", "password_confirm", "new_password", "current_password"}
)


def refused_save() -> Response:
    """The 400 answer for a state-changing request whose form token did not match."""
    if request.headers.get("HX-Request"):
        html = render_template("_session_ended.html")
        return Response(html, status=400, mimetype="text/html")
    fields = [
        (name, value)
        for name, value in request.form.items(multi=True)
        if name not in _NEVER_REPLAYED and "password" not in name
    ]
    longest = max(fields, key=lambda item: len(item[1]), default=None)
    html = render_template(
        "refused_save.html",
        fields=fields,
        longest=longest,
        action=request.path,
        had_files=bool(request.files),
    )
    return Response(html, status=400, mimetype="text/html")
