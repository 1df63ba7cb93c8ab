"""Sessions, CSRF and security headers, applied to every request in one place.

Every Content-Security-Policy the studio sends is named here: the page policy every
response gets by default, and the frame policies for documents shown in sandboxed
frames or opened on their own (rendered previews and variants, uploaded assets, charts).
Views pick one with `frame_policy`; none writes a policy of its own.

CSRF: a random token lives in the signed session; every state-changing request must
send it back, either as the `csrf_token` form field or as the `X-CSRF-Token` header
(htmx sends the header, set once on <body> through `hx-headers`).
"""

from __future__ import annotations

import functools
import hmac
import re
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from werkzeug.wrappers import Response

from studio.db import db_session
from studio.models import User
from studio.refused_save import refused_save
from studio.roles import AREAS_BY_KEY


def style_nonce() -> str:
    """This page's nonce for the one style element the code editor writes (CodeMirror's
    base theme): a page that asks for it gets `CONTENT_SECURITY_POLICY` with the nonce
    added to style-src, so the browser applies that element instead of refusing it (and
    logging a policy violation on every editor page). Pages that do not ask keep the
    policy as it is."""
    nonce: str | None = g.get("style_nonce")
    if nonce is None:
        nonce = g.style_nonce = secrets.token_urlsafe(16)
    return nonce


def _page_policy() -> str:
    nonce = g.get("style_nonce")
    if nonce is None:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace("style-src 'self'", f"style-src 'self' 'nonce-{nonce}'")


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Blueprints authorized by a token instead of a staff session: the API (bearer tokens)
#: and the customer's pages (the message token in the address).
TOKEN_BLUEPRINTS = frozenset({"api", "customer"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)

#: A rendered preview document (the preview pane's frames): draws itself, never runs.
PREVIEW_DOCUMENT_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
)

#: Variant and layout previews (`/offers/<key>/variants/*.html`, `/layouts/<key>/preview.html`)
#: are whole documents shown in `sandbox=""` frames. They may draw, never run, and load
#: nothing from another site: images from the studio itself (and data: URLs) only, no
#: fonts at all, until the person asks for remote images ("Load images"), which allows
#: https images for that one view. Fonts are never loaded from anywhere. `{origin}` is the
#: studio's own origin (`variant_policy` fills it in: 'self' alone does not match inside a
#: sandboxed frame, whose origin is opaque).
VARIANT_POLICY = "; ".join(
    [
        "default-src 'none'",
        "img-src 'self' {origin} data:",
        "style-src 'unsafe-inline'",
        "font-src 'none'",
        "frame-ancestors 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "sandbox",
    ]
)

#: The same document once the person asked for remote images.
VARIANT_WITH_IMAGES_POLICY = VARIANT_POLICY.replace(
    "img-src 'self' {origin} data:", "img-src 'self' {origin} https: data:"
)
REMOTE_IMAGE = re.compile(r"""\ssrc\s*=\s*["']?\s*(?:https?:)?//""", re.I)

#: An offer's email rendered for a review's before/after frames: the preview rules.
REVIEW_EMAIL_POLICY = VARIANT_POLICY.replace(" {origin}", "")

#: An uploaded asset: nothing but draw itself. `sandbox` also stops an SVG opened
#: directly in a tab from running anything, whatever slipped past the allowlist.
ASSET_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"

#: A server-drawn SVG chart: inline styles only.
CHART_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


def variant_policy(origin: str, *, images: bool = False) -> str:
    """The variant policy for a studio served at `origin` (scheme and host, no slash)."""
    return (VARIANT_WITH_IMAGES_POLICY if images else VARIANT_POLICY).format(origin=origin)


def frame_policy(response: Response, policy: str) -> Response:
    """Send `response` under `policy` (one of the policies above) instead of the page one."""
    response.headers["Content-Security-Policy"] = policy
    return response


F = TypeVar("F", bound=Callable[..., Any])


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _csrf_ok() -> bool:
    expected = session.get("csrf")
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    return bool(expected) and hmac.compare_digest(str(expected), str(sent))


def current_user() -> User | None:
    return g.get("user")


def sign_in_session(user: User) -> None:
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    session["sv"] = user.session_version
    session["csrf"] = secrets.token_urlsafe(32)


def public(view: F) -> F:
    """Mark a view as reachable without signing in."""
    view._studio_public = True  # type: ignore[attr-defined]  # a marker on the view
    return view


def signed_in(view: F) -> F:
    """Any signed-in person may use this view (home, own account)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return _to_sign_in()
        return view(*args, **kwargs)

    wrapper._studio_area = None  # type: ignore[attr-defined]  # a marker on the view
    return wrapper  # type: ignore[return-value]  # wraps keeps the signature of F


def requires(area_key: str) -> Callable[[F], F]:
    """Only people holding one of the area's roles may use the view; others get 403."""
    area = AREAS_BY_KEY[area_key]

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return _to_sign_in()
            if not (user.roles & area.roles):
                abort(
                    403,
                    description=f"{area.label} is for: "
                    + ", ".join(sorted(r.replace("_", " ") for r in area.roles))
                    + ".",
                )
            return view(*args, **kwargs)

        wrapper._studio_area = area_key  # type: ignore[attr-defined]  # a marker on the view
        return wrapper  # type: ignore[return-value]  # wraps keeps the signature of F

    return decorate


def _to_sign_in() -> Response:
    if request.headers.get("HX-Request"):
        response = Response("Your session has ended. Sign in again.", status=401)
        response.headers["HX-Redirect"] = url_for("auth.sign_in", next=request.full_path)
        return response
    return redirect(url_for("auth.sign_in", next=request.full_path))


#: Endpoints whose body carries a ruleset source (see `_ruleset_body_limits`).
RULESET_SOURCE_ENDPOINTS = frozenset(
    {
        "rules.new",
        "rules.save",
        "rules.check",
        "rules.format_source",
        "editor.rule_diagnostics",
        "editor.rule_problems",
        "editor.rule_format",
    }
)


def _is_background_request() -> bool:
    """An htmx swap or a script's fetch, not a page the person opened or a form they sent."""
    accept = request.accept_mimetypes
    return bool(request.headers.get("HX-Request")) or (
        accept.best == "application/json" and not accept.accept_html
    )


class StudioSessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions whose sliding expiry is refreshed only by pages.

    Flask re-sends a permanent session's cookie on every answer, changed or not. A
    preview or lint request that was sent before a save and answers after it would then
    put back the cookie it was sent with, dropping what the save stored (the "Saved
    revision" message). Background requests send the cookie only when they change the
    session themselves; pages and forms keep the sign-in alive as before.
    """

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if session.modified:
            return True
        return super().should_set_cookie(app, session) and not _is_background_request()


def init_app(app: Flask) -> None:
    app.session_interface = StudioSessionInterface()

    @app.before_request
    def _load_user() -> None:
        g.user = None
        uid = session.get("uid")
        if isinstance(uid, int):
            user = db_session().get(User, uid)
            if user is not None and user.active and session.get("sv") == user.session_version:
                g.user = user
            else:
                session.clear()

    @app.before_request
    def _ruleset_body_limits() -> None:
        """Ruleset sources may be far larger than any other form (50,000 rules): the
        endpoints that carry one accept a bigger body, set before CSRF reads the form."""
        if request.endpoint in RULESET_SOURCE_ENDPOINTS:
            from studio.services.rulesets import MAX_SOURCE_BODY

            request.max_content_length = MAX_SOURCE_BODY
            request.max_form_memory_size = MAX_SOURCE_BODY

    @app.before_request
    def _check_csrf() -> Response | None:
        if request.method in SAFE_METHODS or request.blueprint in TOKEN_BLUEPRINTS:
            return None
        if not _csrf_ok():
            return refused_save()
        return None

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", _page_policy())
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if g.get("user") is not None:
            headers.setdefault("Cache-Control", "no-store")
        return response

    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["style_nonce"] = style_nonce
    app.jinja_env.globals["current_user"] = current_user
