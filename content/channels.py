"""One offer, every channel: rendering the six variants for one interaction.

One content source feeds every channel so a customer sees the same offer in email, SMS,
chat, from an agent and in the message center. The offer's text fields are templates:
they are rendered once per interaction (text fields as plain text, the body as escaped
and then sanitized HTML, URLs scheme-checked) and then placed into each channel's shape:
the email and message-center layouts, the derived plain text, the SMS (segment-counted,
linking to the message center), chat (text plus at most three buttons) and the agent's
script card. A failure in one template becomes diagnostics on the variants that use it;
the other variants still render.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlencode

from markupsafe import Markup

from content.diagnostics import ContentError, Diagnostic
from content.layouts import guard_url_attributes
from content.links import MessageLinks, nps_survey_html
from content.model import MAX_CHAT_BUTTONS, ChatButton, Layout, Offer
from content.plaintext import html_to_text, tidy_text
from content.render_cache import RenderMemo, context_key
from content.sanitize import clean_html, safe_url, sanitize_document
from content.sms import SmsInfo, analyze_sms, without_unsafe_characters
from content.templates import (
    DEFAULT_LIMITS,
    Limits,
    compile_template,
    plain_data,
    render_template,
)

VARIANTS: Final = ("email_html", "email_text", "sms", "chat", "agent", "message_center")
_AGENT_CARD: Final = guard_url_attributes(
    (Path(__file__).parent / "cards" / "agent_card.html").read_text(encoding="utf-8")
)
_URL: Final = re.compile(r"https?://\S+")


@dataclass(frozen=True, slots=True)
class LinkBuilder:
    """Builds a customer's personal link: a base URL, path segments and a signed token.

    The token is minted by the studio per customer and interaction; this library only
    places it, so links in every channel lead to the same authenticated page.
    """

    base_url: str
    token: str = ""
    token_param: str = "t"

    def __call__(self, *segments: Any, **params: Any) -> str:
        path = "/".join(quote(str(s), safe="") for s in segments if s not in (None, ""))
        url = self.base_url.rstrip("/") + (f"/{path}" if path else "")
        query = {self.token_param: self.token} if self.token else {}
        query.update({k: v for k, v in params.items() if v is not None})
        return safe_url(f"{url}?{urlencode(query)}" if query else url)


@dataclass(frozen=True, slots=True)
class RenderContext:
    """Everything about one interaction a template may read, as plain data.

    `customer`, `inquiry` and `data` are copied into plain dicts on construction, so no
    ORM object or other live value ever reaches a template.
    """

    customer: Mapping[str, Any] = field(default_factory=dict)
    inquiry: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    message_center_url: LinkBuilder = LinkBuilder("/messages")
    nps_url: LinkBuilder = LinkBuilder("/nps")
    limits: Limits = DEFAULT_LIMITS
    #: The customer's message, when one is opened for this decision: its links replace
    #: the placeholder builders above in every variant.
    message: MessageLinks | None = None

    def __post_init__(self) -> None:
        for name in ("customer", "inquiry", "data"):
            object.__setattr__(self, name, plain_data(getattr(self, name) or {}, path=name))

    @classmethod
    def from_interaction(
        cls,
        interaction: Any,
        *,
        message_center_url: LinkBuilder | None = None,
        nps_url: LinkBuilder | None = None,
        limits: Limits | None = None,
    ) -> RenderContext:
        """What templates may read of an interaction: its `customer`, `inquiry` and `data`.

        The one place an interaction becomes a context. A part that is missing or not an
        object reads as empty (the rule language reads it as null alike); the link
        builders and limits keep their defaults unless given.
        """

        def part(name: str) -> Mapping[str, Any]:
            value = interaction.get(name) if isinstance(interaction, Mapping) else None
            return value if isinstance(value, Mapping) else {}

        given: dict[str, Any] = {
            "message_center_url": message_center_url,
            "nps_url": nps_url,
            "limits": limits,
        }
        return cls(
            customer=part("customer"),
            inquiry=part("inquiry"),
            data=part("data"),
            **{name: value for name, value in given.items() if value is not None},
        )


@dataclass(frozen=True, slots=True)
class Variant:
    """An offer rendered for one channel, with whatever went wrong or needs a look."""

    channel: str
    html: str | None = None
    text: str | None = None
    buttons: tuple[ChatButton, ...] = ()
    sms: SmsInfo | None = None
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


class _Renderer:
    """Renders the offer's fields once and shares them between the variants."""

    def __init__(self, offer: Offer, context: RenderContext) -> None:
        self.offer = offer
        self.context = context
        self.diagnostics: dict[str, list[Diagnostic]] = {}
        meta = {
            "key": offer.key,
            "name": offer.name,
            "description": offer.description,
            "value": offer.value,
            "valid_from": offer.valid_from,
            "valid_to": offer.valid_to,
            "status": offer.status,
        }
        self.base = {
            "customer": context.customer,
            "inquiry": context.inquiry,
            "data": context.data,
            "offer": meta,
            "message_center_url": self.message_center_link,
            "nps_url": self.nps_link,
            "nps_survey": self.nps_survey,
            "survey_url": self.survey_link,
        }
        blocks = offer.blocks
        self.headline = self.text("blocks.headline", blocks.headline)
        self.body = Markup(clean_html(self.render("blocks.body_html", blocks.body_html, html=True)))
        self.image_url = self.url("blocks.image_url", blocks.image_url)
        self.image_alt = self.text("blocks.image_alt", blocks.image_alt)
        self.cta_label = self.text("blocks.cta_label", blocks.cta_label)
        self.cta_url = self.url("blocks.cta_url", blocks.cta_url)
        self.terms = self.text("blocks.terms", blocks.terms)
        self.layout_offer = {
            **meta,
            "headline": self.headline,
            "body": self.body,
            "image_url": self.image_url,
            "image_alt": self.image_alt,
            "cta_label": self.cta_label,
            "cta_url": self.cta_url,
            "terms": self.terms,
        }
        self.layout_vars = {**self.base, "offer": self.layout_offer}

    def message_center_link(self, offer_key: str | None = None) -> str:
        if self.context.message is not None:
            return self.context.message.page
        return self.context.message_center_url("offers", offer_key or self.offer.key)

    def nps_link(self, score: int | None = None) -> str:
        if self.context.message is not None:
            return self.context.message.nps(score)
        return self.context.nps_url(score=score)

    def survey_link(self, key: str | None = None) -> str:
        """A narrow-cast survey's link for this message ("" when it asks none); a preview
        without a message gets a placeholder."""
        if self.context.message is not None:
            return self.context.message.survey_page(key if isinstance(key, str) else None)
        return self.context.message_center_url("surveys", key if isinstance(key, str) else "")

    def nps_survey(self) -> Markup:
        """Eleven one-click score links (email layouts); empty when this customer is
        not to be asked now."""
        message = self.context.message
        return nps_survey_html(self.nps_link, asked=message is None or message.survey)

    def _note(self, field_name: str, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics.setdefault(field_name, []).extend(diagnostics)

    def render(
        self,
        field_name: str,
        source: str,
        *,
        html: bool = False,
        variables: Mapping[str, Any] | None = None,
    ) -> str:
        if not source:
            return ""
        if "{" not in source:
            return source
        try:
            template = compile_template(source, name=field_name, html=html)
            rendered = render_template(template, variables or self.base, limits=self.context.limits)
        except ContentError as exc:
            self._note(field_name, exc.diagnostics)
            return ""
        self._note(field_name, rendered.warnings)
        return rendered.text

    def text(self, field_name: str, source: str) -> str:
        return self.render(field_name, source).strip()

    def url(self, field_name: str, source: str) -> str:
        return safe_url(self.render(field_name, source).strip())

    def collect(self, *field_names: str) -> list[Diagnostic]:
        return [d for name in field_names for d in self.diagnostics.get(name, ())]

    def render_layout(self, layout: Layout) -> tuple[str | None, list[Diagnostic]]:
        try:
            template = compile_template(layout.compiled_html, name=f"layout:{layout.key}")
            rendered = render_template(template, self.layout_vars, limits=self.context.limits)
        except ContentError as exc:
            return None, exc.diagnostics
        return sanitize_document(rendered.text), list(rendered.warnings)


_BLOCK_FIELDS: Final = (
    "blocks.headline",
    "blocks.body_html",
    "blocks.image_url",
    "blocks.image_alt",
    "blocks.cta_label",
    "blocks.cta_url",
    "blocks.terms",
)


def _dedupe(diagnostics: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
    return tuple(dict.fromkeys(diagnostics))


def _layout_variant(r: _Renderer, channel: str, layouts: Mapping[str, Layout]) -> Variant:
    layout = layouts.get(channel)
    if layout is None:
        return Variant(
            channel,
            diagnostics=(
                Diagnostic(
                    "no-layout",
                    f"there is no {channel} layout to render into",
                    field=channel,
                    hint="choose a layout for this channel in the studio",
                ),
            ),
        )
    html, diagnostics = r.render_layout(layout)
    return Variant(channel, html=html, diagnostics=_dedupe(r.collect(*_BLOCK_FIELDS) + diagnostics))


def _email_text(r: _Renderer, email_html: Variant | None) -> Variant:
    override = r.offer.overrides.email_text
    if override:
        text = tidy_text(r.render("overrides.email_text", override))
        return Variant(
            "email_text", text=text, diagnostics=_dedupe(r.collect("overrides.email_text"))
        )
    if email_html is not None and email_html.html:
        return Variant(
            "email_text", text=html_to_text(email_html.html), diagnostics=email_html.diagnostics
        )
    return Variant(
        "email_text", text=_blocks_text(r), diagnostics=_dedupe(r.collect(*_BLOCK_FIELDS))
    )


def _blocks_text(r: _Renderer) -> str:
    parts = [r.headline, html_to_text(r.body)]
    if r.cta_url:
        parts.append(f"{r.cta_label or 'More'}: {r.cta_url}")
    parts.append(r.terms)
    return tidy_text("\n\n".join(p for p in parts if p))


def _sms(r: _Renderer) -> Variant:
    override = r.offer.overrides.sms_text
    link = r.message_center_link()
    if override:
        text = " ".join(r.render("overrides.sms_text", override).split())
    else:
        text = " ".join(f"{r.headline} {r.cta_label}".split())
    text = without_unsafe_characters(text)
    if link not in text:
        text = f"{text} {link}".strip()
    diagnostics = (
        r.collect("overrides.sms_text")
        if override
        else r.collect("blocks.headline", "blocks.cta_label")
    )
    other_links = [u for u in _URL.findall(text) if not u.startswith(link.split("?")[0])]
    if other_links:
        diagnostics.append(
            Diagnostic(
                "sms-other-link",
                f"the SMS links to {other_links[0]}",
                field="overrides.sms_text",
                hint="SMS links go to the message center; use {{ message_center_url() }}",
                severity="warning",
            )
        )
    info = analyze_sms(text, field="overrides.sms_text")
    return Variant("sms", text=text, sms=info, diagnostics=_dedupe([*diagnostics, *info.warnings]))


def _chat(r: _Renderer) -> Variant:
    overrides = r.offer.overrides
    if overrides.chat_text:
        text = tidy_text(r.render("overrides.chat_text", overrides.chat_text))
        fields = ["overrides.chat_text"]
    else:
        text = tidy_text("\n\n".join(p for p in (r.headline, html_to_text(r.body)) if p))
        fields = ["blocks.headline", "blocks.body_html"]
    text = without_unsafe_characters(text)
    buttons = []
    for i, button in enumerate(overrides.chat_buttons[:MAX_CHAT_BUTTONS]):
        where = f"overrides.chat_buttons[{i}]"
        label = without_unsafe_characters(r.text(f"{where}.label", button.label))
        url = r.url(f"{where}.url", button.url) if button.url else ""
        fields += [f"{where}.label", f"{where}.url"]
        if label and (url or button.action):
            buttons.append(ChatButton(label, url, button.action))
    if not overrides.chat_buttons and r.cta_url and r.cta_label:
        buttons.append(ChatButton(r.cta_label, r.cta_url))
        fields += ["blocks.cta_label", "blocks.cta_url"]
    return Variant(
        "chat", text=text, buttons=tuple(buttons), diagnostics=_dedupe(r.collect(*fields))
    )


def _agent(r: _Renderer) -> Variant:
    script_source = r.offer.overrides.agent_script
    if script_source:
        script = tidy_text(r.render("overrides.agent_script", script_source))
        fields = ["overrides.agent_script"]
    else:
        script = tidy_text("\n\n".join(p for p in (r.headline, html_to_text(r.body)) if p))
        fields = ["blocks.headline", "blocks.body_html"]
    paragraphs = [p for p in script.split("\n\n") if p.strip()]
    variables = {**r.layout_vars, "script": paragraphs}
    card = compile_template(_AGENT_CARD, name="agent-card", html=True, names=("script",))
    try:
        html = render_template(card, variables, limits=r.context.limits).text
    except ContentError as exc:
        return Variant(
            "agent", text=script, diagnostics=_dedupe([*r.collect(*fields), *exc.diagnostics])
        )
    return Variant(
        "agent",
        html=html,
        text=script,
        diagnostics=_dedupe(r.collect(*fields, "blocks.cta_url", "blocks.terms")),
    )


RENDERED: Final = RenderMemo()


def render_variants(
    offer: Offer,
    layouts: Mapping[str, Layout],
    context: RenderContext,
    channels: Iterable[str] | None = None,
) -> dict[str, Variant]:
    """Render `offer` for one interaction into the requested variants (all by default).

    `layouts` maps a layout channel (``email_html``, ``message_center``) to the layout
    chosen for this interaction, e.g. the response footer for a service reply or the
    check-in note for a follow-up. Never raises for a template problem: each variant
    carries its own diagnostics. Identical inputs are rendered once and then served
    from a bounded memo (`content.render_cache`).
    """
    wanted = tuple(VARIANTS if channels is None else channels)
    unknown = [c for c in wanted if c not in VARIANTS]
    if unknown:
        raise ContentError.single(
            "unknown-channel",
            f"'{unknown[0]}' is not a variant",
            hint=f"variants: {', '.join(VARIANTS)}",
        )
    data = context_key(context.customer, context.inquiry, context.data)
    if data is None:
        return _render(offer, layouts, context, wanted)
    key = (
        offer,
        tuple(sorted(layouts.items())),
        data,
        context.message_center_url,
        context.nps_url,
        context.message,
        context.limits,
        wanted,
    )
    variants: dict[str, Variant] = RENDERED.get_or_render(
        key, lambda: _render(offer, layouts, context, wanted), _complete
    )
    return dict(variants)


def _complete(variants: Mapping[str, Variant]) -> bool:
    return not any(d.code == "render-timeout" for v in variants.values() for d in v.diagnostics)


def _render(
    offer: Offer, layouts: Mapping[str, Layout], context: RenderContext, wanted: tuple[str, ...]
) -> dict[str, Variant]:
    r = _Renderer(offer, context)
    out: dict[str, Variant] = {}
    needs_email_html = "email_html" in wanted or (
        "email_text" in wanted and not offer.overrides.email_text
    )
    email_html = _layout_variant(r, "email_html", layouts) if needs_email_html else None
    builders: dict[str, Callable[[], Variant]] = {
        "email_html": lambda: email_html or _layout_variant(r, "email_html", layouts),
        "email_text": lambda: _email_text(r, email_html),
        "sms": lambda: _sms(r),
        "chat": lambda: _chat(r),
        "agent": lambda: _agent(r),
        "message_center": lambda: _layout_variant(r, "message_center", layouts),
    }
    for channel in wanted:
        out[channel] = builders[channel]()
    return out
