"""Exception reports to an outbound webhook: signed, retried with backoff, logged.

An admin sets one URL and a shared secret (Setting "webhook"). Every report is a row in
`webhook_deliveries` first (written with the complaint that caused it, so a rolled-back
ingest sends nothing), then posted by a background job after the commit. The body is
JSON; the header `X-Studio-Signature: sha256=<hex>` is the HMAC-SHA256 of the exact
body bytes under the secret, so the receiver can check the report came from the studio.

A receiver that answers anything but 2xx, refuses the connection or does not answer
within `TIMEOUT` seconds is tried again after 30 s, 1, 2, 4, 8 ... minutes (at most
`MAX_ATTEMPTS` tries); each attempt's status or error is kept on the row, which admins
read under Admin -> Webhook. The periodic job `loop.webhook_sweep` (every minute) sends
whatever is due, so deliveries survive a restart (jobs: `studio.loop_jobs`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio import audit
from studio.errors import FieldError, NotAllowed, ValidationFailed
from studio.models import Setting, User, WebhookDelivery, utcnow
from studio.roles import ADMIN

SETTING: Final = "webhook"
SIGNATURE_HEADER: Final = "X-Studio-Signature"
TIMEOUT: Final = 5.0
MAX_ATTEMPTS: Final = 8
FIRST_RETRY: Final = timedelta(seconds=30)
JOB_INTENTS: Final = "studio.job_intents"


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret: str


def config(session: Session) -> WebhookConfig | None:
    row = session.get(Setting, SETTING)
    value = row.value if row is not None else None
    if not isinstance(value, Mapping) or not value.get("url") or not value.get("secret"):
        return None
    return WebhookConfig(str(value["url"]), str(value["secret"]))


def configure(session: Session, url: str, secret: str, *, actor: User) -> WebhookConfig | None:
    """Admins set (or, with an empty URL, remove) the webhook; audited, secret not logged."""
    if ADMIN not in actor.roles:
        raise NotAllowed("Only admins configure the webhook.")
    url, secret = url.strip(), secret.strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationFailed([FieldError("url", "Enter an http:// or https:// URL.")])
        if len(url) > 500:
            raise ValidationFailed([FieldError("url", "The URL is longer than 500 characters.")])
        if len(secret) < 16:
            raise ValidationFailed(
                [
                    FieldError(
                        "secret",
                        "Use a secret of at least 16 characters (the receiver checks "
                        "signatures with it).",
                    )
                ]
            )
    row = session.get(Setting, SETTING)
    value = {"url": url, "secret": secret} if url else {}
    if row is None:
        session.add(Setting(key=SETTING, value=value, updated_by=actor.id))
    else:
        row.value = value
        row.updated_by = actor.id
        row.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        "settings.change",
        actor_id=actor.id,
        object_type="setting",
        object_id=SETTING,
        after={"url": url} if url else None,
    )
    return config(session)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def intend(session: Session, name: str, **kwargs: Any) -> None:
    """Note a job to enqueue once this session commits (the caller enqueues them)."""
    session.info.setdefault(JOB_INTENTS, []).append((name, kwargs))


def take_intents(session: Session) -> list[tuple[str, dict[str, Any]]]:
    intents: list[tuple[str, dict[str, Any]]] = session.info.pop(JOB_INTENTS, [])
    return intents


def queue_report(session: Session, kind: str, payload: Mapping[str, Any]) -> WebhookDelivery | None:
    """Store a delivery for `payload` when a webhook is configured (flushed)."""
    conf = config(session)
    if conf is None:
        return None
    body = json.dumps({"kind": kind, **payload}, separators=(",", ":"), sort_keys=True)
    delivery = WebhookDelivery(
        kind=kind, url=conf.url, body=body, status="pending", next_attempt_at=utcnow()
    )
    session.add(delivery)
    session.flush()
    intend(session, "loop.webhook_deliver", delivery_id=delivery.id)
    return delivery


def deliver(
    session: Session, delivery_id: int, *, now: datetime | None = None, timeout: float = TIMEOUT
) -> str:
    """Try one delivery if it is due; record the outcome; return its status."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return "missing"
    now = now or datetime.now(UTC)
    due = delivery.next_attempt_at
    if delivery.status != "pending" or (due is not None and _aware(due) > now):
        return delivery.status
    conf = config(session)
    if conf is None:
        delivery.status = "cancelled"
        delivery.last_error = "The webhook was removed before this report could be sent."
        delivery.updated_at = now
        return delivery.status
    body = delivery.body.encode("utf-8")
    delivery.attempts += 1
    status, error = _post(delivery.url, body, sign(conf.secret, body), timeout)
    delivery.last_status = status
    delivery.last_error = error[:500]
    delivery.updated_at = now
    if status is not None and 200 <= status < 300:
        delivery.status = "delivered"
        delivery.next_attempt_at = None
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = "failed"
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = now + FIRST_RETRY * (2 ** (delivery.attempts - 1))
    session.flush()
    return delivery.status


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _post(url: str, body: bytes, signature: str, timeout: float) -> tuple[int | None, str]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature,
            "User-Agent": "pos-studio-webhook/1",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (admin URL)
            return answer.status, ""
    except urllib.error.HTTPError as refused:
        return refused.code, f"The receiver answered {refused.code}."
    except TimeoutError:
        return None, f"The receiver did not answer within {timeout:g} s."
    except (urllib.error.URLError, OSError, ValueError) as failed:
        reason = getattr(failed, "reason", failed)
        if isinstance(reason, TimeoutError):
            return None, f"The receiver did not answer within {timeout:g} s."
        return None, f"Could not reach the receiver: {reason}."


def due(session: Session, *, now: datetime | None = None, limit: int = 100) -> list[int]:
    now = now or datetime.now(UTC)
    return list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
    )


def recent(session: Session, *, limit: int = 50) -> list[WebhookDelivery]:
    return list(
        session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit))
    )
