"""The offer library: what marketing offers, validated by the content library and stored
as revisions, plus the rendering of each offer into every channel's variant.

An offer is refused as a whole when anything is wrong (unsafe HTML, a template that
names an unknown variable, an unsafe link, an end date before the start, a key already
taken): nothing is stored and every problem comes back as a `FieldError` on the form
field that caused it. What is stored is the content library's normalized form of the
offer, with the rich body sanitized; it is sanitized again on every render.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

import dsl
from content.channels import RenderContext, Variant
from content.diagnostics import ContentError, Diagnostic
from content.model import MAX_CHAT_BUTTONS, MAX_LENGTHS, Offer, plain_note, validate_offer
from content.rendering import render_offer
from studio.errors import FieldError, ValidationFailed
from studio.models import Artifact, Revision
from studio.services import artifacts, layouts, rulesets
from studio.services.pagination import Page, clamp

RESERVED_KEYS: Final = frozenset({"new"})
EDITABLE_STATUSES: Final = ("draft", "active", "paused")
STATUS_LABELS: Final = {
    "draft": "Draft",
    "active": "Active",
    "paused": "Paused",
    "archived": "Archived",
}
COVERAGE_LABELS: Final = {
    "email_text": "Plain-text email",
    "sms": "SMS text",
    "chat": "Chat",
    "agent": "Agent script",
}
VALIDITY_LABELS: Final = {
    "current": "Valid today",
    "upcoming": "Starts later",
    "expired": "Expired",
}
VARIANT_LABELS: Final = {
    "email_html": "Email",
    "email_text": "Plain-text email",
    "sms": "SMS",
    "chat": "Chat",
    "agent": "Agent script",
    "message_center": "Message center",
}

# Form labels, used to turn the content library's field names into words people read.
FIELD_LABELS: Final = {
    "key": "Key",
    "name": "Name",
    "description": "Description",
    "owner": "Owner",
    "valid_from": "Valid from",
    "valid_to": "Valid until",
    "value": "Business value",
    "eligible_when": "Eligible when",
    "status": "Status",
    "blocks.headline": "Headline",
    "blocks.body_html": "Body",
    "blocks.image_url": "Image",
    "blocks.image_alt": "Image description",
    "blocks.cta_label": "Button label",
    "blocks.cta_url": "Button link",
    "blocks.terms": "Terms",
    "overrides.sms_text": "SMS text",
    "overrides.email_text": "Plain-text email",
    "overrides.chat_text": "Chat text",
    "overrides.chat_buttons": "Chat buttons",
    "overrides.agent_script": "Agent script",
    "feedback_note": "Answer to feedback",
}
BLOCK_FIELDS: Final = (
    "headline",
    "body_html",
    "image_url",
    "image_alt",
    "cta_label",
    "cta_url",
    "terms",
)
OVERRIDE_TEXT_FIELDS: Final = ("sms_text", "email_text", "chat_text", "agent_script")
TOP_FIELDS: Final = (
    "key",
    "name",
    "description",
    "owner",
    "valid_from",
    "valid_to",
    "eligible_when",
    "status",
    "feedback_note",
)

# The interaction every preview renders for until sample interactions can be chosen.
SAMPLE_CUSTOMER: Final = {
    "id": "C-1042",
    "first_name": "Dana",
    "last_name": "Rivera",
    "tier": "gold",
    "state": "CA",
    "authenticated": True,
    "tenure_years": 6,
    "products": ["checking", "savings"],
}
SAMPLE_INQUIRY: Final = {
    "channel": "email",
    "category": "transactional",
    "intent": "order_checkbook",
    "resolution": "confirmed",
    "resolved": True,
    "subject": "Ordering new checks",
}
SAMPLE_DATA: Final = {
    "overdraft": {"free_months": 3},
    "coupon": {"amount": 15},
    "device": {"model": "Pixel 8"},
    "refill": {
        "drug_name": "Atorvastatin",
        "due_date": "2026-03-14",
        "due_in_days": 5,
        "savings_amount": 12.4,
        "savings_pct": 20,
    },
    "retention": {"discount_pct": 15},
    "stay": {"room": "412"},
    "tenure_years": 6,
    "warranty": {"price": 49},
}
SAMPLE_INTERACTION: Final = {
    "customer": SAMPLE_CUSTOMER,
    "inquiry": SAMPLE_INQUIRY,
    "data": SAMPLE_DATA,
}


# --- forms ------------------------------------------------------------------------------


def blank_form() -> dict[str, Any]:
    """A new offer's form: today's start, draft status, three empty chat buttons."""
    form: dict[str, Any] = {name: "" for name in TOP_FIELDS}
    form.update({f"blocks.{name}": "" for name in BLOCK_FIELDS})
    form.update({f"overrides.{name}": "" for name in OVERRIDE_TEXT_FIELDS})
    form.update({"valid_from": date.today().isoformat(), "status": "draft", "value": "0"})
    form["buttons"] = [{"label": "", "url": "", "action": ""} for _ in range(MAX_CHAT_BUTTONS)]
    return form


def form_from_request(data: Mapping[str, str]) -> dict[str, Any]:
    """What the person typed, keyed like the form, so an error page shows it unchanged."""
    form = blank_form()
    for name in list(form):
        if name != "buttons":
            form[name] = str(data.get(name, ""))
    form["status"] = form["status"] or "draft"
    form["buttons"] = [
        {
            part: str(data.get(f"overrides.chat_buttons[{i}].{part}", "")).strip()
            for part in ("label", "url", "action")
        }
        for i in range(MAX_CHAT_BUTTONS)
    ]
    return form


def form_from_body(key: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The edit form for a stored offer."""
    form = blank_form()
    for name in TOP_FIELDS:
        value = body.get(name)
        form[name] = "" if value is None else str(value)
    value = body.get("value", 0)
    form["value"] = f"{value:g}" if isinstance(value, int | float) else str(value)
    form["key"] = key
    blocks = body.get("blocks") or {}
    overrides = body.get("overrides") or {}
    for name in BLOCK_FIELDS:
        form[f"blocks.{name}"] = str(blocks.get(name) or "")
    for name in OVERRIDE_TEXT_FIELDS:
        form[f"overrides.{name}"] = str(overrides.get(name) or "")
    buttons = list(overrides.get("chat_buttons") or [])[:MAX_CHAT_BUTTONS]
    for i, button in enumerate(buttons):
        form["buttons"][i] = {
            part: str(button.get(part) or "") for part in ("label", "url", "action")
        }
    return form


def flat_form(form: Mapping[str, Any]) -> dict[str, str]:
    """The form as the names it posts ("overrides.chat_buttons[0].label" -> text), in
    the order the page shows them; the key is left out (it cannot change)."""
    flat = {name: str(value) for name, value in form.items() if name not in ("key", "buttons")}
    for i, button in enumerate(form.get("buttons") or []):
        for part in ("label", "url", "action"):
            flat[f"overrides.chat_buttons[{i}].{part}"] = str(button.get(part, ""))
    return flat


def flat_labels() -> dict[str, str]:
    """Labels for every name `flat_form` gives, for the conflict box."""
    labels = dict(FIELD_LABELS)
    parts = {"label": "label", "url": "link", "action": "action"}
    for i in range(MAX_CHAT_BUTTONS):
        for part, word in parts.items():
            labels[f"overrides.chat_buttons[{i}].{part}"] = f"Chat button {i + 1} {word}"
    return labels


def form_fields_of(artifact: Artifact, body: Mapping[str, Any]) -> dict[str, str]:
    """A stored revision as the edit form's fields, flat (for a choice per field)."""
    return flat_form(form_from_body(artifact.key, body))


def _number(text: str) -> float | str:
    cleaned = text.strip().replace(",", "")
    if not cleaned:
        return 0.0
    try:
        return float(cleaned)
    except ValueError:
        return text


def body_from_form(form: Mapping[str, Any]) -> dict[str, Any]:
    """The offer dict the content library validates, built from the form."""
    buttons = []
    for button in form.get("buttons", []):
        if any(button.values()):
            buttons.append({part: value for part, value in button.items() if value})
    note = plain_note(form.get("feedback_note", ""))
    return {
        **({"feedback_note": note} if note else {}),
        "key": str(form.get("key", "")).strip(),
        "name": str(form.get("name", "")).strip(),
        "description": str(form.get("description", "")).strip(),
        "owner": str(form.get("owner", "")).strip(),
        "valid_from": str(form.get("valid_from", "")).strip(),
        "valid_to": str(form.get("valid_to", "")).strip() or None,
        "value": _number(str(form.get("value", ""))),
        "eligible_when": str(form.get("eligible_when", "")).strip(),
        "status": str(form.get("status", "draft")) or "draft",
        "blocks": {name: str(form.get(f"blocks.{name}", "")).strip() for name in BLOCK_FIELDS},
        "overrides": {
            **{
                name: str(form.get(f"overrides.{name}", "")).strip()
                for name in OVERRIDE_TEXT_FIELDS
            },
            "chat_buttons": buttons,
        },
    }


# --- validation -------------------------------------------------------------------------


def _label(field_name: str) -> str:
    if field_name.startswith("overrides.chat_buttons["):
        index = field_name[len("overrides.chat_buttons[") :].split("]", 1)[0]
        part = field_name.rsplit(".", 1)[-1] if field_name.count(".") > 1 else ""
        return f"Chat button {int(index) + 1}" + (f" {part}" if part else "")
    return FIELD_LABELS.get(field_name, field_name)


def _form_field(field_name: str | None) -> str:
    """Where on the form a diagnostic belongs; button problems sit with their row."""
    if not field_name:
        return "offer"
    if field_name.startswith("overrides.chat_buttons["):
        return field_name.split("]", 1)[0] + "]"
    return field_name


def _message(diagnostic: Diagnostic, body: Mapping[str, Any]) -> str:
    code, name = diagnostic.code, diagnostic.field or ""
    if code == "required":
        return f"{_label(name)} is required."
    if code == "dates-out-of-order":
        return (
            f"The offer ends before it starts: choose a day on or after {body.get('valid_from')}."
        )
    if code == "offer-key-exists":
        return f"An offer with the key {body.get('key')} already exists; choose another key."
    if code == "bad-date":
        return f"{_label(name)} is not a date; use the date picker or YYYY-MM-DD."
    if code == "bad-value":
        return "Enter the business value as a number of 0 or more, like 120."
    text = diagnostic.message.replace(" and will be removed", "")
    for raw in sorted(FIELD_LABELS, key=len, reverse=True):
        text = text.replace(raw, FIELD_LABELS[raw])
    where = f"Line {diagnostic.line}: " if diagnostic.line and name != "key" else ""
    if not where:
        text = text[:1].upper() + text[1:]
    hint = f" ({diagnostic.hint})" if diagnostic.hint else ""
    return f"{where}{text}{hint}."


def _merge(errors: Iterable[FieldError]) -> list[FieldError]:
    """One message per field, so each shows in full next to its input."""
    merged: dict[str, list[str]] = {}
    for error in errors:
        messages = merged.setdefault(error.field, [])
        if error.message not in messages:
            messages.append(error.message)
    return [FieldError(name, " ".join(messages[:4])) for name, messages in merged.items()]


def _eligibility_errors(session: Session, source: str) -> list[FieldError]:
    """Check the eligibility expression with the rule language's own checker."""
    check_expression = getattr(dsl, "check_expression", None)
    if not source.strip() or check_expression is None:
        return []
    result = check_expression(source, schema=rulesets.current_schema(session))
    diagnostics = getattr(result, "diagnostics", result) or []
    out = []
    for diagnostic in diagnostics:
        if getattr(diagnostic, "severity", "error") != "error":
            continue
        line, column = getattr(diagnostic, "line", None), getattr(diagnostic, "column", None)
        where = (
            f"Column {column}: "
            if line in (None, 1) and column
            else (f"Line {line}, column {column}: " if line and column else "")
        )
        hint = getattr(diagnostic, "hint", None) or getattr(diagnostic, "suggestion", None)
        out.append(
            FieldError(
                "eligible_when", f"{where}{diagnostic.message}" + (f" ({hint})" if hint else "")
            )
        )
    return out


def validate(
    session: Session, body: Mapping[str, Any], *, existing_keys: Iterable[str] = ()
) -> list[FieldError]:
    """Every reason `body` cannot be stored, as errors on form fields."""
    errors = [
        FieldError(_form_field(d.field), _message(d, body))
        for d in validate_offer(body, existing_keys=existing_keys)
        if d.is_error
    ]
    if body.get("status") not in EDITABLE_STATUSES:
        errors.append(
            FieldError(
                "status",
                "Choose draft, active or paused; archive an offer with the Archive button.",
            )
        )
    if body.get("key") in RESERVED_KEYS:
        errors.append(
            FieldError("key", f"{body.get('key')} is a reserved word; choose another key.")
        )
    errors += _eligibility_errors(session, str(body.get("eligible_when") or ""))
    return _merge(errors)


def _normalized(
    session: Session, body: dict[str, Any], *, existing_keys: Iterable[str] = ()
) -> dict[str, Any]:
    errors = validate(session, body, existing_keys=existing_keys)
    if errors:
        raise ValidationFailed(errors)
    try:
        return Offer.from_dict(body).to_dict()
    except ContentError as failed:
        raise ValidationFailed(
            [
                FieldError(_form_field(d.field), _message(d, body))
                for d in failed.diagnostics
                if d.is_error
            ]
        ) from None


def _all_keys(session: Session) -> set[str]:
    return set(session.scalars(select(Artifact.key).where(Artifact.kind == "offer")))


# --- storing ----------------------------------------------------------------------------


def create(
    session: Session, body: dict[str, Any], *, actor_id: int | None, summary: str = "Created"
) -> Artifact:
    """Store a new offer; raises ValidationFailed and stores nothing when it is refused."""
    stored = _normalized(session, body, existing_keys=_all_keys(session))
    return artifacts.create(
        session,
        kind="offer",
        key=stored["key"],
        name=stored["name"],
        body=stored,
        actor_id=actor_id,
        summary=summary,
    )


def save(
    session: Session,
    artifact: Artifact,
    body: dict[str, Any],
    *,
    base_number: int,
    actor_id: int | None,
    summary: str = "",
) -> Revision:
    """Store the next revision; raises ValidationFailed or EditConflict."""
    body = {**body, "key": artifact.key}
    stored = _normalized(session, body)
    return artifacts.save(
        session,
        artifact,
        body=stored,
        base_number=base_number,
        actor_id=actor_id,
        name=stored["name"],
        summary=summary,
    )


def duplicate(
    session: Session, artifact: Artifact, *, key: str, name: str, actor_id: int | None
) -> Artifact:
    """A new draft offer with the same content under another key."""
    body = dict(artifacts.head(session, artifact).body)
    body.update(key=key.strip(), name=name.strip(), status="draft")
    try:
        return create(
            session,
            body,
            actor_id=actor_id,
            summary=f"Duplicated from {artifact.key} r{artifact.head_number}",
        )
    except ValidationFailed as failed:
        relevant = [e for e in failed.errors if e.field in ("key", "name")]
        raise ValidationFailed(
            relevant
            or [
                FieldError(
                    "key", "The original offer has problems of its own; open it and fix them first."
                )
            ]
        ) from None


# --- the library list -------------------------------------------------------------------


@dataclass(frozen=True)
class OfferFilters:
    q: str = ""
    status: str = ""
    owner: str = ""
    channel: str = ""
    validity: str = ""
    page: int = 1

    @property
    def active(self) -> bool:
        return bool(self.q or self.status or self.owner or self.channel or self.validity)

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query arguments for a link that keeps the other filters."""
        values = {**dataclasses.asdict(self), **changes}
        return {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}


@dataclass(frozen=True)
class OfferRow:
    key: str
    name: str
    owner: str
    status: str
    valid_from: str
    valid_to: str
    value: float
    coverage: tuple[str, ...]
    validity: str
    head_number: int
    published_number: int | None
    updated_at: datetime


@dataclass(frozen=True)
class OfferPage(Page[OfferRow]):
    owners: list[str] = field(default_factory=list)


def coverage(body: Mapping[str, Any]) -> tuple[str, ...]:
    """Channels with text written for them, rather than derived from the blocks."""
    overrides = body.get("overrides") or {}
    found = []
    if overrides.get("email_text"):
        found.append("email_text")
    if overrides.get("sms_text"):
        found.append("sms")
    if overrides.get("chat_text") or overrides.get("chat_buttons"):
        found.append("chat")
    if overrides.get("agent_script"):
        found.append("agent")
    return tuple(found)


def _parse_day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def validity(body: Mapping[str, Any], today: date) -> str:
    start, end = _parse_day(body.get("valid_from")), _parse_day(body.get("valid_to"))
    if start and today < start:
        return "upcoming"
    if end and today > end:
        return "expired"
    return "current"


def _row(artifact: Artifact, body: Mapping[str, Any], today: date) -> OfferRow:
    value = body.get("value") or 0
    return OfferRow(
        key=artifact.key,
        name=artifact.name,
        owner=str(body.get("owner") or ""),
        status="archived" if artifact.archived else str(body.get("status") or "draft"),
        valid_from=str(body.get("valid_from") or ""),
        valid_to=str(body.get("valid_to") or ""),
        value=float(value) if isinstance(value, int | float) else 0.0,
        coverage=coverage(body),
        validity=validity(body, today),
        head_number=artifact.head_number,
        published_number=artifact.published_number,
        updated_at=artifact.updated_at,
    )


def listing(
    session: Session, filters: OfferFilters, *, per_page: int = 20, today: date | None = None
) -> OfferPage:
    """A page of the library, searched and filtered.

    Status, owner, coverage and validity live in the JSON revision body, which SQLite and
    PostgreSQL query differently; the library holds hundreds of offers, not millions, so
    the heads are filtered here in one portable pass.
    """
    today = today or date.today()
    stmt = (
        select(Artifact, Revision.body)
        .join(
            Revision,
            (Revision.artifact_id == Artifact.id) & (Revision.number == Artifact.head_number),
        )
        .where(Artifact.kind == "offer")
        .order_by(Artifact.name, Artifact.id)
    )
    if filters.status == "archived":
        stmt = stmt.where(Artifact.archived.is_(True))
    else:
        stmt = stmt.where(Artifact.archived.is_(False))
    rows = [_row(artifact, body, today) for artifact, body in session.execute(stmt).all()]
    owners = sorted({row.owner for row in rows if row.owner}, key=str.lower)
    query = filters.q.strip().lower()[:100]
    if query:
        rows = [
            r
            for r in rows
            if query in r.key.lower() or query in r.name.lower() or query in r.owner.lower()
        ]
    if filters.status in EDITABLE_STATUSES:
        rows = [r for r in rows if r.status == filters.status]
    if filters.owner:
        rows = [r for r in rows if r.owner == filters.owner]
    if filters.channel in COVERAGE_LABELS:
        rows = [r for r in rows if filters.channel in r.coverage]
    if filters.validity in VALIDITY_LABELS:
        rows = [r for r in rows if r.validity == filters.validity]
    total = len(rows)
    page = clamp(filters.page, total=total, per_page=per_page)
    return OfferPage(
        items=rows[(page - 1) * per_page : page * per_page],
        page=page,
        per_page=per_page,
        total=total,
        owners=owners,
    )


# --- variants ---------------------------------------------------------------------------


def render_context(session: Session, offer_key: str | None = None) -> RenderContext:
    """The interaction a preview renders the offer for.

    This is the one place that decides it, so a sample-interaction picker can replace the
    built-in sample without touching the views or templates.
    """
    return RenderContext.from_interaction(SAMPLE_INTERACTION)


@dataclass(frozen=True)
class VariantsView:
    """Everything the variants panel shows for one offer revision."""

    offer_key: str
    revision: int
    variants: dict[str, Variant]
    email_layouts: list[tuple[str, str]]
    email_layout: str | None
    message_center_layout: str | None
    problems: list[str] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(1 for v in self.variants.values() for d in v.diagnostics if d.is_error)


def offer_value(body: Mapping[str, Any], key: str) -> Offer:
    """The content library's Offer for a stored body; raises ContentError if it is broken."""
    return Offer.from_dict({**body, "key": key})


def variants(
    session: Session,
    artifact: Artifact,
    *,
    email_layout: str | None = None,
    revision: Revision | None = None,
) -> VariantsView:
    """Render the offer's head (or `revision`) into every variant."""
    revision = revision or artifacts.head(session, artifact)
    available = layouts.available(session)
    emails = available.get("email_html", [])
    chosen = next((lay for lay in emails if lay.key == email_layout), emails[0] if emails else None)
    centers = available.get("message_center", [])
    chosen_layouts = {"email_html": chosen, "message_center": centers[0] if centers else None}
    base = VariantsView(
        offer_key=artifact.key,
        revision=revision.number,
        variants={},
        email_layouts=[(lay.key, lay.name) for lay in emails],
        email_layout=chosen.key if chosen else None,
        message_center_layout=centers[0].key if centers else None,
    )
    try:
        offer = offer_value(revision.body, artifact.key)
    except ContentError as failed:
        return dataclasses.replace(
            base, problems=[_message(d, revision.body) for d in failed.diagnostics if d.is_error]
        )
    rendered = render_offer(offer, chosen_layouts, render_context(session, artifact.key))
    return dataclasses.replace(base, variants=rendered)


def variant_document(
    session: Session, artifact: Artifact, channel: str, *, email_layout: str | None = None
) -> str | None:
    """The full HTML of the email or message-center variant, for its sandboxed frame."""
    view = variants(session, artifact, email_layout=email_layout)
    variant = view.variants.get(channel)
    return variant.html if variant is not None else None


def layout_preview(session: Session, layout_artifact: Artifact) -> str | None:
    """A layout's head rendered with a sample offer (the first live one), for its editor."""
    body = artifacts.head(session, layout_artifact).body
    layout = layouts.to_layout(layout_artifact, body)
    rows = session.execute(
        select(Artifact, Revision.body)
        .join(
            Revision,
            (Revision.artifact_id == Artifact.id) & (Revision.number == Artifact.head_number),
        )
        .where(Artifact.kind == "offer", Artifact.archived.is_(False))
        .order_by(Artifact.name, Artifact.id)
    ).all()
    for artifact, offer_body in rows:
        try:
            offer = offer_value(offer_body, artifact.key)
        except ContentError:
            continue
        rendered = render_offer(
            offer, {layout.channel: layout}, render_context(session, artifact.key), [layout.channel]
        )
        return rendered[layout.channel].html
    return None


def max_lengths() -> dict[str, int]:
    """Field length limits, so the form's maxlength matches what the library accepts."""
    return dict(MAX_LENGTHS)
