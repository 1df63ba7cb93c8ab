"""The Python client against a live studio over real HTTP.

A bundle is published through the governance services; the client fetches it with an
ETag, verifies its signature against keys it was given, caches it on disk, decides the
stolen-card and checkbook interactions locally with the same answer as `/decide`, keeps
deciding when the studio goes away, sends events idempotently, and refuses any bundle
whose signature is missing, stripped, wrong or whose bytes were touched.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from studio_client import BundleRejected, NoBundle, StudioClient
from tests.api.conftest import CHECKBOOK, STOLEN_CARD, LiveStudio


def _client(studio: LiveStudio, cache: Path, url: str | None = None, **options) -> StudioClient:
    return StudioClient(url or studio.url, studio.token, studio.keys, cache, timeout=5, **options)


def _without_history(decision: dict) -> dict:
    return {**decision, "policy": {k: v for k, v in decision["policy"].items() if k != "history"}}


def _without_bundle(decision: dict) -> dict:
    return {k: v for k, v in decision.items() if k != "bundle"}


def test_client_fetches_verifies_and_decides_like_the_studio(
    live_studio: LiveStudio, tmp_path: Path
) -> None:
    client = _client(live_studio, tmp_path)
    assert client.refresh() == "updated"
    assert client.refresh() == "not_modified"
    for interaction in (CHECKBOOK, STOLEN_CARD):
        for explain in (False, True):
            local = client.decide(interaction, explain=explain)
            remote = client.decide_remote(interaction, explain=explain)
            # Each decision has its own id; apart from it, the same JSON (the local trace
            # shares read-only tuples where JSON has lists). Only the contact history
            # differs too: the client's SQLite file, the studio's table.
            assert local.pop("decision_id") != remote.pop("decision_id")
            assert _without_history(json.loads(json.dumps(local))) == _without_history(remote)
            assert (local["policy"]["history"]["store"], remote["policy"]["history"]["store"]) == (
                "sqlite",
                "database",
            )
    checkbook = client.decide(CHECKBOOK)
    assert [o["offer"] for o in checkbook["offers"]] == ["overdraft_protection"]
    stolen = client.decide(STOLEN_CARD)
    assert stolen["offers"] == []
    assert any(f["offer"] == "card_protection_plan" for f in stolen["follow_ups"])


def test_client_keeps_deciding_on_the_cached_bundle_when_the_studio_is_down(
    live_studio: LiveStudio, tmp_path: Path
) -> None:
    _client(live_studio, tmp_path).refresh()
    offline = _client(live_studio, tmp_path, url="http://127.0.0.1:9", max_age=0)
    assert offline.refresh() == "offline"
    decision = offline.decide(CHECKBOOK)
    assert decision["offers"][0]["offer"] == "overdraft_protection"
    assert offline.last_error and "cannot reach" in offline.last_error


def test_a_down_studio_is_asked_at_most_once_per_max_age_while_deciding_locally(
    live_studio: LiveStudio, tmp_path: Path
) -> None:
    _client(live_studio, tmp_path).refresh()
    now = [1000.0]
    offline = _client(
        live_studio, tmp_path, url="http://127.0.0.1:9", max_age=60, clock=lambda: now[0]
    )
    attempts = []
    real_send = offline._send

    def counting_send(*args, **kwargs):
        if args[0] == "GET":  # a revalidation; the outbox's deliveries are POSTs
            attempts.append(now[0])
        return real_send(*args, **kwargs)

    offline._send = counting_send  # type: ignore[method-assign]
    for _ in range(5):
        assert offline.decide(CHECKBOOK)["offers"][0]["offer"] == "overdraft_protection"
        assert offline.wait_for_refresh(5)
    assert attempts == [1000.0]
    now[0] += 61
    offline.decide(CHECKBOOK)
    assert offline.wait_for_refresh(5)
    assert attempts == [1000.0, 1061.0]


def test_client_without_any_bundle_says_so(live_studio: LiveStudio, tmp_path: Path) -> None:
    offline = _client(live_studio, tmp_path, url="http://127.0.0.1:9")
    with pytest.raises(NoBundle):
        offline.decide(CHECKBOOK)


def test_a_tampered_disk_cache_is_ignored(live_studio: LiveStudio, tmp_path: Path) -> None:
    _client(live_studio, tmp_path).refresh()
    cached = tmp_path / "bundle.json"
    cached.write_bytes(cached.read_bytes().replace(b"Never bounce", b"Always bounce"))
    offline = _client(live_studio, tmp_path, url="http://127.0.0.1:9")
    with pytest.raises(NoBundle):
        offline.decide(CHECKBOOK)


def test_events_are_sent_and_a_resent_event_is_stored_once(
    live_studio: LiveStudio, tmp_path: Path
) -> None:
    client = _client(live_studio, tmp_path)
    client.refresh()
    events: list[dict[str, Any]] = [
        {
            "event_id": "e2e-shown-1",
            "type": "shown",
            "offer_key": "overdraft_protection",
            "channel": "email",
            "category": "transactional",
            "customer_id": "c-1001",
        },
        {"type": "nps", "score": 9, "customer_id": "c-1001"},
    ]
    first = client.send_events(events)
    assert first["queued"] == 2
    assert client.flush(10)
    again = client.send_events(events)
    assert again["event_ids"] == first["event_ids"]
    assert client.flush(10)
    assert stored_event_ids(live_studio, first["event_ids"]) == sorted(first["event_ids"])
    assert client.outbox.rejected() == []
    client.close()


def stored_event_ids(studio: LiveStudio, event_ids: list[str]) -> list[str]:
    """The ids among `event_ids` the studio's database holds, one entry per stored row."""
    from sqlalchemy import select

    from studio.db import get_database
    from studio.models import FeedbackEvent

    with get_database(studio.app).session() as session:
        return sorted(
            session.scalars(
                select(FeedbackEvent.event_id).where(FeedbackEvent.event_id.in_(event_ids))
            )
        )


def test_local_decisions_and_their_offers_reach_the_studio_once_and_events_carry_their_id(
    live_studio: LiveStudio, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from studio.db import get_database
    from studio.models import ContactHistory, Decision, FeedbackEvent
    from studio_client.client import CONTACTS_PATH, DECISIONS_PATH, contact_id

    client = _client(live_studio, tmp_path)
    client.refresh()
    body = {**CHECKBOOK, "customer": {**CHECKBOOK["customer"], "id": "c-reported-once"}}
    decision = client.decide(body)
    assert [o["offer"] for o in decision["offers"]] == ["overdraft_protection"]
    assert decision["policy"]["history"]["decision_id"] == decision["decision_id"]
    assert client.report_decisions(10), client.outbox.last_error
    assert client.outbox.rejected() == []
    # A resend after a lost answer: the same ids again, answered as duplicates and dropped.
    record = {
        "decision_id": decision["decision_id"],
        "bundle_version": decision["bundle"]["version"],
    }
    contact = client.contact_reports(body, decision)[0]
    client.outbox.add_many(
        [
            (DECISIONS_PATH, "decisions", [(decision["decision_id"], record)]),
            (CONTACTS_PATH, "contacts", [(contact_id(contact), contact)]),
        ]
    )
    assert client.report_decisions(10)
    assert client.outbox.waiting == 0
    assert client.outbox.rejected() == []
    sent = client.send_events(
        [{"type": "accepted", "offer_key": "overdraft_protection", "decision": decision}]
    )
    assert client.flush(10)
    assert client.outbox.rejected() == []
    with get_database(live_studio.app).session() as session:
        decisions = session.scalars(
            select(Decision.id).where(Decision.id == decision["decision_id"])
        )
        contacts = session.execute(
            select(ContactHistory.offer_key, ContactHistory.source).where(
                ContactHistory.decision_id == decision["decision_id"]
            )
        ).all()
        stored = session.scalars(
            select(FeedbackEvent.decision_id).where(FeedbackEvent.event_id.in_(sent["event_ids"]))
        ).all()
    assert list(decisions) == [decision["decision_id"]]
    assert [tuple(c) for c in contacts] == [("overdraft_protection", "client")]
    assert stored == [decision["decision_id"]]
    client.close()


# --- a studio impersonator serving altered answers ----------------------------------------


class _Tamper:
    """Fetch the real answer, then change it the way an attacker or a bad proxy would."""

    def __init__(self, upstream: str, token: str, how: str) -> None:
        import urllib.request

        request = urllib.request.Request(
            f"{upstream}/api/v1/bundles/current", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request) as answer:  # noqa: S310
            self.body = answer.read()
            self.headers = dict(answer.headers.items())
        self.how = how
        self.instance_path = ""

    def answer(self) -> tuple[bytes, dict[str, str]]:
        body, headers = self.body, dict(self.headers)
        if self.how == "missing signature":
            headers.pop("X-Bundle-Signature")
        elif self.how == "stripped signature":
            headers["X-Bundle-Signature"] = "keyid=,sig="
        elif self.how == "wrong signature":
            key_id = headers["X-Bundle-Signature"].split(",")[0]
            headers["X-Bundle-Signature"] = f"{key_id},sig=" + "A" * 86 + "=="
        elif self.how == "unknown key":
            headers["X-Bundle-Signature"] = headers["X-Bundle-Signature"].replace(
                "keyid=", "keyid=0000"
            )
        elif self.how == "one byte changed, same etag":
            body = body.replace(b'"value":120.0', b'"value":120.5', 1)
        elif self.how == "one byte changed, matching etag":
            import hashlib

            body = body.replace(b'"value":120.0', b'"value":120.5', 1)
            headers["ETag"] = f'"{hashlib.sha256(body).hexdigest()}"'
        elif self.how == "missing etag":
            headers.pop("ETag")
        elif self.how == "signed but unloadable":
            from studio.services import bundles as studio_bundles
            from studio.services import signing as studio_signing

            old = json.loads(body)
            newer = {**old, "version": old["version"] + 1, "rulesets": "not a list"}
            body = studio_bundles.canonical_json(newer)
            key_id, signature = studio_signing.sign(body, instance_path=self.instance_path)
            headers["ETag"] = f'"{studio_bundles.digest(body)}"'
            headers["X-Bundle-Signature"] = f"keyid={key_id},sig={signature}"
        return body, headers


@pytest.fixture
def impersonator(request: pytest.FixtureRequest, live_studio: LiveStudio) -> Iterator[str]:
    tamper = _Tamper(live_studio.url, live_studio.token, request.param)
    tamper.instance_path = live_studio.app.instance_path

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body, headers = tamper.answer()
            self.send_response(200)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
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
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


TAMPERING = [
    "missing signature",
    "stripped signature",
    "wrong signature",
    "unknown key",
    "one byte changed, same etag",
    "one byte changed, matching etag",
    "missing etag",
]


@pytest.mark.parametrize("impersonator", TAMPERING, indirect=True)
def test_a_tampered_bundle_is_refused_and_never_cached(
    live_studio: LiveStudio, impersonator: str, tmp_path: Path
) -> None:
    client = _client(live_studio, tmp_path, url=impersonator)
    with pytest.raises(BundleRejected):
        client.refresh()
    assert not (tmp_path / "bundle.json").exists()
    with pytest.raises(NoBundle):
        client.runtime  # noqa: B018


@pytest.mark.parametrize(
    "impersonator", ["wrong signature", "signed but unloadable"], indirect=True
)
def test_a_tampered_update_leaves_the_last_good_bundle_in_use(
    live_studio: LiveStudio, impersonator: str, tmp_path: Path
) -> None:
    good = _client(live_studio, tmp_path)
    good.refresh()
    version = good.bundle_version
    client = _client(live_studio, tmp_path, url=impersonator, max_age=0)
    decision = client.decide(CHECKBOOK)
    assert decision["bundle"]["version"] == version
    assert client.wait_for_refresh(10)
    assert client.last_error and (
        "signature" in client.last_error or "cannot load bundle" in client.last_error
    ), client.last_error
    assert json.loads((tmp_path / "bundle.json").read_bytes())["version"] == version


def test_the_client_refuses_a_malformed_interaction_like_the_studio(
    live_studio: LiveStudio, tmp_path: Path
) -> None:
    from studio_client import ClientError, InvalidInteraction

    client = _client(live_studio, tmp_path)
    client.refresh()
    bad = {**CHECKBOOK, "tone": {"label": "furious"}, "custmer": {}}
    with pytest.raises(InvalidInteraction) as caught:
        client.decide(bad)
    assert sorted(p.field for p in caught.value.problems) == [
        "interaction.custmer",
        "interaction.tone.label",
    ]
    with pytest.raises(ClientError) as remote:
        client.decide_remote(bad)
    assert remote.value.field in {p.field for p in caught.value.problems}
    anyway = client.decide(bad, allow_invalid=True)
    assert anyway["interaction"]["allowed_invalid"] is True


def test_the_client_reads_a_tone_label_string_like_the_studio(
    live_studio: LiveStudio, tmp_path: Path
) -> None:
    client = _client(live_studio, tmp_path)
    client.refresh()
    distressed = {**CHECKBOOK, "tone": "distressed"}
    local = client.decide(distressed)
    remote = client.decide_remote(distressed)
    assert local["offers"] == []
    assert local.pop("decision_id") != remote.pop("decision_id")
    assert _without_history(json.loads(json.dumps(local))) == _without_history(remote)
