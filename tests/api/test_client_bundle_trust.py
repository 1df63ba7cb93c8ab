"""The client never goes back a version, and follows a key rotation its old key vouches for.

A replayed, validly signed older bundle is refused, also by a new client on the same
cache folder; after `studio keys rotate` a client configured with the old key only takes
a bundle signed by the new one, because `/api/v1/keys` is signed by both, and a key list
signed only by a stranger's key is refused.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundle import signing as bundle_signing
from bundle.format import KEYS_SIGNATURE_HEADER, canonical_json
from studio.db import get_database
from studio.services import bundles, signing
from studio_client import BundleRejected, NoBundle, StudioClient
from tests.api.conftest import CHECKBOOK, LiveStudio


def _publish_next(studio: LiveStudio) -> int:
    """Store the current bundle's body again as the next version, signed by the active key."""
    with get_database(studio.app).session() as session:
        current = bundles.current(session)
        assert current is not None
        body = {**json.loads(current.body), "version": current.version + 1}
        ring = signing.load_or_create_keys(studio.app.instance_path)
        stored = bundles.store(session, body, ring=ring, actor_id=None, summary={})
        session.commit()
        return stored.version


def _get(studio: LiveStudio, path: str) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(
        studio.url + path, headers={"Authorization": f"Bearer {studio.token}"}
    )
    with urllib.request.urlopen(request) as answer:  # noqa: S310
        return answer.read(), dict(answer.headers.items())


@pytest.fixture
def replay() -> Iterator[tuple[dict[str, tuple[bytes, dict[str, str]]], str]]:
    """A server answering each path with a recorded (body, headers) pair."""
    answers: dict[str, tuple[bytes, dict[str, str]]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body, headers = answers[self.path]
            self.send_response(200)
            for name, value in headers.items():
                if name.lower() not in (
                    "content-length",
                    "transfer-encoding",
                    "connection",
                    "date",
                    "server",
                ):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield answers, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_a_replayed_older_bundle_is_refused_and_the_newer_one_stays_in_use(
    live_studio: LiveStudio, replay, tmp_path: Path
) -> None:
    answers, replay_url = replay
    old_version = _publish_next(live_studio)
    answers["/api/v1/bundles/current"] = _get(live_studio, "/api/v1/bundles/current")
    newer = _publish_next(live_studio)
    client = StudioClient(live_studio.url, live_studio.token, live_studio.keys, tmp_path)
    assert client.refresh() == "updated"
    assert client.bundle_version == newer
    replayed = StudioClient(replay_url, live_studio.token, live_studio.keys, tmp_path)
    assert replayed.refresh() == "older"
    assert replayed.bundle_version == newer
    assert f"v{old_version}" in (replayed.last_error or "")
    assert replayed.decide(CHECKBOOK)["bundle"]["version"] == newer
    assert json.loads((tmp_path / "bundle.json").read_bytes())["version"] == newer
    replayed.close()
    client.close()


def test_a_cache_rolled_back_to_an_older_bundle_is_not_used(
    live_studio: LiveStudio, tmp_path: Path
) -> None:
    older, newer = tmp_path / "older", tmp_path / "newer"
    StudioClient(live_studio.url, live_studio.token, live_studio.keys, older).refresh()
    _publish_next(live_studio)
    StudioClient(live_studio.url, live_studio.token, live_studio.keys, newer).refresh()
    for name in ("bundle.json", "bundle.meta.json"):
        (newer / name).write_bytes((older / name).read_bytes())
    offline = StudioClient("http://127.0.0.1:9", live_studio.token, live_studio.keys, newer)
    with pytest.raises(NoBundle):
        offline.runtime  # noqa: B018
    assert "older than" in (offline.last_error or "")


def test_a_client_trusting_the_old_key_follows_a_rotation_the_old_key_announced(
    live_studio: LiveStudio, tmp_path: Path
) -> None:
    client = StudioClient(live_studio.url, live_studio.token, live_studio.keys, tmp_path, max_age=0)
    assert client.refresh() == "updated"
    old_ids = {k["key_id"] for k in live_studio.keys}
    ring = signing.rotate(live_studio.app.instance_path)
    assert ring.active.key_id not in old_ids
    rotated = _publish_next(live_studio)
    assert client.refresh() == "updated"
    assert client.bundle_version == rotated
    assert ring.active.key_id in {k["key_id"] for k in client.trusted_keys}
    # A new process with the same configuration and cache folder trusts it too.
    again = StudioClient("http://127.0.0.1:9", live_studio.token, live_studio.keys, tmp_path)
    assert again.decide(CHECKBOOK)["bundle"]["version"] == rotated
    # And an edited announcement file trusts nothing beyond the configured keys.
    chain = tmp_path / "announced_keys.json"
    links = json.loads(chain.read_text())
    links[0]["data"] = links[0]["data"].replace(ring.active.key_id, "0123456789abcdef")
    chain.write_text(json.dumps(links))
    edited = StudioClient("http://127.0.0.1:9", live_studio.token, live_studio.keys, tmp_path)
    assert {k["key_id"] for k in edited.trusted_keys} == old_ids


def test_a_key_list_signed_only_by_a_stranger_is_refused(
    live_studio: LiveStudio, replay, tmp_path: Path
) -> None:
    answers, replay_url = replay
    stranger = Ed25519PrivateKey.generate()
    data = canonical_json({"keys": [bundle_signing.public_key_entry(stranger.public_key())]})
    signature = bundle_signing.sign(data, stranger)
    answers["/api/v1/keys"] = (
        data,
        {"Content-Type": "application/json", KEYS_SIGNATURE_HEADER: signature.header()},
    )
    client = StudioClient(replay_url, live_studio.token, live_studio.keys, tmp_path)
    with pytest.raises(BundleRejected) as refused:
        client.refresh_keys()
    assert refused.value.code == "untrusted-key"
    assert {k["key_id"] for k in client.trusted_keys} == {k["key_id"] for k in live_studio.keys}
