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
    assert [m["To"].addresses[0].addr_spec for m in outbox] == [rita.email, omar.email, mara.email]


def test_no_email_leaves_before_the_change_commits(session, outbox) -> None:
    mara, _rita = make_user(session, "marketer"), make_user(session, "reviewer")
    offer = make_offer(session, mara, "rewards_card")
    from studio.services import submission

    submission.submit(
        session, author=mara, title="Rolled back", description="", artifact_ids=[offer.id]
    )
    session.rollback()
    session.commit()
    assert outbox == []
    assert session.scalar(select(Notification)) is None


@pytest.mark.parametrize("field", ["subject", "to_name", "to_email"])
def test_headers_with_cr_or_lf_are_refused(field) -> None:
    values = {"to_name": "Rita", "to_email": "rita@example.com", "subject": "Hello", "body": "Body"}
    values[field] = values[field] + "\r\nBcc: evil@example.com"
    with pytest.raises(HeaderInjection):
        notifications.build_message(notifications.Mail(**values), sender="studio@example.com")


def test_a_message_is_built_with_proper_addresses() -> None:
    message = notifications.build_message(
        notifications.Mail("Rita Jensen", "rita@example.com", "Review wanted", "Please look."),
        sender="studio@example.com",
    )
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


# Header-injection strings: raw and encoded line breaks (RFC 2047 q and b words that
# decode to CR LF: the CVE-2024-6923 class), other controls, and look-alikes that must stay
# literal text.
HEADER_ATTACKS = [
    "Launch\r\nBcc: evil@example.com",
    "Launch\nBcc: evil@example.com",
    "Launch\rBcc: x",
    "=?utf-8?q?Launch=0D=0ABcc:_evil@example.com?=",
    "=?utf-8?q?x=0ABcc:_evil@example.com?=",
    "=?UTF-8?B?TGF1bmNoDQpCY2M6IGV2aWxAZXhhbXBsZS5jb20=?=",
    "=?iso-8859-1?q?x=0D=0AX-Injected:_1?=",
    "a =?utf-8?Q?=0D=0A?= X-Injected: 1",
    "Launch\x00",
    "Launch\x1b[31mred",
    "Launch\u2028Bcc: evil@example.com",
    "Launch\x85Bcc: evil@example.com",
    "Launch\x0bBcc: x",
    "Launch\x0cBcc: x",
    "Launch\tBcc: x",
    "Launch\x7f",
]
HARMLESS_LOOKALIKES = ["Launch %0d%0aBcc: x", "Launch \\r\\nBcc: x", "Launch = ? ok"]
EXPECTED_HEADERS = [
    "From",
    "To",
    "Subject",
    "Content-Type",
    "Content-Transfer-Encoding",
    "MIME-Version",
]


def _parsed_back(mail: notifications.Mail):
    from email import message_from_bytes, policy

    built = notifications.build_message(mail, sender="studio@example.com")
    return message_from_bytes(built.as_bytes(policy=policy.SMTP), policy=policy.default)


@pytest.mark.parametrize("field", ["subject", "to_name"])
@pytest.mark.parametrize("attack", HEADER_ATTACKS)
def test_a_header_value_that_could_add_a_header_is_refused(field: str, attack: str) -> None:
    values = {"to_name": "Rita", "to_email": "rita@example.com", "subject": "Hello", "body": "Body"}
    values[field] = attack
    with pytest.raises(notifications.HeaderInjection):
        notifications.build_message(notifications.Mail(**values), sender="studio@example.com")


@pytest.mark.parametrize("field", ["subject", "to_name"])
@pytest.mark.parametrize("text", HARMLESS_LOOKALIKES)
def test_mail_parsed_back_on_this_python_has_exactly_the_headers_it_was_built_with(
    field: str, text: str
) -> None:
    values = {"to_name": "Rita", "to_email": "rita@example.com", "subject": "Hello", "body": "Body"}
    values[field] = text
    parsed = _parsed_back(notifications.Mail(**values))
    assert sorted(parsed.keys()) == sorted(EXPECTED_HEADERS)
    shown = parsed["Subject"] if field == "subject" else parsed["To"].addresses[0].display_name
    assert str(shown) == text


def test_the_guard_is_needed_exactly_where_the_library_bug_is() -> None:
    """Python before 3.11.10 / 3.12.5 / 3.13.0 writes a decoded encoded-word line break raw."""
    import sys
    from email import message_from_bytes, policy
    from email.message import EmailMessage

    attack = "=?utf-8?q?x=0D=0AX-Injected:_1?="
    raw = EmailMessage()
    raw["Subject"] = attack
    raw.set_content("Body")
    try:
        serialized = raw.as_bytes(policy=policy.SMTP)
    except ValueError:  # fixed interpreters refuse to write the line break
        serialized = b"Subject: x\r\n\r\n"
    injected = "X-Injected" in message_from_bytes(serialized, policy=policy.default)
    version = sys.version_info[:3]
    fixed = (
        version >= (3, 13, 0) or (3, 12, 5) <= version < (3, 13) or (3, 11, 10) <= version < (3, 12)
    )
    assert injected is not fixed
    with pytest.raises(notifications.HeaderInjection):
        notifications.build_message(
            notifications.Mail("Rita", "rita@example.com", attack, "B"), sender="studio@example.com"
        )


def test_a_title_with_an_encoded_word_is_refused_on_the_form_and_nothing_is_stored(
    app, session
) -> None:
    from studio.models import ChangeRequest

    mara = make_user(session, "marketer")
    offer = make_offer(session, mara, "rewards_card")
    client = sign_in_as(app.test_client(), mara)
    for title in ("=?utf-8?q?Launch=0D=0ABcc:_evil@example.com?=", "Launch\x1b[2J"):
        response = post(client, "/reviews/new", {"title": title, "artifact": str(offer.id)})
        assert response.status_code == 422
        assert "becomes the subject of email" in response.get_data(as_text=True)
    assert session.scalar(select(ChangeRequest)) is None


@pytest.mark.parametrize("name", ["Rita\r\nBcc: evil@example.com", "=?utf-8?q?R=0A?=", "Rita\x00"])
def test_a_display_name_that_could_add_a_header_is_refused_on_the_form(app, session, name) -> None:
    from studio.models import User

    admin = make_user(session, "admin")
    client = sign_in_as(app.test_client(), admin)
    response = post(
        client,
        "/admin/users/new",
        {
            "email": "rita@example.com",
            "name": name,
            "password": "a long enough password",
            "roles": "reviewer",
        },
    )
    assert response.status_code == 422
    assert "used in email headers" in response.get_data(as_text=True)
    assert session.scalar(select(User).where(User.email == "rita@example.com")) is None
