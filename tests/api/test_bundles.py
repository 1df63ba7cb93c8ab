"""Serving signed bundles: exact bytes, strong ETag, detached signature, cheap 304s."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, update

from studio.db import get_database
from studio.models import Bundle
from tests.api.conftest import StoreBundle


@contextmanager
def counting_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = get_database(app).engine

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_current_bundle_is_the_signed_bytes_with_digest_etag_and_signature(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    response = client.get("/api/v1/bundles/current", headers=auth)
    assert response.status_code == 200
    assert response.data == published.body.encode("utf-8")
    digest = hashlib.sha256(response.data).hexdigest()
    assert response.headers["ETag"] == f'"{digest}"' == f'"{published.digest}"'
    assert response.headers["X-Bundle-Version"] == str(published.version)
    assert "no-cache" in response.headers["Cache-Control"]
    fields = dict(part.split("=", 1) for part in response.headers["X-Bundle-Signature"].split(","))
    keys = {k["key_id"]: k for k in client.get("/api/v1/keys").get_json()["keys"]}
    public = Ed25519PublicKey.from_public_bytes(
        base64.b64decode(keys[fields["keyid"]]["public_key"])
    )
    public.verify(base64.b64decode(fields["sig"]), response.data)


def test_revalidation_with_the_current_etag_is_answered_304_without_a_query(
    app: Flask, client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    first = client.get("/api/v1/bundles/current", headers=auth)
    etag = first.headers["ETag"]
    with counting_queries(app) as statements:
        response = client.get("/api/v1/bundles/current", headers={**auth, "If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag
    assert response.headers["X-Bundle-Signature"] == first.headers["X-Bundle-Signature"]
    assert statements == []


def test_an_old_etag_gets_the_new_bundle_right_after_a_publish_in_this_process(
    client: FlaskClient, store_bundle: StoreBundle, auth: dict[str, str]
) -> None:
    old = store_bundle()
    etag = client.get("/api/v1/bundles/current", headers=auth).headers["ETag"]
    new = store_bundle()
    response = client.get("/api/v1/bundles/current", headers={**auth, "If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["X-Bundle-Version"] == str(new.version) != str(old.version)


@pytest.mark.committed
def test_a_publish_elsewhere_is_seen_within_the_pointer_ttl(
    app: Flask, client: FlaskClient, store_bundle: StoreBundle, session, auth: dict[str, str]
) -> None:
    store_bundle()
    app.config["API_BUNDLE_POINTER_TTL_SECONDS"] = 0.0
    app.extensions.pop("studio.api.bundle_cache", None)
    etag = client.get("/api/v1/bundles/current", headers=auth).headers["ETag"]
    other = get_database(app).engine
    with other.begin() as connection:  # a raw write, as another process would make
        connection.execute(update(Bundle).values(is_current=False))
    new = store_bundle()
    response = client.get("/api/v1/bundles/current", headers={**auth, "If-None-Match": etag})
    assert response.headers["X-Bundle-Version"] == str(new.version)


def test_each_version_is_served_as_immutable(
    client: FlaskClient, store_bundle: StoreBundle, auth: dict[str, str]
) -> None:
    first = store_bundle()
    store_bundle()
    response = client.get(f"/api/v1/bundles/{first.version}", headers=auth)
    assert response.status_code == 200
    assert response.data == first.body.encode("utf-8")
    assert "immutable" in response.headers["Cache-Control"]
    again = client.get(
        f"/api/v1/bundles/{first.version}",
        headers={**auth, "If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304


def test_signature_is_also_served_as_json(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    for url in (
        "/api/v1/bundles/current/signature",
        f"/api/v1/bundles/{published.version}/signature",
    ):
        body = client.get(url, headers=auth).get_json()
        assert body == {
            "version": published.version,
            "digest": published.digest,
            "key_id": published.key_id,
            "algorithm": "Ed25519",
            "signature": published.signature,
        }


def test_before_any_publish_the_current_bundle_is_a_json_404(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    response = client.get("/api/v1/bundles/current", headers=auth)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "no_bundle"


def test_unknown_version_is_a_json_404_naming_the_version(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    response = client.get("/api/v1/bundles/999", headers=auth)
    assert response.status_code == 404
    assert response.get_json()["error"] == {
        "code": "unknown_version",
        "field": "version",
        "message": "There is no bundle v999.",
    }


def test_a_bundle_changed_in_storage_is_refused_not_served(
    client: FlaskClient, published: Bundle, session, auth: dict[str, str]
) -> None:
    published.body = published.body.replace("Never bounce a check", "Never bounce a cheque")
    session.commit()
    response = client.get("/api/v1/bundles/current", headers=auth)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "bundle_unverifiable"


def test_public_keys_are_listed_without_a_token(client: FlaskClient) -> None:
    keys = client.get("/api/v1/keys").get_json()["keys"]
    assert keys and {"key_id", "algorithm", "public_key"} <= set(keys[0])
