"""The offer library's data: offers, their content blocks and channel overrides, layouts.

Plain frozen dataclasses, built from and turned back into dicts, so the studio can store
them as JSON and the rule bundle can ship them without anything from the database.
`validate_offer` is the single place that says what a well-formed offer is; it returns
diagnostics (field by field, with template line numbers) instead of raising, so an editor
can show every problem at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Final, Literal, TypeGuard

from content.diagnostics import ContentError, Diagnostic, errors_only
from content.sanitize import (
    BLOCKED_URL,
    clean_template_html,
    policy_violations,
    safe_url,
    url_scheme,
)
from content.sms import unsafe_characters
from content.templates import compile_template

OfferStatus = Literal["draft", "active", "paused", "archived"]
LayoutChannel = Literal["email_html", "message_center", "notification_email"]

KEY_PATTERN: Final = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
ACTION_PATTERN: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
STATUSES: Final = ("draft", "active", "paused", "archived")
LAYOUT_CHANNELS: Final = ("email_html", "message_center", "notification_email")
MAX_CHAT_BUTTONS: Final = 3

# Longest accepted value per field; chosen for the tightest channel that shows it.
MAX_LENGTHS: Final = {
    "key": 64,
    "name": 120,
    "description": 1_000,
    "owner": 120,
    "eligible_when": 2_000,
    "blocks.headline": 150,
    "blocks.body_html": 20_000,
    "blocks.image_url": 2_000,
    "blocks.image_alt": 200,
    "blocks.cta_label": 40,
    "blocks.cta_url": 2_000,
    "blocks.terms": 2_000,
    "overrides.sms_text": 1_000,
    "overrides.email_text": 10_000,
    "overrides.chat_text": 1_000,
    "overrides.agent_script": 4_000,
    "button.label": 25,
    "button.url": 2_000,
    "feedback_note": 280,
}
REQUIRED: Final = ("key", "name", "owner", "valid_from", "blocks.headline")

# Which offer fields are templates, and what kind: text is not escaped, html is
# autoescaped and sanitized, url is rendered as text and scheme-checked.
TEMPLATE_FIELDS: Final = {
    "blocks.headline": "text",
    "blocks.body_html": "html",
    "blocks.image_url": "url",
    "blocks.image_alt": "text",
    "blocks.cta_label": "text",
    "blocks.cta_url": "url",
    "blocks.terms": "text",
    "overrides.sms_text": "text",
    "overrides.email_text": "text",
    "overrides.chat_text": "text",
    "overrides.agent_script": "text",
}


@dataclass(frozen=True, slots=True)
class ChatButton:
    """A chat quick-reply: opens `url`, or sends `action` back to the chat platform."""

    label: str
    url: str = ""
    action: str = ""

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ChatButton:
        return cls(str(d.get("label") or ""), str(d.get("url") or ""), str(d.get("action") or ""))

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}


@dataclass(frozen=True, slots=True)
class ContentBlocks:
    """The channel-neutral content every variant is made from."""

    headline: str
    body_html: str = ""
    image_url: str = ""
    image_alt: str = ""
    cta_label: str = ""
    cta_url: str = ""
    terms: str = ""


@dataclass(frozen=True, slots=True)
class ChannelOverrides:
    """Per-channel text that replaces what would be derived from the blocks."""

    sms_text: str = ""
    email_text: str = ""
    chat_text: str = ""
    chat_buttons: tuple[ChatButton, ...] = ()
    agent_script: str = ""


@dataclass(frozen=True, slots=True)
class Offer:
    """A marketing proposition: what marketing decides to offer, in every channel."""

    key: str
    name: str
    owner: str
    valid_from: date
    blocks: ContentBlocks
    description: str = ""
    valid_to: date | None = None
    value: float = 0.0
    eligible_when: str = ""
    status: OfferStatus = "draft"
    overrides: ChannelOverrides = field(default_factory=ChannelOverrides)
    #: "Feedback on feedback": a short plain-text note answering what customers said
    #: ("we now serve breakfast 24 hours"), shown above the offer on the message page.
    feedback_note: str = ""

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, existing_keys: Iterable[str] = ()) -> Offer:
        """Build an offer, or raise `ContentError` with every error `validate_offer` finds.

        The body is sanitized here (on the way in) and again when rendered.
        """
        errors = errors_only(validate_offer(d, existing_keys=existing_keys))
        if errors:
            raise ContentError(errors)
        blocks = _mapping(d.get("blocks"))
        overrides = _mapping(d.get("overrides"))
        return cls(
            key=str(d["key"]),
            name=_text(d.get("name")),
            owner=_text(d.get("owner")),
            description=_text(d.get("description")),
            valid_from=_date(d["valid_from"]),
            valid_to=_date(d["valid_to"]) if d.get("valid_to") else None,
            value=float(d.get("value") or 0),
            eligible_when=_text(d.get("eligible_when")),
            status=d.get("status") or "draft",
            blocks=ContentBlocks(
                headline=_text(blocks.get("headline")),
                body_html=clean_template_html(_text(blocks.get("body_html"))),
                image_url=_text(blocks.get("image_url")),
                image_alt=_text(blocks.get("image_alt")),
                cta_label=_text(blocks.get("cta_label")),
                cta_url=_text(blocks.get("cta_url")),
                terms=_text(blocks.get("terms")),
            ),
            overrides=ChannelOverrides(
                sms_text=_text(overrides.get("sms_text")),
                email_text=_text(overrides.get("email_text")),
                chat_text=_text(overrides.get("chat_text")),
                chat_buttons=tuple(
                    ChatButton.from_dict(b) for b in overrides.get("chat_buttons") or ()
                ),
                agent_script=_text(overrides.get("agent_script")),
            ),
            feedback_note=plain_note(d.get("feedback_note")),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form that `from_dict` reads back (dates as ISO strings)."""
        return {
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "owner": self.owner,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "value": self.value,
            "eligible_when": self.eligible_when,
            "status": self.status,
            "blocks": asdict(self.blocks),
            "overrides": {
                "sms_text": self.overrides.sms_text,
                "email_text": self.overrides.email_text,
                "chat_text": self.overrides.chat_text,
                "chat_buttons": [b.to_dict() for b in self.overrides.chat_buttons],
                "agent_script": self.overrides.agent_script,
            },
            **({"feedback_note": self.feedback_note} if self.feedback_note else {}),
        }

    def is_valid_on(self, day: date) -> bool:
        """Whether `day` falls inside the validity window (both ends inclusive)."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True, slots=True)
class Layout:
    """A marketing-owned template that carries an offer in one channel.

    `source` is what marketing edits (MJML for email, HTML for the message center, both
    with Jinja slots); `compiled_html` is the checked Jinja/HTML rendered per interaction,
    produced once on save by `content.layouts.build_layout`.
    """

    key: str
    name: str
    channel: LayoutChannel
    source: str
    compiled_html: str
    warnings: tuple[Diagnostic, ...] = ()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Layout:
        """A layout from its stored or shipped form, as `to_dict` writes it.

        ``{"key", "name", "channel", "source", "compiled_html"}``: the name defaults to
        the key, a missing source or compiled HTML to empty text. Raises `ContentError`
        when the key is missing or the channel is not a layout channel. It does not
        compile anything: `compiled_html` is trusted as the output of `build_layout`.
        """
        key = d.get("key")
        if not isinstance(key, str) or not key:
            raise ContentError.single("layout-key", "a layout needs a key", field="key")
        channel = d.get("channel")
        if not is_layout_channel(channel):
            raise ContentError.single(
                "layout-channel",
                f"'{channel}' is not a layout channel",
                field="channel",
                hint=f"use one of {', '.join(LAYOUT_CHANNELS)}",
            )
        return cls(
            key=key,
            name=_text(d.get("name")) or key,
            channel=channel,
            source=_text(d.get("source")),
            compiled_html=_text(d.get("compiled_html")),
        )

    @property
    def is_mjml(self) -> bool:
        return self.source.lstrip().startswith("<mjml")

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "channel": self.channel,
            "source": self.source,
            "compiled_html": self.compiled_html,
        }


def is_layout_channel(value: object) -> TypeGuard[LayoutChannel]:
    """Whether `value` names a channel that has layouts (email HTML, message center)."""
    return value in LAYOUT_CHANNELS


# --- validation ----------------------------------------------------------------------------


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


_KNOWN_TOP: Final = {
    "key",
    "name",
    "description",
    "owner",
    "valid_from",
    "valid_to",
    "value",
    "eligible_when",
    "status",
    "blocks",
    "overrides",
    "feedback_note",
}
_NOTE_DROPPED: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


def plain_note(value: Any) -> str:
    """The feedback note as plain text: control, zero-width and bidi characters dropped,
    surrounding space trimmed. It is never a template nor HTML: pages escape it."""
    return _NOTE_DROPPED.sub("", _text(value).replace("\r\n", "\n")).strip()


_KNOWN_BLOCKS: Final = {f.split(".", 1)[1] for f in MAX_LENGTHS if f.startswith("blocks.")}
_KNOWN_OVERRIDES: Final = {"sms_text", "email_text", "chat_text", "chat_buttons", "agent_script"}


def validate_offer(d: Mapping[str, Any], *, existing_keys: Iterable[str] = ()) -> list[Diagnostic]:
    """Every problem with the offer dict `d`, field by field; an empty list means valid.

    Checks the key format and uniqueness against `existing_keys` (the studio passes the
    keys already in the library), required fields, lengths, dates and their order, the
    value, the status, URL schemes, at most three chat buttons, HTML the sanitizer would
    remove, and that every template field compiles and only uses known names. The
    eligibility expression is checked by the rule language's checker in the studio.
    """
    if not isinstance(d, Mapping):
        return [Diagnostic("offer-not-object", "an offer must be an object with fields")]
    out: list[Diagnostic] = []
    flat = _flatten(d)
    out += _check_unknown_fields(d)
    out += _check_required_and_lengths(flat)
    key = flat.get("key")
    if isinstance(key, str) and key and not KEY_PATTERN.match(key):
        out.append(
            Diagnostic(
                "offer-key-format",
                f"'{key}' is not a valid offer key",
                field="key",
                hint="2-64 characters: lower-case letters, digits and _, starting with a letter",
            )
        )
    if isinstance(key, str) and key in set(existing_keys):
        out.append(
            Diagnostic(
                "offer-key-exists",
                f"an offer with key '{key}' already exists",
                field="key",
                hint="choose another key or edit that offer",
            )
        )
    out += _check_dates(d)
    out += _check_value_and_status(d)
    out += _check_urls(flat)
    out += _check_buttons(_mapping(d.get("overrides")).get("chat_buttons"))
    out += _check_body(flat.get("blocks.body_html"))
    out += _check_message_text(flat)
    out += _check_templates(flat)
    return out


# Text that reaches SMS and chat as written (the SMS is the headline and the button
# label when there is no SMS text).
MESSAGE_TEXT_FIELDS: Final = (
    "overrides.sms_text",
    "overrides.chat_text",
    "blocks.headline",
    "blocks.cta_label",
)


def _check_message_text(flat: Mapping[str, Any]) -> list[Diagnostic]:
    out = []
    buttons = flat.get("overrides.chat_buttons")
    labels = {
        f"overrides.chat_buttons[{i}].label": b.get("label")
        for i, b in enumerate(buttons if isinstance(buttons, list) else [])
        if isinstance(b, Mapping)
    }
    for name, value in {**{n: flat.get(n) for n in MESSAGE_TEXT_FIELDS}, **labels}.items():
        if not isinstance(value, str):
            continue
        found = unsafe_characters(value)
        for line, column, what in found[:3]:
            out.append(
                Diagnostic(
                    "text-control-character",
                    f"{name} holds a {what} at line {line}, column {column}",
                    field=name,
                    line=line,
                    column=column,
                    hint="delete it: phones would show the text in another order or garbled",
                )
            )
    return out


def _flatten(d: Mapping[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in d.items() if k not in ("blocks", "overrides")}
    for group in ("blocks", "overrides"):
        for k, v in _mapping(d.get(group)).items():
            flat[f"{group}.{k}"] = v
    return flat


def _check_unknown_fields(d: Mapping[str, Any]) -> list[Diagnostic]:
    out = [f for f in d if f not in _KNOWN_TOP]
    out += [f"blocks.{f}" for f in _mapping(d.get("blocks")) if f not in _KNOWN_BLOCKS]
    out += [f"overrides.{f}" for f in _mapping(d.get("overrides")) if f not in _KNOWN_OVERRIDES]
    return [
        Diagnostic(
            "unknown-field",
            f"'{f}' is not an offer field and is ignored",
            field=f,
            severity="warning",
        )
        for f in out
    ]


def _check_required_and_lengths(flat: Mapping[str, Any]) -> list[Diagnostic]:
    out = []
    for name in REQUIRED:
        value = flat.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            out.append(Diagnostic("required", f"{name} is required", field=name))
    for name, limit in MAX_LENGTHS.items():
        value = flat.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            out.append(Diagnostic("not-text", f"{name} must be text", field=name))
        elif len(value) > limit:
            out.append(
                Diagnostic(
                    "too-long",
                    f"{name} has {len(value):,} characters (at most {limit:,})",
                    field=name,
                )
            )
    return out


def _parse_date(d: Mapping[str, Any], name: str, out: list[Diagnostic]) -> date | None:
    value = d.get(name)
    if value in (None, ""):
        return None
    try:
        return _date(value)
    except (TypeError, ValueError):
        out.append(
            Diagnostic(
                "bad-date",
                f"{name} '{value}' is not a date",
                field=name,
                hint="use YYYY-MM-DD, e.g. 2026-01-31",
            )
        )
        return None


def _check_dates(d: Mapping[str, Any]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    start = _parse_date(d, "valid_from", out)
    end = _parse_date(d, "valid_to", out)
    if start and end and end < start:
        out.append(
            Diagnostic(
                "dates-out-of-order",
                f"valid_to ({end.isoformat()}) is before valid_from ({start.isoformat()})",
                field="valid_to",
                hint="the validity window ends on or after the day it starts",
            )
        )
    return out


def _check_value_and_status(d: Mapping[str, Any]) -> list[Diagnostic]:
    out = []
    value = d.get("value", 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        out.append(
            Diagnostic(
                "bad-value",
                "value must be a number",
                field="value",
                hint="the business value used to rank offers, e.g. 120.0",
            )
        )
    elif value < 0:
        out.append(Diagnostic("bad-value", "value cannot be negative", field="value"))
    status = d.get("status", "draft")
    if status not in STATUSES:
        out.append(
            Diagnostic(
                "bad-status",
                f"status '{status}' is not one of {', '.join(STATUSES)}",
                field="status",
            )
        )
    eligible = d.get("eligible_when", "")
    if eligible is not None and not isinstance(eligible, str):
        out.append(
            Diagnostic("not-text", "eligible_when must be an expression", field="eligible_when")
        )
    return out


def _url_problem(value: Any, name: str) -> Diagnostic | None:
    if not isinstance(value, str) or not value.strip() or value.lstrip().startswith("{"):
        return None
    if safe_url(value) == BLOCKED_URL and value.strip() != BLOCKED_URL:
        scheme = url_scheme(value)
        return Diagnostic(
            "unsafe-url",
            f"{name} uses the '{scheme}' scheme" if scheme else f"{name} is not a usable URL",
            field=name,
            hint="links may use http, https, mailto or tel, or a relative path",
        )
    return None


def _check_urls(flat: Mapping[str, Any]) -> list[Diagnostic]:
    problems = (
        _url_problem(flat.get(name), name) for name in ("blocks.cta_url", "blocks.image_url")
    )
    return [p for p in problems if p]


def _check_buttons(buttons: Any) -> list[Diagnostic]:
    if buttons in (None, ()):
        return []
    if not isinstance(buttons, list | tuple):
        return [
            Diagnostic("bad-buttons", "chat_buttons must be a list", field="overrides.chat_buttons")
        ]
    out = []
    if len(buttons) > MAX_CHAT_BUTTONS:
        out.append(
            Diagnostic(
                "too-many-buttons",
                f"chat has {len(buttons)} buttons (at most {MAX_CHAT_BUTTONS})",
                field="overrides.chat_buttons",
                hint="chat platforms show at most three quick replies",
            )
        )
    for i, button in enumerate(buttons):
        where = f"overrides.chat_buttons[{i}]"
        if not isinstance(button, Mapping):
            out.append(
                Diagnostic(
                    "bad-button", "a button needs a label and a url or an action", field=where
                )
            )
            continue
        label, url, action = (button.get(k) or "" for k in ("label", "url", "action"))
        if not str(label).strip():
            out.append(Diagnostic("required", "a button needs a label", field=f"{where}.label"))
        elif len(str(label)) > MAX_LENGTHS["button.label"]:
            out.append(
                Diagnostic(
                    "too-long",
                    f"button label has {len(str(label))} characters "
                    f"(at most {MAX_LENGTHS['button.label']})",
                    field=f"{where}.label",
                )
            )
        if bool(url) == bool(action):
            out.append(
                Diagnostic("bad-button", "a button has either a url or an action", field=where)
            )
        if action and not ACTION_PATTERN.match(str(action)):
            out.append(
                Diagnostic(
                    "bad-action",
                    f"action '{action}' is not a valid name",
                    field=f"{where}.action",
                    hint="e.g. start_chat, call_me_back",
                )
            )
        problem = _url_problem(url, f"{where}.url")
        if problem:
            out.append(problem)
    return out


def _check_body(body: Any) -> list[Diagnostic]:
    if not isinstance(body, str) or not body:
        return []
    return [
        Diagnostic(
            "unsafe-html",
            f"{what} is not allowed and will be removed",
            field="blocks.body_html",
            line=line,
            hint="rich text allows formatting, links, images and tables only",
        )
        for line, what in policy_violations(body)
    ]


def _check_templates(flat: Mapping[str, Any]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    sources = [(name, kind, flat.get(name)) for name, kind in TEMPLATE_FIELDS.items()]
    buttons = flat.get("overrides.chat_buttons")
    if isinstance(buttons, list | tuple):
        for i, button in enumerate(buttons[:MAX_CHAT_BUTTONS]):
            if isinstance(button, Mapping):
                sources.append((f"overrides.chat_buttons[{i}].label", "text", button.get("label")))
                sources.append((f"overrides.chat_buttons[{i}].url", "url", button.get("url")))
    for name, kind, source in sources:
        if not isinstance(source, str) or ("{" not in source):
            continue
        try:
            compile_template(source, name=name, html=kind == "html")
        except ContentError as exc:
            out += [diag.with_field(name) for diag in exc.diagnostics]
    return out
