"""The bundle revalidation (`GET /api/v1/bundles/current` answered 304), before Flask.

Every downstream client asks "has the bundle changed?" many times a minute, and the
answer is nearly always "no": a few hundred bytes of headers. Flask's full stack (the
request context, the page hooks, the session, the database session) costs many times
the answer, so this WSGI middleware answers it directly, but only when it can give the
exact answer the full path gives, from the same caches the full path reads:

- the token is checked exactly as `studio.api.auth.authenticate` checks it, against
  the same per-worker token cache and only while that cache's answer is fresh (so a
  revoked token stops here exactly when it stops on the full path: at once in the
  worker that revoked it, within `API_TOKEN_CACHE_SECONDS` in the others); it must be
  active and hold `bundles:read`;
- the current bundle's pointer is the bundle cache's, only while fresh;
- the headers are those the full path sent for a 304 of the same pointer (security
  headers included), recorded from its last answer, so the two can never differ.

Anything else goes to Flask: no token, an unknown, revoked or not yet cached token, a
missing scope, a stale pointer, an ETag that does not match, a cookie (the full path
may clear an invalid session), a body, an oversized header. The full path answers
those, with its errors, and its 304s teach this one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, Final

from flask import Flask
from werkzeug.http import parse_etags

from studio.api.auth import MAX_SECRET, bearer_secret, existing_token_cache
from studio.api.bundle_cache import existing_bundle_cache
from studio.services import api_tokens
from studio.services.bundle_cache import Pointer
from studio.serving import WSGIApp

PATH: Final = "/api/v1/bundles/current"
SCOPE: Final = "bundles:read"
#: Headers longer than this go to the full path, whose preflight decides (431).
MAX_HEADER_BYTES: Final = 4000

Headers = list[tuple[str, str]]


class RevalidationFastPath:
    """WSGI middleware answering fresh, authorised revalidations of the current bundle."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._answer: tuple[Pointer, str, Headers] | None = None
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi_app(environ, start_response)
        pointer = self._answerable(environ)
        if pointer is None:
            return self.wsgi_app(environ, start_response)
        answer = self._answer
        if answer is not None and answer[0] == pointer:
            start_response(answer[1], list(answer[2]))
            return []
        return self.wsgi_app(environ, self._recording(pointer, start_response))

    def _answerable(self, environ: dict[str, Any]) -> Pointer | None:
        """The current pointer if this request is an authorised revalidation of it."""
        if "HTTP_COOKIE" in environ or environ.get("CONTENT_LENGTH") not in (None, "", "0"):
            return None
        if "HTTP_TRANSFER_ENCODING" in environ:
            return None
        if any(
            len(value) > MAX_HEADER_BYTES
            for name, value in environ.items()
            if name.startswith("HTTP_") and isinstance(value, str)
        ):
            return None
        tokens = existing_token_cache(self.app)
        bundles = existing_bundle_cache(self.app)
        if tokens is None or bundles is None:
            return None
        secret = bearer_secret(environ.get("HTTP_AUTHORIZATION", ""))
        if secret is None or len(secret) > MAX_SECRET:
            return None
        known, credential = tokens.fresh(api_tokens.hash_token(secret))
        if not known or credential is None or not credential.active:
            return None
        if SCOPE not in credential.scopes:
            return None
        fresh, pointer = bundles.fresh_current()
        if not fresh or pointer is None:
            return None
        if not parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains_weak(pointer.digest):
            return None
        return pointer

    def _recording(
        self, pointer: Pointer, start_response: Callable[..., Any]
    ) -> Callable[..., Any]:
        """`start_response` that keeps the full path's 304 for `pointer` to answer with."""

        def record(status: str, headers: Headers, exc_info: Any = None) -> Any:
            names = {name.lower() for name, _ in headers}
            if (
                status.startswith("304")
                and exc_info is None
                and "set-cookie" not in names
                and (("ETag", f'"{pointer.digest}"') in headers)
            ):
                with self._lock:
                    self._answer = (pointer, status, list(headers))
            return (
                start_response(status, headers, exc_info)
                if exc_info
                else start_response(status, headers)
            )

        return record


def install(app: Flask) -> None:
    app.wsgi_app = RevalidationFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
