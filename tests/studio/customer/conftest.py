"""The customer pages need a published bundle and a message opened through the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import (  # noqa: F401  (fixtures)
    CHECKBOOK,
    auth,
    demo_bundle_body,
    issue_token,
    published,
    store_bundle,
)

OpenMessage = Callable[..., dict[str, Any]]


@pytest.fixture
def open_message(client: FlaskClient, published, auth: dict[str, str]) -> OpenMessage:  # noqa: F811
    """Decide the checkbook interaction and open a message; returns the decide answer
    with `token` and `path` added."""

    def open_(**response: str) -> dict[str, Any]:
        body = {
            "interaction": CHECKBOOK,
            "channels": ["sms"],
            "open_message": {"response": response or {"text": "Your checks are ordered."}},
        }
        answer = client.post("/api/v1/decide", json=body, headers=auth).get_json()
        url = answer["message"]["url"]
        answer["token"] = url.rsplit("/", 1)[1]
        answer["path"] = f"/m/{answer['token']}"
        return answer

    return open_
