"""Authors hear of reviews, reviewers of new requests: inbox always, email when configured."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from studio.errors import HeaderInjection
from studio.models import Notification
from studio.services import notifications
from tests.factories import make_user, post, sign_in_as
from tests.factories.reviews import approve, make_offer, submit


@pytest.fixture
def outbox():
    sent: list = []
    notifications.set_sender_for_tests(lambda messages: sent.extend(messages))
    yield sent
    notifications.set_sender_for_tests(None)


def test_reviewers_hear_of_new_requests_and_authors_of_verdicts(session, outbox) -> None:
    mara, rita = make_user(session, "marketer", name="Mara"), make_user(session, "reviewer")
    omar = make_user(session, "marketer", "reviewer")
    request = submit(session, mara, make_offer(session, mara, "rewards_card"), title="Launch")
    notes = {n.user_id: n.message for n in session.scalars(select(Notification))}
    assert set(notes) == {rita.id, omar.id}
    assert notes[rita.id] == 'Mara asks for a review: "Launch".'
    approve(session, request, rita)
    assert notifications.unread_count(session, mara.id) == 1
    assert [m["To"].addresses[0].addr_spec for m in outbox] == \
        [rita.email, omar.email, mara.email]


def test_no_email_leaves_before_the_change_commits(session, outbox) -> None:
    mara, _rita = make_user(session, "marketer"), make_user(session, "reviewer")
    offer = make_offer(session, mara, "rewards_card")
    from studio.services import submission

    submission.submit(session, author=mara, title="Rolled back", description="",
                   artifact_ids=[offer.id])
    session.rollback()
    session.commit()
    assert outbox == []
    assert session.scalar(select(Notification)) is None


@pytest.mark.parametrize("field", ["subject", "to_name", "to_email"])
def test_headers_with_cr_or_lf_are_refused(field) -> None:
    values = {"to_name": "Rita", "to_email": "rita@example.com", "subject": "Hello",
              "body": "Body"}
    values[field] = values[field] + "\r\nBcc: evil@example.com"
    with pytest.raises(HeaderInjection):
        notifications.build_message(notifications.Mail(**values), sender="studio@example.com")


def test_a_message_is_built_with_proper_addresses() -> None:
    message = notifications.build_message(
        notifications.Mail("Rita Jensen", "rita@example.com", "Review wanted", "Please look."),
        sender="studio@example.com")
    assert message["To"] == "Rita Jensen <rita@example.com>"
    assert message["From"].addresses[0].addr_spec == "studio@example.com"
    assert message.get_content().strip() == "Please look."


def test_smtp_url_must_be_smtp() -> None:
    with pytest.raises(ValueError):
        notifications.smtp_sender("http://mail.example.com")


def test_the_top_bar_shows_the_unread_count_and_opening_marks_read(app, session) -> None:
    mara, rita = make_user(session, "marketer"), make_user(session, "reviewer")
    request = submit(session, mara, make_offer(session, mara, "rewards_card"))
    client = sign_in_as(app.test_client(), rita)
    page = client.get("/inbox/")
    assert b'aria-label="1 unread"' in page.data and b"asks for a review" in page.data
    note = session.scalar(select(Notification).where(Notification.user_id == rita.id))
    opened = post(client, f"/inbox/{note.id}/open")
    assert opened.status_code == 302 and opened.headers["Location"] == f"/reviews/{request.id}"
    assert notifications.unread_count(session, rita.id) == 0


def test_nobody_can_open_or_read_another_persons_notes(app, session) -> None:
    mara, rita = make_user(session, "marketer"), make_user(session, "reviewer")
    submit(session, mara, make_offer(session, mara, "rewards_card"))
    note = session.scalar(select(Notification).where(Notification.user_id == rita.id))
    client = sign_in_as(app.test_client(), mara)
    assert post(client, f"/inbox/{note.id}/open").status_code == 404
    assert post(client, "/inbox/read-all").status_code == 302
    assert notifications.unread_count(session, rita.id) == 1
    assert b"Nothing yet." in client.get("/inbox/").data
