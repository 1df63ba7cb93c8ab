"""Local decisions reported through the client's outbox, against a live studio.

A decision made while the studio is down waits in the outbox file and reaches the
studio's decision log and contact history after the process restarts; a batch the
studio partly refuses leaves exactly the refused contacts aside (with the field at
fault) and drops the rest; a full outbox never blocks a decision and drops nothing
already queued.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from studio.db import get_database
from studio.models import ContactHistory, Decision
from studio_client import OutboxFull, StudioClient
from studio_client.client import CONTACTS_PATH, contact_id
from tests.api.conftest import CHECKBOOK, LiveStudio
from tests.api.test_client_outbox import ROOT, _free_port, _Studio


@pytest.fixture
def studio_on_a_port(live_studio: LiveStudio) -> Iterator[_Studio]:
    studio = _Studio(live_studio, _free_port())
    try:
        yield studio
    finally:
        studio.stop()


def _checkbook(customer: str) -> dict:
    return {**CHECKBOOK, "customer": {**CHECKBOOK["customer"], "id": customer}}


def _stored(studio: LiveStudio, decision_ids: list[str]) -> tuple[list[str], list[str]]:
    """(decision ids in the decision log, decision ids in the contact history)."""
    with get_database(studio.app).session() as session:
        logged = session.scalars(select(Decision.id).where(Decision.id.in_(decision_ids)))
        contacts = session.scalars(
            select(ContactHistory.decision_id).where(ContactHistory.decision_id.in_(decision_ids))
        )
        return sorted(logged), sorted(contacts)


CRASHING_DECIDER = """
import json, os, signal, sys
from studio_client import StudioClient
args = json.loads(sys.argv[1])
client = StudioClient(args["url"], args["token"], args["keys"], args["cache"], backoff=0.05,
                      max_age=3600)
ids = []
for n in range(3):
    body = dict(args["interaction"], customer=dict(args["interaction"]["customer"], id=f"c-crash-{n}"))
    decision = client.decide(body)
    assert decision["offers"], decision
    ids.append(decision["decision_id"])
print(json.dumps(ids), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_decisions_made_while_the_studio_is_down_are_reported_after_a_crash_and_restart(
    live_studio: LiveStudio, studio_on_a_port: _Studio, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    studio_on_a_port.start()
    StudioClient(studio_on_a_port.url, live_studio.token, live_studio.keys, cache).refresh()
    studio_on_a_port.stop()
    args = {
        "url": studio_on_a_port.url,
        "token": live_studio.token,
        "keys": live_studio.keys,
        "cache": str(cache),
        "interaction": CHECKBOOK,
    }
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_DECIDER, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    decision_ids = json.loads(crashed.stdout.strip().splitlines()[-1])
    assert _stored(live_studio, decision_ids) == ([], [])

    studio_on_a_port.start()
    client = StudioClient(
        studio_on_a_port.url, live_studio.token, live_studio.keys, cache, backoff=0.05
    )
    try:
        assert client.report_decisions(20), client.outbox.last_error
        assert _stored(live_studio, decision_ids) == (sorted(decision_ids), sorted(decision_ids))
        assert client.outbox.rejected() == []
    finally:
        client.close()


def test_a_partly_refused_batch_leaves_only_the_refused_contacts_aside(
    live_studio: LiveStudio, tmp_path: Path
) -> None:
    client = StudioClient(live_studio.url, live_studio.token, live_studio.keys, tmp_path)
    good = {
        "decision_id": "partly-1",
        "customer_id": "c-partly",
        "offer_key": "overdraft_protection",
        "channel": "email",
        "at": "2026-03-02T10:15:00Z",
    }
    undated = {**good, "decision_id": "partly-2", "at": "some day"}
    other = {**good, "decision_id": "partly-3"}
    try:
        client.outbox.add_many(
            [(CONTACTS_PATH, "contacts", [(contact_id(c), c) for c in (good, undated, other)])]
        )
        assert client.flush(20), client.outbox.last_error
        assert client.outbox.waiting == 0
        [refused] = client.outbox.rejected()
        assert (refused.item_id, refused.item, refused.field) == (
            "partly-2:overdraft_protection",
            undated,
            "contacts[1].at",
        )
        assert refused.code == "invalid_contact"
        assert _stored(live_studio, ["partly-1", "partly-2", "partly-3"])[1] == [
            "partly-1",
            "partly-3",
        ]
    finally:
        client.close()


def test_a_full_outbox_never_blocks_a_decision_and_keeps_what_it_holds(
    live_studio: LiveStudio, studio_on_a_port: _Studio, tmp_path: Path
) -> None:
    studio_on_a_port.start()
    StudioClient(studio_on_a_port.url, live_studio.token, live_studio.keys, tmp_path).refresh()
    studio_on_a_port.stop()
    client = StudioClient(
        studio_on_a_port.url,
        live_studio.token,
        live_studio.keys,
        tmp_path,
        max_age=3600,
        outbox_capacity=3,
        backoff=10,
    )
    try:
        first = client.decide(_checkbook("c-full-1"))
        assert client.outbox.waiting == 2  # its log record and the offer it made
        second = client.decide(_checkbook("c-full-2"))
        assert [o["offer"] for o in second["offers"]] == ["overdraft_protection"]
        assert client.reports_dropped == 2
        assert client.last_error and second["decision_id"] in client.last_error
        assert client.outbox.waiting == 2
        with pytest.raises(OutboxFull):
            client.send_events([{"type": "shown", "offer_key": "x"}, {"type": "shown"}])
        assert client.outbox.waiting == 2
    finally:
        client.close()
    studio_on_a_port.start()
    again = StudioClient(
        studio_on_a_port.url, live_studio.token, live_studio.keys, tmp_path, backoff=0.05
    )
    try:
        assert again.report_decisions(20), again.outbox.last_error
        assert _stored(live_studio, [first["decision_id"], second["decision_id"]]) == (
            [first["decision_id"]],
            [first["decision_id"]],
        )
    finally:
        again.close()
