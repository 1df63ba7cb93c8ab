"""Telling people what needs them: an in-app inbox, and email when SMTP is configured.

Notifications are rows written in the same transaction as the change they announce, so
a refused or rolled-back change never notifies anybody. Emails are queued on the
database session and sent only after it commits; a mail server that is down is logged
and never undoes the change.

Email: set STUDIO_SMTP_URL to `smtp://user:password@host:587` (STARTTLS),
`smtps://...:465` (TLS) or `smtp://host:25` (plain, for a local relay), and optionally
STUDIO_SMTP_FROM. Headers are built with `email.headerregistry` objects (`Address`,
and the policy's header factory for Subject). Text that becomes a header (a person's
name, a change-request title) is refused where it is typed when it holds CR, LF, another
control character or ``=?``: Python's email package before 3.11.10/3.12.5/3.13.0
(CVE-2024-6923) decodes an RFC 2047 encoded word such as ``=?utf-8?q?=0D=0A...?=`` and
writes the decoded line break raw, which adds a header. `build_message` refuses such
values too, so mail built from older stored text cannot carry one either.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from studio.errors import HeaderInjection
from studio.models import Notification, User, UserRole, utcnow
from studio.services.pagination import Page, clamp

log = logging.getLogger(__name__)

OUTBOX = "studio.outbox"
DEFAULT_SENDER = "studio@localhost"


# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def header_text_problem(value: str) -> str | None:
    """Why `value` cannot become part of a mail header, or None when it can.

    Used by the forms that store such text, so the person sees the message and nothing
    is stored; `build_message` applies it again.
    """
    control = _CONTROL.search(value)
    if control is not None:
        what = "line breaks" if control.group(0) in "\r\n\u2028\u2029" else "control characters"
        return f"It cannot contain {what} (found at character {control.start() + 1})."
    if "=?" in value:
        return "It cannot contain '=?': mail programs read it as the start of an encoded word."
    return None


@dataclass(frozen=True)
class Mail:
    to_name: str
    to_email: str
    subject: str
    body: str


def _clean_header(value: str, what: str) -> str:
    problem = header_text_problem(value)
    if problem is not None:
        raise HeaderInjection(f"the {what} is refused: {problem}")
    return value


def build_message(mail: Mail, *, sender: str) -> EmailMessage:
    """An RFC 5322 message; raises HeaderInjection if a header value could add a header."""
    to_name = _clean_header(mail.to_name, "recipient name")
    to_email = _clean_header(mail.to_email, "recipient address")
    subject = _clean_header(mail.subject, "subject")
    sender = _clean_header(sender, "sender address")
    user, _, domain = to_email.rpartition("@")
    from_user, _, from_domain = sender.rpartition("@")
    message = EmailMessage()
    message["From"] = Address(
        display_name="Point-of-service studio", username=from_user, domain=from_domain
    )
    message["To"] = Address(display_name=to_name, username=user, domain=domain)
    message["Subject"] = subject
    message.set_content(mail.body)
    return message


Sender = Callable[[list[EmailMessage]], None]


def smtp_sender(url: str) -> Sender:
    """A function that delivers messages through the SMTP server at `url`."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("STUDIO_SMTP_URL must look like smtp://user:password@host:587")
    host = parts.hostname

    def send(messages: list[EmailMessage]) -> None:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if parts.scheme == "smtps":
            client = smtplib.SMTP_SSL(host, port, context=context, timeout=10)
        else:
            client = smtplib.SMTP(host, port, timeout=10)
        with client:
            if parts.scheme == "smtp" and port != 25:
                client.starttls(context=context)
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            for message in messages:
                client.send_message(message)

    return send


_test_sender: Sender | None = None


def set_sender_for_tests(sender: Sender | None) -> None:
    """Capture outgoing mail instead of talking to a server (tests only)."""
    global _test_sender
    _test_sender = sender


def _configured_sender() -> Sender | None:
    if _test_sender is not None:
        return _test_sender
    url = os.environ.get("STUDIO_SMTP_URL", "")
    return smtp_sender(url) if url else None


def _flush_outbox(session: Session) -> None:
    pending: list[Mail] = session.info.pop(OUTBOX, [])
    sender = _configured_sender() if pending else None
    if sender is None:
        return
    from_address = os.environ.get("STUDIO_SMTP_FROM", DEFAULT_SENDER)
    messages = []
    for mail in pending:
        try:
            messages.append(build_message(mail, sender=from_address))
        except (HeaderInjection, ValueError) as refused:
            log.warning("Not emailing %s: %s", mail.to_email, refused)
    try:
        sender(messages)
    except (OSError, smtplib.SMTPException):
        log.exception("Could not send %d notification email(s)", len(messages))


def _drop_outbox(session: Session) -> None:
    session.info.pop(OUTBOX, None)


def _drop_after_rollback(session: Session, _transaction: Any) -> None:
    _drop_outbox(session)


def register_listeners(sessions: sessionmaker[Session]) -> None:
    """Send the outbox when a session of `sessions` commits, drop it when it rolls back."""
    for name, listener in (
        ("after_commit", _flush_outbox),
        ("after_soft_rollback", _drop_after_rollback),
    ):
        if not event.contains(sessions, name, listener):
            event.listen(sessions, name, listener)


def _queue(session: Session, mail: Mail) -> None:
    session.info.setdefault(OUTBOX, []).append(mail)


def notify(
    session: Session,
    users: Iterable[User],
    *,
    kind: str,
    message: str,
    link: str = "",
    exclude: int | None = None,
) -> list[Notification]:
    """Put a note in each person's inbox (and queue an email); skips `exclude` (the actor)."""
    created = []
    seen: set[int] = set()
    for user in users:
        if user.id == exclude or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        note = Notification(user_id=user.id, kind=kind, message=message[:500], link=link[:500])
        session.add(note)
        created.append(note)
        _queue(
            session,
            Mail(
                to_name=user.name,
                to_email=user.email,
                subject=_one_line(message)[:150],
                body=f"{message}\n\n{link}\n" if link else f"{message}\n",
            ),
        )
    return created


def _one_line(text: str) -> str:
    return " ".join(text.split())


def unread_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


@dataclass(frozen=True)
class InboxPage(Page[Notification]):
    unread: int = 0


def inbox(
    session: Session, user_id: int, *, page: int = 1, per_page: int = 25, unread_only: bool = False
) -> InboxPage:
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = clamp(page, total=total, per_page=per_page)
    items = list(
        session.scalars(
            stmt.order_by(Notification.created_at.desc(), Notification.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return InboxPage(items, page, per_page, total, unread=unread_count(session, user_id))


def mark_read(session: Session, user_id: int, notification_id: int | None = None) -> int:
    """Mark one (or every) unread note of this person as read; returns how many changed.

    Scoped by `user_id` so nobody can touch another person's inbox by guessing ids.
    """
    stmt = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    result = session.execute(stmt.values(read_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def find(session: Session, user_id: int, notification_id: int) -> Notification | None:
    return session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user_id
        )
    )


def people_with_roles(session: Session, roles: Iterable[str]) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(UserRole)
            .where(UserRole.role.in_(list(roles)), User.active.is_(True))
            .distinct()
            .order_by(User.id)
        )
    )
