"""How fast the customer's page answers, and how fast a score click is stored.

In-process (the Flask app through WSGI, no network), on a file SQLite database with the
demo workspace published and padded with copies of its offers to a bundle of at least
72 KB, loaded in the worker. Messages are opened through `POST /api/v1/decide` with
`open_message`, as a downstream system does. Prints p50 / p95 server time for:

- `GET /m/<token>`, first open (records `shown`) and a repeat view;
- the one-click NPS link `GET /m/<token>/nps/<score>?s=...` until its event is stored;
- peers in the same run: `GET /healthz` (the framework's floor) and
  `POST /api/v1/events` with the same single `nps` event (the downstream way to store it).

Targets: page p95 <= 20 ms, NPS click p95 <= 20 ms.
Run: .venv/bin/python benchmarks/message_speed.py [--messages 300]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_speed import CHECKBOOK, prepare  # noqa: E402

from studio import create_app  # noqa: E402
from studio.db import get_database  # noqa: E402
from studio.models import FeedbackEvent  # noqa: E402
from studio.services import bundles, signing, surveys  # noqa: E402

TARGET_BYTES = 72 * 1024


def pad_bundle(app: Flask) -> int:
    """Store the current bundle again as a new version padded with offer copies."""
    session = get_database(app).session()
    current = bundles.current(session)
    assert current is not None
    body = json.loads(current.body)
    originals = list(body["offers"])
    index = 0
    while len(json.dumps(body)) < TARGET_BYTES:
        extra = copy.deepcopy(originals[index % len(originals)])
        extra["key"] = f"{extra['key']}_copy_{index}"
        body["offers"].append(extra)
        index += 1
    body["version"] = bundles.latest_version(session) + 1
    ring = signing.load_or_create_keys(app.instance_path)
    stored = bundles.store(session, body, ring=ring, actor_id=None, summary={})
    bundles_module_set_current(session, stored)
    session.commit()
    size = len(stored.body.encode())
    session.close()
    return size


def bundles_module_set_current(session: Any, stored: Any) -> None:
    for row in session.scalars(select(type(stored)).where(type(stored).is_current.is_(True))):
        row.is_current = False
    stored.is_current = True


def timed(call: Callable[[], Any], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(
    name: str, samples: list[float], peer: list[float] | None = None, peer_name: str = ""
) -> float:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    line = f"  {name:<44} p50 {statistics.median(samples):6.2f} ms   p95 {p95:6.2f} ms"
    if peer:
        peer_p95 = sorted(peer)[min(len(peer) - 1, int(round(0.95 * (len(peer) - 1))))]
        line += f"   ({p95 / peer_p95:.1f}x {peer_name})"
    print(line)
    return p95


def open_messages(client: FlaskClient, token: str, count: int) -> list[str]:
    paths = []
    for index in range(count):
        interaction = {**CHECKBOOK, "customer": {**CHECKBOOK["customer"], "id": f"c-{index}"}}
        answer = client.post(
            "/api/v1/decide",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "interaction": interaction,
                "channels": ["sms"],
                "open_message": {"response": {"text": "Done."}},
            },
        )
        assert answer.status_code == 201, answer.get_data(as_text=True)
        paths.append(answer.get_json()["message"]["url"].split("://", 1)[1].split("/", 1)[1])
    return ["/" + p for p in paths]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        url, token, _keys = prepare(folder)
        app = create_app(
            {"DATABASE_URL": url, "INSTANCE_PATH": folder / "instance", "SECRET_KEY": "bench"}
        )
        app.config.update(CUSTOMER_TOKEN_LIMIT=10**9, CUSTOMER_ADDRESS_LIMIT=10**9)
        size = pad_bundle(app)
        client = app.test_client()
        paths = open_messages(client, token, args.messages * 2)
        session = get_database(app).session()
        session.commit()
        print(
            f"message_speed: bundle {size / 1024:.0f} KB loaded, {len(paths)} messages, "
            "SQLite, in-process"
        )
        health = timed(lambda: client.get("/healthz"), args.messages)
        summary("GET /healthz (peer: framework floor)", health)

        first_paths = iter(paths[: args.messages])

        def first_open() -> None:
            assert client.get(next(first_paths)).status_code == 200

        first = timed(first_open, args.messages)
        page_p95 = summary("GET /m/<token>, first open (records shown)", first, health, "healthz")
        repeat_paths = iter(paths[: args.messages])

        def repeat_open() -> None:
            assert client.get(next(repeat_paths)).status_code == 200

        repeat = timed(repeat_open, args.messages)
        repeat_p95 = summary("GET /m/<token>, repeat view", repeat, health, "healthz")

        secret = app.config["STUDIO_SETTINGS"].secret_key
        nps_paths = iter(paths[args.messages :])

        def nps_click() -> None:
            path = next(nps_paths)
            signature = surveys.score_signature(secret, path.rsplit("/", 1)[1], 9)
            assert client.get(f"{path}/nps/9?s={signature}").status_code == 200

        counter = iter(range(10**9))

        def events_peer() -> None:
            answer = client.post(
                "/api/v1/events",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "events": [
                        {
                            "event_id": f"peer-{next(counter)}",
                            "type": "nps",
                            "score": 9,
                            "offer_key": "overdraft_protection",
                            "customer_id": "c-1",
                        }
                    ]
                },
            )
            assert answer.status_code == 200

        peer = timed(events_peer, args.messages)
        summary("POST /api/v1/events, one nps event (peer)", peer)
        clicks = timed(nps_click, args.messages)
        nps_p95 = summary("GET /m/<token>/nps/9?s=... until stored", clicks, peer, "events API")
        stored = session.scalar(
            select(func.count())
            .select_from(FeedbackEvent)
            .where(FeedbackEvent.type == "nps", FeedbackEvent.event_id.like("msg-%"))
        )
        session.close()
        assert stored == args.messages, stored
        ok = max(page_p95, repeat_p95) <= 20 and nps_p95 <= 20
        print(f"  targets (p95 <= 20 ms): {'met' if ok else 'NOT met'}")
        get_database(app).engine.dispose()


if __name__ == "__main__":
    main()
