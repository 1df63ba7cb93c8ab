"""Interactions sent through the API: opt-in scope, checked, redacted and deduplicated like
an import, each item answered on its own, searchable at once."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.models import Interaction
from studio.services import api_tokens, history_search
from studio.services.history_search import SearchParams
from tests.api.conftest import bearer
from tests.factories.interactions import interaction


def _with_tone(n: int, **changes: Any) -> dict[str, Any]:
    row = interaction(n, **changes)
    row["tone"] = {"label": "neutral", "score": 0.0}
    return row


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Interaction)) or 0)


def test_a_batch_reports_each_interaction_stored_duplicate_or_rejected_with_its_field(
    client: FlaskClient, session: Session, issue_token
) -> None:
    headers = bearer(issue_token("interactions:write"))
    bad = _with_tone(3)
    bad["inquiry"]["channel"] = "fax"
    body = {"interactions": [_with_tone(1), _with_tone(2), _with_tone(1), bad, {"at": "x"}]}
    answer = client.post("/api/v1/interactions", json=body, headers=headers)
    assert answer.status_code == 200
    report = answer.get_json()
    assert (report["stored"], report["duplicates"], report["rejected"]) == (2, 1, 2)
    assert [r["status"] for r in report["results"]] == [
        "stored",
        "stored",
        "duplicate",
        "rejected",
        "rejected",
    ]
    error = report["results"][3]["error"]
    assert error["code"] == "invalid_interaction"
    assert error["field"] == "interactions[3].inquiry.channel" and "fax" in error["message"]
    assert _count(session) == 2

    again = client.post("/api/v1/interactions", json=body, headers=headers).get_json()
    assert (again["stored"], again["duplicates"]) == (0, 3)
    assert _count(session) == 2


def test_sent_interactions_are_searchable_by_text_and_customer_attribute(
    client: FlaskClient, session: Session, issue_token
) -> None:
    rows = [_with_tone(n, text=f"lost my debit card {n}", state="NV") for n in range(3)]
    rows.append(_with_tone(9, text="lost my debit card again"))
    headers = bearer(issue_token("interactions:write"))
    answer = client.post("/api/v1/interactions", json={"interactions": rows}, headers=headers)
    assert answer.get_json()["stored"] == 4
    found = history_search.search(
        session, SearchParams.from_args({"q": "debit cards", "attribute": "state=NV"})
    )
    assert found.total == 3


def test_redact_replaces_emails_and_card_numbers_before_storing(
    client: FlaskClient, session: Session, issue_token
) -> None:
    row = _with_tone(7, text="Mail me at ann@example.com, card 4111 1111 1111 1111")
    headers = bearer(issue_token("interactions:write"))
    answer = client.post(
        "/api/v1/interactions", json={"interactions": [row], "redact": True}, headers=headers
    )
    assert answer.get_json()["stored"] == 1
    stored = session.scalar(select(Interaction).where(Interaction.interaction_id == "i-7"))
    assert stored is not None and stored.redacted
    assert stored.text == "Mail me at [email], card [card]"


def test_a_token_without_the_interactions_scope_is_refused_and_nothing_is_stored(
    client: FlaskClient, session: Session, issue_token
) -> None:
    others = [s for s in api_tokens.SCOPES if s != "interactions:write"]
    answer = client.post(
        "/api/v1/interactions",
        json={"interactions": [_with_tone(1)]},
        headers=bearer(issue_token(*others)),
    )
    assert answer.status_code == 403
    assert _count(session) == 0


def test_the_scope_is_not_ticked_on_a_new_tokens_form() -> None:
    assert "interactions:write" in api_tokens.SCOPES
    assert "interactions:write" not in api_tokens.DEFAULT_SCOPES


def test_a_batch_that_is_not_a_list_or_too_long_is_refused_as_a_whole(
    client: FlaskClient, session: Session, issue_token
) -> None:
    headers = bearer(issue_token("interactions:write"))
    wrong = client.post("/api/v1/interactions", json={"interactions": {}}, headers=headers)
    assert wrong.status_code == 400
    assert wrong.get_json()["error"]["field"] == "interactions"
    many = {"interactions": [_with_tone(n) for n in range(501)]}
    too_many = client.post("/api/v1/interactions", json=many, headers=headers)
    assert too_many.status_code == 413
    unknown = client.post(
        "/api/v1/interactions", json={"interactions": [], "extra": 1}, headers=headers
    )
    assert unknown.status_code == 400 and unknown.get_json()["error"]["field"] == "extra"
    assert _count(session) == 0
