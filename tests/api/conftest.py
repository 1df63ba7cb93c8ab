"""Fixtures for the downstream API: a published demo bundle and tokens with scopes.

Publishing the demo workspace takes about a second, so it happens once per run on a
scratch database (`demo_bundle_body`); each test then stores that body as a bundle in
its own database, signed with its own app's key (a fast row insert, on SQLite and on
PostgreSQL alike).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

import dsl
from studio import migrate
from studio.db import get_database
from studio.demo import seed_demo
from studio.errors import PublishRefused
from studio.models import Artifact, Bundle, User
from studio.services import api_tokens, bundles, publish, signing, toolchain
from tests.factories.apps import make_app

ALL_SCOPES = tuple(api_tokens.SCOPES)

CHECKBOOK: dict[str, Any] = {
    "id": "i-checkbook",
    "at": "2026-03-02T10:15:00Z",
    "inquiry": {
        "category": "transactional",
        "intent": "order_checkbook",
        "channel": "email",
        "resolution": "confirmed",
    },
    "tone": {"label": "neutral", "score": 0.2},
    "customer": {
        "id": "c-1001",
        "authenticated": True,
        "tier": "gold",
        "state": "CA",
        "products": ["checking"],
    },
}
STOLEN_CARD = {
    "id": "i-stolen",
    "at": "2026-03-02T11:00:00Z",
    "inquiry": {
        "category": "transactional",
        "intent": "report_stolen_card",
        "channel": "phone",
        "resolution": "confirmed",
    },
    "tone": {"label": "distressed", "score": -0.8, "words": ["robbed", "scared"]},
    "customer": {
        "id": "c-2002",
        "authenticated": True,
        "tier": "silver",
        "state": "CA",
        "products": ["checking", "credit_card"],
    },
}


class _Toolchain(toolchain.DslToolchain):
    """The real compilers, reaching eligibility through `dsl.check_expression` (the source
    form; `dsl.compile_expression` is the AST-level compiler)."""

    def compile_eligibility(self, source: str, *, schema: Mapping[str, Any]) -> toolchain.Compiled:
        try:
            result = dsl.check_expression(source, schema=self._schema(schema))
        except dsl.DSLError as failed:
            return toolchain.Compiled(False, [d.to_dict() for d in failed.diagnostics])
        return self._plain(result)


def publish_demo(app: Flask, session: Session) -> Bundle:
    """Seed the demo workspace and publish it through governance.

    The demo seeding publishes v1 itself when it runs inside an app context; otherwise
    every head is approved here and published.
    """
    seed_demo(session)
    already = bundles.current(session)
    if already is not None:
        return already
    session.execute(update(Artifact).values(approved_number=Artifact.head_number))
    session.commit()
    admin = session.scalar(select(User).where(User.email == "alex@demo.studio"))
    assert admin is not None
    ring = signing.load_or_create_keys(app.instance_path)
    try:
        bundle = publish.publish(session, actor=admin, ring=ring, toolchain=_Toolchain())
    except PublishRefused as refused:
        errors = [p.to_dict() for p in refused.problems if p.severity == "error"]
        raise AssertionError(f"the demo workspace does not publish: {errors}") from refused
    session.commit()
    return bundle


@pytest.fixture(scope="session")
def demo_bundle_body(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("demo-bundle")
    url = f"sqlite:///{folder / 'studio.sqlite3'}"
    migrate.upgrade(url)
    app = make_app(url, folder / "instance")
    session = get_database(app).session()
    with app.app_context():
        bundle = publish_demo(app, session)
    body = json.loads(bundle.body)
    session.close()
    get_database(app).engine.dispose()
    return body


StoreBundle = Callable[..., Bundle]


@pytest.fixture
def store_bundle(app: Flask, session: Session, demo_bundle_body: dict[str, Any]) -> StoreBundle:
    """Store the demo bundle (or a variation of it) as the next version, signed here."""

    def store(**changes: Any) -> Bundle:
        version = bundles.latest_version(session) + 1
        body = {**demo_bundle_body, "version": version, **changes}
        ring = signing.load_or_create_keys(app.instance_path)
        bundle = bundles.store(session, body, ring=ring, actor_id=None, summary={})
        session.commit()
        return bundle

    return store


@pytest.fixture
def published(store_bundle: StoreBundle) -> Bundle:
    return store_bundle()


IssueToken = Callable[..., str]


@pytest.fixture
def issue_token(session: Session) -> IssueToken:
    """Issue a token with the given scopes (all by default); returns the secret."""

    def issue(*scopes: str, name: str = "Test system") -> str:
        issued = api_tokens.create(session, name=name, scopes=scopes or ALL_SCOPES, actor_id=None)
        session.commit()
        return issued.secret

    return issue


@pytest.fixture
def auth(issue_token: IssueToken) -> dict[str, str]:
    """Headers with a token that holds every scope."""
    return {"Authorization": f"Bearer {issue_token()}"}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@dataclass
class LiveStudio:
    """A studio serving the published demo bundle over real HTTP on 127.0.0.1."""

    url: str
    token: str
    keys: list[dict[str, str]]
    app: Flask


@pytest.fixture(scope="module")
def live_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStudio]:
    folder = tmp_path_factory.mktemp("live-api")
    url = f"sqlite:///{folder / 'studio.sqlite3'}"
    migrate.upgrade(url)
    app = make_app(url, folder / "instance")
    session = get_database(app).session()
    with app.app_context():
        publish_demo(app, session)
        keys = signing.public_keys(instance_path=app.instance_path)
    token = api_tokens.create(session, name="e2e", scopes=api_tokens.SCOPES, actor_id=None).secret
    session.commit()
    session.close()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveStudio(f"http://127.0.0.1:{server.server_port}", token, keys, app)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        get_database(app).engine.dispose()
