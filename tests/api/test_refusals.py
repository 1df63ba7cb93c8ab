"""Refusals raised under `/api/v1` (NotAllowed, ValidationFailed) answer in the API's
JSON error shape, never with the studio's HTML pages, and store nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from studio import audit
from studio.errors import FieldError, NotAllowed, ValidationFailed
from studio.models import AuditEvent
from studio.services import events

REFUSALS = [
    (
        NotAllowed("This system may not report events for that workspace."),
        403,
        {
            "code": "forbidden",
            "message": "This system may not report events for that workspace.",
            "field": None,
        },
    ),
    (
        ValidationFailed(
            [
                FieldError("events[0].type", "Use shown, clicked or accepted."),
                FieldError("events[2].at", "Give the time in ISO 8601."),
            ]
        ),
        422,
        {
            "code": "invalid",
            "message": "Use shown, clicked or accepted. (and 1 more)",
            "field": "events[0].type",
        },
    ),
]


@pytest.mark.parametrize(("refusal", "status", "error"), REFUSALS)
def test_a_refusal_from_an_api_view_is_json_and_stores_nothing(
    client: FlaskClient,
    session: Session,
    auth: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    refusal: Exception,
    status: int,
    error: dict[str, Any],
) -> None:
    def refuse(db: Session, _body: Any) -> None:
        audit.record(db, "probe.half_done", actor_id=None)
        raise refusal

    monkeypatch.setattr(events, "ingest", refuse)
    response = client.post("/api/v1/events", json={"events": []}, headers=auth)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": error}
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "probe.half_done")) is None
