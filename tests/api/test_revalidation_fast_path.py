"""The bundle 304 answered before Flask: the same answer as the full path, or none.

`studio.api.revalidation` answers `GET /api/v1/bundles/current` with a matching
`If-None-Match` without starting a Flask request, but only for a token the worker has
freshly checked (active, with `bundles:read`) and a fresh pointer; everything else goes
through the full path, so auth, scopes and revocation hold exactly as there.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, request_started
from flask.testing import FlaskClient
from sqlalchemy import select

from studio.api.auth import existing_token_cache
from studio.api.bundle_cache import existing_bundle_cache
from studio.models import ApiToken, Bundle
from studio.services import api_tokens
from tests.api.conftest import IssueToken, StoreBundle, bearer
from tests.factories import make_user, post, sign_in_as

CURRENT = "/api/v1/bundles/current"


@contextmanager
def flask_requests(app: Flask) -> Iterator[list[str]]:
    """The paths of the requests Flask's full stack started meanwhile."""
    started: list[str] = []

    def note(sender: Flask, **_extra: object) -> None:
        from flask import request

        started.append(request.path)

    request_started.connect(note, app)
    try:
        yield started
    finally:
        request_started.disconnect(note, app)


def _long_lived_caches(app: Flask) -> None:
    """Keep the caches' answers fresh for the test, however loaded the machine is."""
    tokens, bundles = existing_token_cache(app), existing_bundle_cache(app)
    assert tokens is not None and bundles is not None
    tokens.ttl = bundles.ttl = 60


def _revalidate(client: FlaskClient, headers: dict[str, str], etag: str, **more: str):
    return client.get(CURRENT, headers={**headers, "If-None-Match": etag, **more})


def test_a_repeated_revalidation_skips_flask_and_sends_the_full_paths_exact_headers(
    app: Flask, client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    etag = client.get(CURRENT, headers=auth).headers["ETag"]
    _long_lived_caches(app)
    full = _revalidate(client, auth, etag)  # the full path, which the fast one learns from
    with flask_requests(app) as started:
        fast = _revalidate(client, auth, etag)
    assert started == []
    assert fast.status_code == full.status_code == 304
    assert fast.data == b""
    assert sorted(fast.headers.items()) == sorted(full.headers.items())
    assert fast.headers["ETag"] == f'"{published.digest}"'
    assert fast.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in fast.headers


def test_a_revoked_token_is_refused_at_once_in_the_worker_that_revoked_it(
    app: Flask, client: FlaskClient, session, published: Bundle, issue_token: IssueToken
) -> None:
    secret = issue_token("bundles:read")
    etag = client.get(CURRENT, headers=bearer(secret)).headers["ETag"]
    assert _revalidate(client, bearer(secret), etag).status_code == 304
    assert _revalidate(client, bearer(secret), etag).status_code == 304
    token = session.scalar(select(ApiToken))
    admin = sign_in_as(app.test_client(), make_user(session, "admin"))
    assert post(admin, f"/admin/tokens/{token.id}/revoke").status_code == 302
    refused = _revalidate(client, bearer(secret), etag)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "invalid_token"


def test_a_token_revoked_elsewhere_is_refused_once_the_token_cache_answer_expires(
    app: Flask, client: FlaskClient, session, published: Bundle, issue_token: IssueToken
) -> None:
    secret = issue_token("bundles:read")
    etag = client.get(CURRENT, headers=bearer(secret)).headers["ETag"]
    assert _revalidate(client, bearer(secret), etag).status_code == 304
    cache = existing_token_cache(app)
    assert cache is not None
    cache.ttl = 0.2  # API_TOKEN_CACHE_SECONDS, shortened for the test
    # Revoked by another worker: this one's cache is not told.
    api_tokens.revoke(session, session.scalar(select(ApiToken.id)), actor_id=None)
    session.commit()
    time.sleep(0.3)
    assert _revalidate(client, bearer(secret), etag).status_code == 401


def test_a_token_without_bundles_read_is_403_even_when_the_worker_knows_it(
    client: FlaskClient, published: Bundle, auth: dict[str, str], issue_token: IssueToken
) -> None:
    etag = client.get(CURRENT, headers=auth).headers["ETag"]
    assert _revalidate(client, auth, etag).status_code == 304  # the fast path is primed
    decide_only = bearer(issue_token("decide", name="Decider"))
    for _ in range(2):  # the second time, the token is in the worker's cache
        refused = _revalidate(client, decide_only, etag)
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "insufficient_scope"


def test_unknown_tokens_and_other_etags_get_the_full_paths_answers(
    client: FlaskClient, store_bundle: StoreBundle, auth: dict[str, str]
) -> None:
    old = store_bundle()
    etag = client.get(CURRENT, headers=auth).headers["ETag"]
    assert _revalidate(client, auth, etag).status_code == 304
    assert _revalidate(client, auth, etag).status_code == 304
    assert _revalidate(client, bearer("pst_not-a-real-token"), etag).status_code == 401
    assert _revalidate(client, {}, etag).status_code == 401
    assert _revalidate(client, auth, '"another-digest"').status_code == 200
    new = store_bundle()  # a publish in this worker: the old ETag now gets the new bundle
    fresh = _revalidate(client, auth, etag)
    assert fresh.status_code == 200
    assert fresh.headers["X-Bundle-Version"] == str(new.version) != str(old.version)


def test_an_oversized_header_is_still_answered_431(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    etag = client.get(CURRENT, headers=auth).headers["ETag"]
    assert _revalidate(client, auth, etag).status_code == 304
    refused = _revalidate(client, auth, etag, **{"X-Padding": "x" * 5000})
    assert refused.status_code == 431
