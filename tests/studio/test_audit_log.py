"""The audit log records every governed action and can only be read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from studio import audit
from studio.errors import ValidationFailed
from studio.models import AuditEvent
from studio.services import audit_log, publish, review_settings
from tests.factories import make_user, sign_in_as
from tests.factories.reviews import (
    approve,
    edit_offer,
    make_offer,
    publish_now,
    ring,
    submit,
)


def test_edits_submissions_reviews_publish_rollback_and_settings_are_recorded(app, session) -> None:
    mara, rita, alex = (
        make_user(session, "marketer"),
        make_user(session, "reviewer"),
        make_user(session, "admin"),
    )
    offer = make_offer(session, mara, "rewards_card")
    approve(session, submit(session, mara, offer), rita)
    publish_now(app, session, rita)
    edit_offer(session, offer, mara, name="Second")
    approve(session, submit(session, mara, offer), rita)
    publish_now(app, session, rita)
    publish.rollback(session, actor=alex, version=1, ring=ring(app))
    review_settings.set_required_approvals(session, 2, actor=alex)
    session.commit()
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {
        "offer.create",
        "offer.edit",
        "change_request.submit",
        "change_request.approve",
        "change_request.approved",
        "bundle.publish",
        "bundle.rollback",
        "settings.change",
    } <= actions


@pytest.fixture
def log(session):
    mara, rita = make_user(session, "marketer", name="Mara"), make_user(session, "reviewer")
    now = datetime.now(UTC)
    for n in range(60):
        audit.record(
            session, "offer.edit", actor_id=mara.id, object_type="offer", object_id=f"o{n % 3}"
        )
    session.add(
        AuditEvent(
            action="auth.sign_in",
            actor_id=rita.id,
            object_type="user",
            object_id=str(rita.id),
            at=now - timedelta(days=10),
        )
    )
    session.commit()
    return {"mara": mara, "rita": rita, "now": now}


def test_filters_by_person_object_and_time_and_paginates(session, log) -> None:
    page = audit_log.search(session, audit_log.Filters(person=log["mara"].id), per_page=25)
    assert (page.total, page.pages, len(page.items)) == (60, 3, 25)
    assert audit_log.search(session, audit_log.Filters(object="offer:o1")).total == 20
    assert audit_log.search(session, audit_log.Filters(object="user")).total == 1
    old = (log["now"] - timedelta(days=10)).date()
    only_old = audit_log.search(session, audit_log.Filters(since=old, until=old))
    assert [e.action for e in only_old.items] == ["auth.sign_in"]
    assert audit_log.search(session, audit_log.Filters(action="auth.")).total == 1


@pytest.mark.parametrize(
    "args, field",
    [
        ({"since": "yesterday"}, "since"),
        ({"person": "x"}, "person"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "until"),
    ],
)
def test_bad_filters_are_refused_field_by_field(args, field) -> None:
    with pytest.raises(ValidationFailed) as refused:
        audit_log.parse_filters(args)
    assert field in refused.value.by_field()


@pytest.mark.parametrize(
    "role, status", [("reviewer", 200), ("admin", 200), ("marketer", 403), ("service_lead", 403)]
)
def test_reviewers_and_admins_read_the_log(app, session, log, role, status) -> None:
    client = sign_in_as(app.test_client(), make_user(session, role))
    response = client.get(f"/audit/?person={log['mara'].id}&page=2")
    assert response.status_code == status
    if status == 200:
        assert b"Page 2 of 2" in response.data
        assert client.get("/audit/?since=nope").status_code == 422


def test_a_page_past_the_last_shows_the_last_and_says_so(app, session, log) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "admin"))
    past = client.get(f"/audit/?person={log['mara'].id}&page=999").get_data(as_text=True)
    assert "Page 2 of 2" in past
    assert "There is no page 999: this is the last page, page 2." in past
    assert "There is no page" not in client.get(f"/audit/?person={log['mara'].id}&page=2").get_data(
        as_text=True
    )


def test_the_log_cannot_be_changed_from_the_studio(app, session, log) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "admin"))
    event_id = session.scalar(select(AuditEvent.id))
    for method in ("post", "put", "delete", "patch"):
        for url in ("/audit/", f"/audit/{event_id}"):
            response = getattr(client, method)(url, headers={"X-CSRF-Token": "test-csrf-token"})
            assert response.status_code in (404, 405), (method, url)
    audit_rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("audit.")]
    assert all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in audit_rules)
