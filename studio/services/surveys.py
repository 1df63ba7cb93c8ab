"""How often one customer may be asked the NPS question, and the signed score links.

The frequency is one workspace setting across every channel: a customer who answered
(or was asked) within the window is not asked again, whether the earlier question came
in an email, on their message page or from a downstream system's own survey (an `nps`
event with their customer id counts too).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from studio import audit
from studio.errors import FieldError, ValidationFailed
from studio.models import FeedbackEvent, Message, Setting

FREQUENCY_KEY: Final = "nps_every_days"
DEFAULT_EVERY_DAYS: Final = 90
MAX_EVERY_DAYS: Final = 3650
SIGNATURE_CHARS: Final = 16


def every_days(session: Session) -> int:
    """Ask a customer at most once per this many days (0: every message may ask)."""
    row = session.get(Setting, FREQUENCY_KEY)
    value = row.value if row is not None else DEFAULT_EVERY_DAYS
    return value if isinstance(value, int) and not isinstance(value, bool) else DEFAULT_EVERY_DAYS


def set_every_days(session: Session, raw: str, *, actor_id: int) -> int:
    """Change the frequency (flushed, audited); raise `ValidationFailed` for bad input."""
    try:
        days = int(raw.strip())
    except (ValueError, AttributeError):
        days = -1
    if not 0 <= days <= MAX_EVERY_DAYS:
        raise ValidationFailed(
            [
                FieldError(
                    "nps_every_days",
                    f"Give a whole number of days from 0 to {MAX_EVERY_DAYS} "
                    "(0 asks on every message).",
                )
            ]
        )
    row = session.get(Setting, FREQUENCY_KEY)
    before = row.value if row is not None else DEFAULT_EVERY_DAYS
    if row is None:
        row = Setting(key=FREQUENCY_KEY, value=days, updated_by=actor_id)
        session.add(row)
    else:
        row.value = days
        row.updated_by = actor_id
    audit.record(
        session,
        "survey.frequency",
        actor_id=actor_id,
        object_type="setting",
        object_id=FREQUENCY_KEY,
        before=before,
        after=days,
    )
    session.flush()
    return days


def due(session: Session, customer_id: str, customer_hash: str, now: datetime) -> bool:
    """True when this customer may be asked now: nobody asked them within the window."""
    days = every_days(session)
    if days == 0:
        return True
    since = now - timedelta(days=days)
    asked = session.scalar(
        select(
            exists().where(
                Message.customer_hash == customer_hash,
                Message.survey.is_(True),
                Message.created_at >= since,
            )
        )
    )
    if asked:
        return False
    answered = session.scalar(
        select(
            exists().where(
                FeedbackEvent.type == "nps",
                FeedbackEvent.customer_id == customer_id,
                FeedbackEvent.at >= since,
            )
        )
    )
    return not answered


def score_signature(secret: str, token: str, score: int) -> str:
    """The short HMAC that makes a score link exactly as minted: changing the score in
    the address (or pasting another message's token) gives a link that is refused."""
    digest = hmac.new(
        secret.encode("utf-8"), f"nps:{token}:{score}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:SIGNATURE_CHARS]


def signature_ok(secret: str, token: str, score: int, signature: str) -> bool:
    return hmac.compare_digest(score_signature(secret, token, score), signature or "")
