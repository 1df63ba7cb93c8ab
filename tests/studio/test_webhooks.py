"""Exception reports to a webhook: HMAC-signed, retried with backoff, every attempt logged.

The receiver is a real HTTP server on 127.0.0.1 in a thread; it answers as each test
tells it to (200, 500, or not at all within the timeout).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from studio.errors import NotAllowed, ValidationFailed
from studio.models import WebhookDelivery
from studio.roles import ADMIN, MARKETER
from studio.services import webhooks
from tests.factories import make_user

SECRET = "a-shared-secret-of-some-length"
T0 = datetime(2026, 11, 10, 12, tzinfo=UTC)


class Receiver:
    def __init__(self) -> None:
        self.answers: list[int | str] = []
        self.received: list[tuple[bytes, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((body, self.headers.get(webhooks.SIGNATURE_HEADER, "")))
                answer = receiver.answers.pop(0) if receiver.answers else 200
                if answer == "hang":
                    time.sleep(1.5)
                    answer = 200
                self.send_response(int(answer))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def _configured(session, url: str):
    webhooks.configure(session, url, SECRET, actor=make_user(session, ADMIN))
    delivery = webhooks.queue_report(session, "complaint", {"offer": "card_plan"})
    webhooks.take_intents(session)
    delivery.next_attempt_at = T0
    session.commit()
    return delivery


def test_a_report_is_signed_with_hmac_sha256_of_the_exact_body(session, receiver) -> None:
    delivery = _configured(session, receiver.url)
    assert webhooks.deliver(session, delivery.id, now=T0) == "delivered"
    [(body, signature)] = receiver.received
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"
    assert b'"kind":"complaint"' in body and b'"offer":"card_plan"' in body
    assert (delivery.attempts, delivery.last_status) == (1, 200)


def test_a_500_is_retried_later_with_growing_delays_then_delivered(session, receiver) -> None:
    receiver.answers = [500, 500, 200]
    delivery = _configured(session, receiver.url)
    assert webhooks.deliver(session, delivery.id, now=T0) == "pending"
    assert delivery.last_error == "The receiver answered 500."
    assert delivery.next_attempt_at == T0 + timedelta(seconds=30)
    # Not due yet: nothing is sent, nothing counted.
    assert webhooks.deliver(session, delivery.id, now=T0 + timedelta(seconds=10)) == "pending"
    assert len(receiver.received) == 1
    second = T0 + timedelta(seconds=30)
    assert webhooks.due(session, now=second) == [delivery.id]
    assert webhooks.deliver(session, delivery.id, now=second) == "pending"
    assert delivery.next_attempt_at == second + timedelta(seconds=60)
    assert webhooks.deliver(session, delivery.id, now=second + timedelta(seconds=60)) == "delivered"
    assert (delivery.attempts, len(receiver.received)) == (3, 3)
    assert webhooks.deliver(session, delivery.id, now=second + timedelta(hours=1)) == "delivered"
    assert len(receiver.received) == 3


def test_a_receiver_that_hangs_is_recorded_as_a_timeout_not_a_crash(session, receiver) -> None:
    receiver.answers = ["hang"]
    delivery = _configured(session, receiver.url)
    assert webhooks.deliver(session, delivery.id, now=T0, timeout=0.3) == "pending"
    assert delivery.last_error == "The receiver did not answer within 0.3 s."
    assert delivery.last_status is None


def test_a_receiver_that_is_gone_fails_after_the_last_attempt(session, receiver) -> None:
    delivery = _configured(session, receiver.url)
    receiver.close()
    now = T0
    for _ in range(webhooks.MAX_ATTEMPTS):
        status = webhooks.deliver(session, delivery.id, now=now)
        now = delivery.next_attempt_at or now
    assert status == "failed" and delivery.attempts == webhooks.MAX_ATTEMPTS
    assert delivery.last_error.startswith("Could not reach the receiver")


def test_no_webhook_means_no_delivery_rows(session) -> None:
    assert webhooks.queue_report(session, "complaint", {"offer": "x"}) is None
    assert session.query(WebhookDelivery).count() == 0


@pytest.mark.parametrize(
    ("url", "secret", "field"),
    [
        ("ftp://example.com/x", SECRET, "url"),
        ("http://", SECRET, "url"),
        ("https://example.com/hook", "short", "secret"),
    ],
)
def test_a_bad_webhook_setting_is_refused_with_its_field(session, url, secret, field) -> None:
    with pytest.raises(ValidationFailed) as refused:
        webhooks.configure(session, url, secret, actor=make_user(session, ADMIN))
    assert refused.value.errors[0].field == field
    assert webhooks.config(session) is None


def test_only_admins_configure_the_webhook(session) -> None:
    with pytest.raises(NotAllowed):
        webhooks.configure(
            session, "https://example.com/hook", SECRET, actor=make_user(session, MARKETER)
        )
