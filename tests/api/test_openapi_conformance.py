"""Property-based: schemathesis drives every operation from the served OpenAPI document.

No generated request may cause a server error or an answer that contradicts the
document (status, content type, headers, body schema). Bounded so the module stays
well under a minute: at most 25 examples per operation, no shrinking deadline.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from studio import migrate
from studio.api import openapi
from studio.db import get_database
from studio.services import api_tokens, bundles, signing
from tests.factories.apps import make_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def conformance_app(
    tmp_path_factory: pytest.TempPathFactory, demo_bundle_body: dict[str, Any]
) -> Iterator[tuple[Any, str]]:
    folder = tmp_path_factory.mktemp("conformance")
    url = f"sqlite:///{folder / 'studio.sqlite3'}"
    migrate.upgrade(url)
    app = make_app(url, folder / "instance")
    session = get_database(app).session()
    bundles.store(
        session,
        demo_bundle_body,
        ring=signing.load_or_create_keys(app.instance_path),
        actor_id=None,
        summary={},
    )
    secret = api_tokens.create(
        session, name="schemathesis", scopes=api_tokens.SCOPES, actor_id=None
    ).secret
    session.commit()
    session.close()
    yield app, secret
    get_database(app).engine.dispose()


# The document is built from code, so it can be loaded at collection; requests go to a
# module-scoped app through WSGI.
schema = schemathesis.openapi.from_dict(openapi.document())


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_request_breaks_the_api_or_its_document(case, conformance_app) -> None:
    app, secret = conformance_app
    case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS, app=app)
