"""The client's outbox against a real studio that is down, then back.

A process queues events while the studio is down and is killed (SIGKILL) right after
`send_events` returned; a new client on the same cache folder delivers them once the
studio is back, and a resend of the same events stores nothing twice. `decide()` keeps
answering while a revalidation hangs on a studio that accepts and never answers.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from studio_client import OutboxFull, StudioClient
from tests.api.conftest import CHECKBOOK, LiveStudio
from tests.api.test_client_end_to_end import stored_event_ids

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Studio:
    """The live studio's app served on a fixed port, started and stopped at will."""

    def __init__(self, studio: LiveStudio, port: int) -> None:
        self.studio = studio
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._server = make_server("127.0.0.1", self.port, self.studio.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(timeout=5)
            self._server = None


@pytest.fixture
def studio_on_a_port(live_studio: LiveStudio) -> Iterator[_Studio]:
    studio = _Studio(live_studio, _free_port())
    try:
        yield studio
    finally:
        studio.stop()


CRASHING_SENDER = """
import json, os, signal, sys
from studio_client import StudioClient
args = json.loads(sys.argv[1])
client = StudioClient(args["url"], args["token"], args["keys"], args["cache"], backoff=0.05)
events = [{"type": "shown", "offer_key": "overdraft_protection", "channel": "email",
           "customer_id": f"c-{n}"} for n in range(10)]
answer = client.send_events(events)
print(json.dumps(answer["event_ids"]), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_events_queued_while_the_studio_is_down_survive_a_crash_and_are_stored_once(
    live_studio: LiveStudio, studio_on_a_port: _Studio, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    args = {
        "url": studio_on_a_port.url,
        "token": live_studio.token,
        "keys": live_studio.keys,
        "cache": str(cache),
    }
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_SENDER, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    event_ids = json.loads(crashed.stdout.strip().splitlines()[-1])
    assert len(set(event_ids)) == 10
    assert stored_event_ids(live_studio, event_ids) == []

    studio_on_a_port.start()
    client = StudioClient(
        studio_on_a_port.url, live_studio.token, live_studio.keys, cache, backoff=0.05
    )
    try:
        assert client.flush(20), client.outbox.last_error
        assert stored_event_ids(live_studio, event_ids) == sorted(event_ids)
        assert client.outbox.waiting == 0
    finally:
        client.close()


def test_a_caller_resending_the_same_events_after_an_outage_never_double_counts(
    live_studio: LiveStudio, studio_on_a_port: _Studio, tmp_path: Path
) -> None:
    client = StudioClient(
        studio_on_a_port.url,
        live_studio.token,
        live_studio.keys,
        tmp_path,
        backoff=0.05,
        max_backoff=0.2,
    )
    events = [
        {"type": "accepted", "offer_key": "overdraft_protection", "customer_id": f"c-resend-{n}"}
        for n in range(5)
    ]
    try:
        first = client.send_events(events)
        second = client.send_events(events)  # the caller's retry, studio still down
        assert first["event_ids"] == second["event_ids"]
        assert (first["queued"], second["queued"]) == (5, 0)
        assert not client.flush(0.3)
        assert "cannot reach" in (client.outbox.last_error or "")
        studio_on_a_port.start()
        assert client.flush(20), client.outbox.last_error
        client.send_events(events)  # and once more after delivery
        assert client.flush(20)
        assert stored_event_ids(live_studio, first["event_ids"]) == sorted(first["event_ids"])
    finally:
        client.close()


def test_an_event_the_studio_refuses_is_kept_with_its_reason_and_the_rest_are_stored(
    live_studio: LiveStudio, tmp_path: Path
) -> None:
    client = StudioClient(live_studio.url, live_studio.token, live_studio.keys, tmp_path)
    try:
        answer = client.send_events(
            [
                {"type": "shown", "offer_key": "overdraft_protection", "customer_id": "c-1"},
                {"type": "teleported", "customer_id": "c-1"},
            ]
        )
        assert client.flush(20)
        good, bad = answer["event_ids"]
        assert stored_event_ids(live_studio, [good, bad]) == [good]
        [rejection] = client.outbox.rejected()
        assert (rejection.item_id, rejection.code) == (bad, "unknown_event_type")
        assert rejection.field == "events[1].type"
        assert rejection.item["type"] == "teleported"
    finally:
        client.close()


def test_a_full_outbox_refuses_the_new_batch_whole_and_keeps_what_it_holds(
    live_studio: LiveStudio, tmp_path: Path
) -> None:
    client = StudioClient(
        "http://127.0.0.1:9",
        live_studio.token,
        live_studio.keys,
        tmp_path,
        outbox_capacity=3,
        backoff=5,
    )
    try:
        client.send_events([{"type": "nps", "score": 9, "customer_id": f"c-{n}"} for n in range(2)])
        with pytest.raises(OutboxFull) as full:
            client.send_events(
                [{"type": "nps", "score": 3, "customer_id": f"d-{n}"} for n in range(2)]
            )
        assert (full.value.waiting, full.value.capacity, full.value.offered) == (2, 3, 2)
        assert client.outbox.waiting == 2
    finally:
        client.close()


def test_decide_answers_while_a_revalidation_hangs_on_a_studio_that_never_answers(
    live_studio: LiveStudio, tmp_path: Path
) -> None:
    StudioClient(live_studio.url, live_studio.token, live_studio.keys, tmp_path).refresh()
    connected, release = threading.Event(), threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def hang() -> None:
        connection, _ = listener.accept()
        connected.set()
        release.wait(30)
        connection.close()

    threading.Thread(target=hang, daemon=True).start()
    port = listener.getsockname()[1]
    client = StudioClient(
        f"http://127.0.0.1:{port}",
        live_studio.token,
        live_studio.keys,
        tmp_path,
        timeout=30,
        max_age=0,
    )
    try:
        decision = client.decide(CHECKBOOK)
        assert decision["offers"][0]["offer"] == "overdraft_protection"
        assert connected.wait(10)
        # The revalidation is still waiting on the studio, and decisions keep coming.
        assert not client.wait_for_refresh(0)
        assert client.decide(CHECKBOOK)["offers"][0]["offer"] == "overdraft_protection"
    finally:
        release.set()
        client.wait_for_refresh(10)
        client.close()
        listener.close()
