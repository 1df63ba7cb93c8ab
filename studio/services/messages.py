"""Customer messages: one service response opened at `/m/<token>`, and what the
customer does there.

A message is reached by an unguessable token (128 random bits, 22 base64url
characters, short enough for an SMS). Only its sha256 is stored, so the link in the
customer's SMS or email is the only copy. Every action the customer takes becomes a
feedback event through the same ingest downstream systems use, with an event id
derived from the message and the kind of action, so a second click, a reload or a
replayed link is recorded once. Accept and decline share one id per offer: the first
answer stands. Each event names the decision that opened the message (`decision_id`,
kept with the message), so the decision page, attribution and the lift count it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from content.channels import RenderContext, render_variants
from content.links import NPS_SCORES, MessageLinks
from content.sanitize import clean_html
from studio import audit
from studio.errors import FieldError, ValidationFailed
from studio.models import Artifact, FeedbackEvent, Message
from studio.roles import MARKETER
from studio.services import events, notifications, surveys
from studio.services.survey_answers import DecidedSurvey

TOKEN_BYTES: Final = 16
TOKEN_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{22}")
MAX_COMMENT: Final = 2000
MAX_RESPONSE_CHARS: Final = 200_000
PAGE_SIZE: Final = 25


# --- tokens -----------------------------------------------------------------------------


def new_token() -> str:
    """128 random bits as 22 base64url characters."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_customer(customer_id: str) -> str:
    return hashlib.sha256(f"customer:{customer_id}".encode()).hexdigest()


def page_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/m/{token}"


def links_for(base_url: str, token: str, secret: str, *, survey: bool) -> MessageLinks:
    page = page_url(base_url, token)
    scores = (
        tuple(
            f"{page}/nps/{score}?s={surveys.score_signature(secret, token, score)}"
            for score in NPS_SCORES
        )
        if survey
        else ()
    )
    return MessageLinks(page=page, nps_scores=scores)


# --- opening a message ------------------------------------------------------------------


@dataclass(frozen=True)
class DecidedOffer:
    """One offer the decision made, as the message keeps it."""

    key: str
    rule: str = ""
    ruleset: str = ""


@dataclass(frozen=True)
class MessageSpec:
    """What a downstream system asks to open: already checked for shape by the API."""

    customer: Mapping[str, Any]
    channel: str
    response_text: str = ""
    response_html: str = ""
    category: str = ""
    bundle_version: int | None = None
    offers: tuple[DecidedOffer, ...] = ()
    inquiry: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    surveys: tuple[DecidedSurvey, ...] = ()
    #: The decision log's id of the decision the offers came from ("" when none).
    decision_id: str = ""

    @property
    def customer_id(self) -> str:
        return str(self.customer.get("id") or "")


@dataclass(frozen=True)
class Opening:
    """A message about to be stored: its token and the links every variant carries."""

    token: str
    links: MessageLinks
    url: str
    survey: bool
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class OpenedMessage:
    id: int
    url: str
    expires_at: datetime
    survey: bool
    surveys: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "url": self.url,
            "expires_at": self.expires_at.isoformat().replace("+00:00", "Z"),
            "survey": self.survey,
        }
        if self.surveys:
            out["surveys"] = [
                {"survey": key, "url": f"{self.url}/survey/{key}"} for key in self.surveys
            ]
        return out


def prepare(
    session: Session,
    spec: MessageSpec,
    *,
    base_url: str,
    secret: str,
    days: int,
    now: datetime | None = None,
) -> Opening:
    """Mint the token and links for a new message (nothing is written yet)."""
    now = now or datetime.now(UTC)
    survey = surveys.due(session, spec.customer_id, hash_customer(spec.customer_id), now)
    token = new_token()
    links = links_for(base_url, token, secret, survey=survey)
    return Opening(
        token=token,
        links=links,
        url=links.page,
        survey=survey,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )


def render_offers(
    runtime: Any, spec: MessageSpec, *, survey: bool, layout_key: str | None = None
) -> list[dict[str, Any]]:
    """Each decided offer rendered in the message-center layout, for the page itself.

    Rendered once, when the message is opened, from the bundle the decision came from:
    the page then shows exactly what the customer was offered, and a view costs no
    template work. Links to the message and its survey become links within the page, so
    the stored copy holds no token. Offers the bundle does not know are skipped.
    """
    links = MessageLinks(page="", nps_scores=("#nps",) * len(NPS_SCORES) if survey else ())
    key = layout_key or runtime.default_layouts.get("message_center")
    layout = runtime.layouts.get(key) if key else None
    layouts = (
        {"message_center": layout}
        if layout is not None and layout.channel == "message_center"
        else {}
    )
    context = RenderContext(
        customer=spec.customer, inquiry=spec.inquiry, data=spec.data, message=links
    )
    out = []
    for decided in spec.offers:
        offer = runtime.offers.get(decided.key)
        if offer is None:
            continue
        variant = render_variants(offer, layouts, context, ["message_center"])["message_center"]
        out.append(
            {
                "key": decided.key,
                "rule": decided.rule,
                "ruleset": decided.ruleset,
                "name": offer.name,
                "headline": offer.blocks.headline,
                "html": variant.html or "",
                "terms": offer.blocks.terms,
                "cta_label": offer.blocks.cta_label,
                "feedback_note": offer.feedback_note,
            }
        )
    return out


def store(
    session: Session,
    spec: MessageSpec,
    opening: Opening,
    rendered: Sequence[Mapping[str, Any]],
    *,
    token_id: int | None = None,
    asked: Sequence[Mapping[str, Any]] = (),
) -> OpenedMessage:
    """Write the message (flushed, not committed); `asked` holds the narrow-cast surveys
    as `survey_answers.snapshots` copied them from the bundle."""
    offers = list(rendered) or [
        {
            "key": o.key,
            "rule": o.rule,
            "ruleset": o.ruleset,
            "name": o.key,
            "headline": "",
            "html": "",
            "terms": "",
            "cta_label": "",
        }
        for o in spec.offers
    ]
    message = Message(
        token_hash=hash_token(opening.token),
        customer_id=spec.customer_id,
        customer_hash=hash_customer(spec.customer_id),
        channel=spec.channel,
        category=spec.category,
        response_text=spec.response_text,
        response_html=clean_html(spec.response_html) if spec.response_html else "",
        decision={
            "bundle_version": spec.bundle_version,
            "offers": offers,
            **({"surveys": list(asked)} if asked else {}),
        },
        decision_id=spec.decision_id or None,
        bundle_version=spec.bundle_version,
        survey=opening.survey,
        created_by_token=token_id,
        created_at=opening.created_at,
        expires_at=opening.expires_at,
    )
    session.add(message)
    session.flush()
    return OpenedMessage(
        message.id,
        opening.url,
        opening.expires_at,
        opening.survey,
        tuple(item["key"] for item in asked),
    )


# --- finding a message by its token -------------------------------------------------------


@dataclass(frozen=True)
class Unavailable:
    """Why a token opens no page: `unknown`, `expired` or `withdrawn`."""

    reason: str


def lookup(session: Session, token: str, *, now: datetime | None = None) -> Message | Unavailable:
    """The message a token opens, or why it opens none. A token of the wrong shape is
    answered like an unknown one, without touching the database."""
    if not TOKEN_SHAPE.fullmatch(token or ""):
        return Unavailable("unknown")
    message = session.scalar(select(Message).where(Message.token_hash == hash_token(token)))
    if message is None:
        return Unavailable("unknown")
    if message.withdrawn:
        return Unavailable("withdrawn")
    if _aware(message.expires_at) <= (now or datetime.now(UTC)):
        return Unavailable("expired")
    return message


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


# --- what the customer has done ---------------------------------------------------------


def event_id(message_id: int, kind: str, offer_key: str = "") -> str:
    """The id of the one event a message can hold of this kind (for this offer)."""
    return f"msg-{message_id}-{kind}" + (f"-{offer_key}" if offer_key else "")


@dataclass(frozen=True)
class OfferOnPage:
    key: str
    name: str
    headline: str
    html: str
    terms: str
    answer: str | None
    complained: bool
    feedback_note: str = ""


@dataclass(frozen=True)
class MessagePage:
    id: int
    response_text: str
    response_html: str
    offers: tuple[OfferOnPage, ...]
    survey: bool
    score: int | None
    comment: str | None
    expires_at: datetime

    def offer(self, key: str) -> OfferOnPage | None:
        return next((o for o in self.offers if o.key == key), None)


def _offers(message: Message) -> list[dict[str, Any]]:
    return [o for o in (message.decision or {}).get("offers", []) if isinstance(o, dict)]


def _recorded(session: Session, message: Message) -> dict[str, FeedbackEvent]:
    ids = [event_id(message.id, "nps")]
    for offer in _offers(message):
        ids += [
            event_id(message.id, kind, offer["key"]) for kind in ("shown", "answer", "complaint")
        ]
    rows = session.scalars(select(FeedbackEvent).where(FeedbackEvent.event_id.in_(ids)))
    return {row.event_id: row for row in rows}


def page(session: Session, message: Message) -> MessagePage:
    recorded = _recorded(session, message)
    offers = []
    for offer in _offers(message):
        answer = recorded.get(event_id(message.id, "answer", offer["key"]))
        offers.append(
            OfferOnPage(
                key=offer["key"],
                name=offer.get("name") or offer["key"],
                headline=offer.get("headline") or "",
                html=offer.get("html") or "",
                terms=offer.get("terms") or "",
                answer=answer.type if answer else None,
                complained=event_id(message.id, "complaint", offer["key"]) in recorded,
                feedback_note=str(offer.get("feedback_note") or ""),
            )
        )
    nps = recorded.get(event_id(message.id, "nps"))
    return MessagePage(
        id=message.id,
        response_text=message.response_text,
        response_html=message.response_html,
        offers=tuple(offers),
        survey=message.survey,
        score=int(nps.score) if nps is not None and nps.score is not None else None,
        comment=message.nps_comment,
        expires_at=_aware(message.expires_at),
    )


def _event(
    message: Message,
    kind: str,
    id_kind: str,
    offer: Mapping[str, Any] | None,
    now: datetime,
    score: int | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "event_id": event_id(
            message.id, id_kind, offer["key"] if offer and id_kind != "nps" else ""
        ),
        "type": kind,
        "channel": message.channel[:32],
        "category": message.category[:32],
        "customer_id": message.customer_id[:100],
        "at": now.isoformat(),
        "payload": {"message_id": message.id, "source": "message_center"},
    }
    if message.bundle_version is not None:
        out["bundle_version"] = message.bundle_version
    if message.decision_id:
        out["decision_id"] = message.decision_id
    if offer is not None:
        out.update(offer_key=offer["key"], rule=str(offer.get("rule") or "")[:200])
        out["payload"]["ruleset"] = offer.get("ruleset") or ""
    if score is not None:
        out["score"] = score
    return out


def _ingest(session: Session, batch: list[dict[str, Any]]) -> list[bool]:
    """Store the events; for each, True when it is new and False when it was already
    stored. A refusal here is a bug in this module, not customer input."""
    if not batch:
        return []
    report = events.ingest(session, {"events": batch})
    if not isinstance(report, events.IngestReport):
        raise RuntimeError(f"message event refused: {report}")
    refused = [r for r in report.results if r.status == "rejected"]
    if refused:
        raise RuntimeError(f"message event refused: {refused[0]}")
    return [r.status == "stored" for r in report.results]


def open_page(session: Session, message: Message, *, now: datetime | None = None) -> MessagePage:
    """The page, recording `shown` for every offer the first time it is opened."""
    now = now or datetime.now(UTC)
    if message.opened_at is None:
        offers = _offers(message)
        _ingest(session, [_event(message, "shown", "shown", o, now) for o in offers])
        message.opened_at = now
        session.flush()
    return page(session, message)


@dataclass(frozen=True)
class Outcome:
    """What a click did: `stored` is False when the same answer was already recorded."""

    stored: bool
    page: MessagePage


def answer(
    session: Session,
    message: Message,
    offer_key: str,
    *,
    accepted: bool,
    now: datetime | None = None,
) -> Outcome | None:
    """Record accept or decline for one offer; the first answer stands. None when the
    message holds no such offer."""
    offer = _find_offer(message, offer_key)
    if offer is None:
        return None
    now = now or datetime.now(UTC)
    kind = "accepted" if accepted else "declined"
    [stored] = _ingest(session, [_event(message, kind, "answer", offer, now)])
    return Outcome(stored, page(session, message))


def complain(
    session: Session, message: Message, offer_key: str, *, now: datetime | None = None
) -> Outcome | None:
    offer = _find_offer(message, offer_key)
    if offer is None:
        return None
    now = now or datetime.now(UTC)
    [stored] = _ingest(session, [_event(message, "complaint", "complaint", offer, now)])
    if stored:
        _tell_owner(session, message, offer)
    return Outcome(stored, page(session, message))


def _tell_owner(session: Session, message: Message, offer: Mapping[str, Any]) -> None:
    """A complaint is an exception report: the offer's owner hears of it at once (the
    marketers when the offer has no owner), in the inbox and by email when configured.

    About an offer the studio holds, the ingest has already done so, as for a complaint
    sent to `POST /api/v1/events` (the note links to the decision; the webhook report
    and the pause check follow). Only a complaint about an offer the studio does not
    hold (a bundle from elsewhere, a deleted offer) is told here, to the marketers."""
    known = session.scalar(
        select(Artifact.id).where(Artifact.kind == "offer", Artifact.key == offer["key"])
    )
    if known is not None:
        return
    rule = f" (rule “{offer.get('rule')}”)" if offer.get("rule") else ""
    notifications.notify(
        session,
        notifications.people_with_roles(session, [MARKETER]),
        kind="complaint",
        message=f"A customer said the offer “{offer.get('name') or offer['key']}”{rule} "
        f"was not welcome, on message {message.id} ({message.channel}).",
        link=f"/decisions/{message.decision_id}"
        if message.decision_id
        else f"/offers/{offer['key']}",
    )


def parse_score(raw: object) -> int | None:
    """A score from a form or an address: a whole number 0-10 written in digits."""
    text = str(raw if raw is not None else "").strip()
    if not text.isdigit() or len(text) > 2:
        return None
    score = int(text)
    return score if score in NPS_SCORES else None


def rate(session: Session, message: Message, score: int, *, now: datetime | None = None) -> Outcome:
    """Record the NPS answer (the first answer stands), tied to the message's first offer."""
    if score not in NPS_SCORES:
        raise ValidationFailed([FieldError("score", "Choose a score from 0 to 10.")])
    now = now or datetime.now(UTC)
    offers = _offers(message)
    [stored] = _ingest(
        session, [_event(message, "nps", "nps", offers[0] if offers else None, now, score)]
    )
    return Outcome(stored, page(session, message))


def add_comment(session: Session, message: Message, text: str) -> Outcome:
    """Keep the customer's comment as plain text (shown escaped, never as HTML). The
    first comment stands; an empty or overlong one is refused with nothing stored."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValidationFailed(
            [
                FieldError(
                    "comment", "Write a few words, or leave this page: your score is already saved."
                )
            ]
        )
    if len(text) > MAX_COMMENT:
        raise ValidationFailed(
            [
                FieldError(
                    "comment",
                    f"Your comment has {len(text):,} characters; please keep it to at most "
                    f"{MAX_COMMENT:,}.",
                )
            ]
        )
    if "\x00" in text:
        raise ValidationFailed(
            [FieldError("comment", "Your comment contains characters we cannot store.")]
        )
    if message.nps_comment:
        return Outcome(False, page(session, message))
    message.nps_comment = text
    session.flush()
    return Outcome(True, page(session, message))


def _find_offer(message: Message, offer_key: str) -> dict[str, Any] | None:
    return next((o for o in _offers(message) if o.get("key") == offer_key), None)


# --- staff: listing and withdrawing -------------------------------------------------------


@dataclass(frozen=True)
class MessageRow:
    id: int
    customer_id: str
    channel: str
    offers: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    opened_at: datetime | None
    withdrawn_at: datetime | None
    status: str
    comment: str | None


@dataclass(frozen=True)
class MessageList:
    rows: list[MessageRow]
    total: int
    page: int
    pages: int


def _row(message: Message, now: datetime) -> MessageRow:
    if message.withdrawn:
        status = "withdrawn"
    elif _aware(message.expires_at) <= now:
        status = "expired"
    else:
        status = "open" if message.opened_at else "sent"
    return MessageRow(
        id=message.id,
        customer_id=message.customer_id,
        channel=message.channel,
        offers=tuple(o["key"] for o in _offers(message)),
        created_at=_aware(message.created_at),
        expires_at=_aware(message.expires_at),
        opened_at=_aware(message.opened_at) if message.opened_at else None,
        withdrawn_at=_aware(message.withdrawn_at) if message.withdrawn_at else None,
        status=status,
        comment=message.nps_comment,
    )


def listing(
    session: Session, *, search: str = "", page_number: int = 1, now: datetime | None = None
) -> MessageList:
    """Newest first; `search` matches a customer id exactly or a message id."""
    now = now or datetime.now(UTC)
    query = select(Message)
    search = search.strip()[:100]
    if search:
        conditions = [Message.customer_hash == hash_customer(search)]
        if search.isdigit() and int(search) <= 2**31 - 1:
            conditions.append(Message.id == int(search))
        query = query.where(or_(*conditions))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page_number = min(max(1, page_number), pages)
    rows = session.scalars(
        query.order_by(Message.created_at.desc(), Message.id.desc())
        .offset((page_number - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    return MessageList([_row(m, now) for m in rows], total, page_number, pages)


def get(session: Session, message_id: int) -> MessageRow | None:
    message = session.get(Message, message_id)
    return _row(message, datetime.now(UTC)) if message else None


def withdraw(
    session: Session, message_id: int, *, actor_id: int, now: datetime | None = None
) -> MessageRow | None:
    """Withdraw a message (idempotent, audited): its link then shows a page saying so."""
    message = session.get(Message, message_id)
    if message is None:
        return None
    now = now or datetime.now(UTC)
    if not message.withdrawn:
        message.withdrawn = True
        message.withdrawn_by = actor_id
        message.withdrawn_at = now
        audit.record(
            session,
            "message.withdraw",
            actor_id=actor_id,
            object_type="message",
            object_id=message.id,
            customer_id=message.customer_id,
        )
        session.flush()
    return _row(message, now)
