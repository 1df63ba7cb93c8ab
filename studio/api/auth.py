"""Token authentication for the API, cheap enough for the hottest path.

Every API call presents `Authorization: Bearer <token>`. Looking the token up costs a
query, and the busiest call (`GET /bundles/current` answered 304) should cost none, so
each worker remembers what it found for a token hash for a short time. The bound on
staleness: a token revoked in another worker stops working there within
`API_TOKEN_CACHE_SECONDS` (default 2 s); in the worker that revoked it, at once.

Through a database outage, a token this worker checked within the last
`API_TOKEN_STALE_SECONDS` (default 300 s) keeps its last answer, so bundle downloads,
304s and `/decide` go on from memory; a token not seen in that time gets a JSON 503.
Noting a token's last use (at most once a minute) is never fatal: if that write fails,
the call is answered anyway and the write is tried again on a later call.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

from flask import Flask, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError

from studio.api.errors import ApiError
from studio.db import db_session
from studio.outages import database_unavailable
from studio.services import api_tokens
from studio.services.api_tokens import Credential

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_TTL_SECONDS: Final = 2.0
DEFAULT_STALE_SECONDS: Final = 300.0
MAX_ENTRIES: Final = 10_000
#: A longer Authorization value is refused without hashing or looking it up.
MAX_SECRET: Final = 200
_EXTENSION: Final = "studio.api.token_cache"

log = logging.getLogger("studio.api.auth")


class TokenCache:
    """Token hash -> what the database said about it, for `ttl` seconds (unknown too).

    While the database is unavailable, an answer up to `stale` seconds old is used.
    """

    def __init__(self, ttl: float, stale: float = DEFAULT_STALE_SECONDS) -> None:
        self.ttl = ttl
        self.stale = stale
        self._entries: dict[str, tuple[float, Credential | None]] = {}
        self._lock = threading.Lock()

    def lookup(
        self, token_hash: str, load: Callable[[str], Credential | None]
    ) -> Credential | None:
        now = time.monotonic()
        entry = self._entries.get(token_hash)
        if entry is not None and now - entry[0] < self.ttl:
            return entry[1]
        try:
            found = load(token_hash)
        except SQLAlchemyError as exc:
            if entry is None or now - entry[0] >= self.stale or not database_unavailable(exc):
                raise
            log.warning("database unavailable; using a token check from %.0f s ago", now - entry[0])
            return entry[1]
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[token_hash] = (now, found)
        return found

    def fresh(self, token_hash: str) -> tuple[bool, Credential | None]:
        """(True, what the database said) if that answer is younger than `ttl`, else
        (False, None): the answer `lookup` would give without asking the database."""
        entry = self._entries.get(token_hash)
        if entry is not None and time.monotonic() - entry[0] < self.ttl:
            return True, entry[1]
        return False, None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def token_cache() -> TokenCache:
    """This app's cache (one per app, so test apps never share what they saw)."""
    cache = current_app.extensions.get(_EXTENSION)
    if cache is None:
        ttl = float(current_app.config.get("API_TOKEN_CACHE_SECONDS", DEFAULT_TTL_SECONDS))
        stale = float(current_app.config.get("API_TOKEN_STALE_SECONDS", DEFAULT_STALE_SECONDS))
        cache = current_app.extensions.setdefault(_EXTENSION, TokenCache(ttl, stale))
    return cache


def existing_token_cache(app: Flask) -> TokenCache | None:
    """`app`'s cache if a request has made it yet (no app context needed)."""
    return app.extensions.get(_EXTENSION)


def forget_tokens() -> None:
    """Drop what this worker remembers, e.g. right after a revocation."""
    token_cache().clear()


def _load(token_hash: str) -> Credential | None:
    session = db_session()
    try:
        found = api_tokens.find(session, token_hash)
    except SQLAlchemyError:
        session.rollback()
        raise
    try:
        session.commit()
    except SQLAlchemyError as exc:
        # Only the last-use note was pending: the token check stands without it.
        session.rollback()
        log.warning("could not note a token's last use: %s", type(exc).__name__)
    return found


def bearer_secret(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` value, None for any other value."""
    scheme, _, secret = authorization.partition(" ")
    secret = secret.strip()
    return secret if scheme.lower() == "bearer" and secret else None


def authenticate(scope: str) -> Credential | ApiError:
    """The request's credential if its token is valid and holds `scope`."""
    secret = bearer_secret(request.headers.get("Authorization", ""))
    if secret is None:
        return ApiError(
            401,
            "unauthenticated",
            "Send an API token as 'Authorization: Bearer <token>'. "
            "An admin issues tokens in the studio under Admin > API tokens.",
            headers={"WWW-Authenticate": 'Bearer realm="studio"'},
        )
    credential = None
    if len(secret) <= MAX_SECRET:
        credential = token_cache().lookup(api_tokens.hash_token(secret), _load)
    if credential is None or not credential.active:
        return ApiError(
            401,
            "invalid_token",
            "This API token is not valid or has been revoked.",
            headers={"WWW-Authenticate": 'Bearer realm="studio", error="invalid_token"'},
        )
    if scope not in credential.scopes:
        return ApiError(
            403,
            "insufficient_scope",
            f"This API token lacks the '{scope}' scope; an admin can issue one that has it.",
            headers={
                "WWW-Authenticate": f'Bearer realm="studio", error="insufficient_scope", '
                f'scope="{scope}"'
            },
        )
    g.api_credential = credential
    return credential


def token_required(scope: str) -> Callable[[F], F]:
    """Refuse the call with a JSON 401/403 unless its token holds `scope`."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            found = authenticate(scope)
            if isinstance(found, ApiError):
                return found.to_response()
            return view(*args, **kwargs)

        wrapper._api_scope = scope  # type: ignore[attr-defined]  # a marker on the view
        return wrapper  # type: ignore[return-value]  # wraps keeps the signature of F

    return decorate
