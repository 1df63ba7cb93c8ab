"""The client's local `decide` settles resolution-gated offers exactly as `/api/v1/decide`.

The same demo sequence (a proposed fix, then replies on the thread) runs through the
client with its SQLite history store and through the studio with its table; the
decisions agree, apart from ids and the store's name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from studio.db import get_database
from studio.models import Decision
from studio_client import StudioClient
from tests.api.conftest import LiveStudio
from tests.api.test_gated_decide import _sample


def _gating(decision: dict[str, Any]) -> dict[str, Any]:
    """What the gating did, without the ids and store names that differ by decider."""
    gating = decision.get("gating") or {}
    drop = {"id", "scheduled_by"}
    return {
        "offers": [o["offer"] for o in decision["offers"]],
        "scheduled": [
            {k: v for k, v in e.items() if k not in drop} for e in gating.get("scheduled", ())
        ],
        "settled": [
            {k: v for k, v in e.items() if k not in drop} for e in gating.get("settled", ())
        ],
    }


def test_local_decide_with_its_history_store_settles_gated_offers_like_the_studio(
    live_studio: LiveStudio, tmp_path: Path
) -> None:
    client = StudioClient(live_studio.url, live_studio.token, live_studio.keys, tmp_path, timeout=5)
    client.refresh()
    sequence = [
        _sample("online-banking-fix-proposed"),
        _sample("online-banking-fix-confirmed", thread_id="ob-3300-2"),
        _sample("online-banking-still-broken"),
        _sample("online-banking-fix-confirmed"),
    ]
    local = [_gating(client.decide(i, channels=())) for i in sequence]
    remote = [_gating(client.decide_remote(i, channels=())) for i in sequence]
    assert local == remote
    assert [d["settled"][0]["outcome"] if d["settled"] else None for d in local] == [
        None,
        None,
        "reopened",
        "released",
    ]
    assert "mobile_alerts" in local[3]["offers"]
    assert local[0]["scheduled"][0]["recorded"] is True
    assert client.history.pending_offers("c-3300") == []
    client.close()


def test_a_reported_local_decision_keeps_what_it_did_with_gated_offers(
    live_studio: LiveStudio, tmp_path: Path
) -> None:
    client = StudioClient(live_studio.url, live_studio.token, live_studio.keys, tmp_path, timeout=5)
    client.refresh()
    first = _sample("online-banking-fix-proposed")
    first["customer"]["id"] = "c-reported"
    decision = client.decide(first, channels=())
    assert client.report_decisions(timeout=20)
    with get_database(live_studio.app).session() as session:
        logged = session.scalars(
            select(Decision).where(Decision.id == decision["decision_id"])
        ).one()
        assert logged.gating["scheduled"][0]["thread"] == "ob-3300-1"
        assert logged.gating["scheduled"][0]["offer"] == "mobile_alerts"
    client.close()
