"""The hostile-layout corpus, placed in every layout channel and rendered as it would ship.

Each corpus line becomes three stored layouts: a message-center page, and an email
layout with the payload in ``mj-raw`` and in ``mj-text``. They are built the way layouts
stored before the document sanitizer were (compiled, URL-guarded, never save-checked), so
the render path alone must make them safe. The offer itself is hostile too: a
``javascript:`` link and image and markup in every text field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from content.channels import LinkBuilder, RenderContext, render_variants
from content.diagnostics import ContentError
from content.layouts import guard_url_attributes
from content.mjml import compile_mjml
from content.model import ContentBlocks, Layout, Offer

CORPUS = Path(__file__).parent / "content" / "corpora" / "shipped_layouts.txt"

HOSTILE_OFFER = Offer(
    key="hostile",
    name="Hostile",
    owner="Marketing",
    valid_from=date(2026, 1, 1),
    status="active",
    blocks=ContentBlocks(
        headline="<img src=x onerror=alert(1)>\"'><svg onload=alert(1)>",
        body_html="<p>Body<svg><style><img src=x onerror=alert(1)></style></svg></p>",
        image_url="javascript:alert(1)",
        image_alt='" onerror="alert(1)',
        cta_label="<script>alert(1)</script>",
        cta_url="javascript:alert(1)",
        terms="{{ customer }}",
    ),
)
CONTEXT = RenderContext(
    customer={"first_name": "<img src=x onerror=alert(1)>"},
    message_center_url=LinkBuilder("https://bank.example/messages", "t"),
    nps_url=LinkBuilder("https://bank.example/nps", "t"),
)


@dataclass(frozen=True)
class Case:
    """One payload in one layout channel."""

    id: str
    channel: str
    source: str
    payload: str


def payloads() -> list[str]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def cases() -> list[Case]:
    out = []
    for number, payload in enumerate(payloads(), start=1):
        out.append(
            Case(
                f"{number}-page",
                "message_center",
                f"<h1>{{{{ offer.headline }}}}</h1>\n{payload}\n{{{{ offer.body }}}}",
                payload,
            )
        )
        for element in ("mj-raw", "mj-text"):
            out.append(
                Case(
                    f"{number}-{element}",
                    "email_html",
                    (
                        "<mjml><mj-body><mj-section><mj-column>"
                        f"<mj-text>{{{{ offer.headline }}}}</mj-text><{element}>{payload}</{element}>"
                        '<mj-button href="{{ offer.cta_url }}">{{ offer.cta_label }}</mj-button>'
                        "</mj-column></mj-section></mj-body></mjml>"
                    ),
                    payload,
                )
            )
    return out


def stored_layout(case: Case) -> Layout | None:
    """The layout as stored without the save check, or None when it cannot compile."""
    try:
        html = compile_mjml(case.source) if case.channel == "email_html" else case.source
    except ContentError:
        return None
    return Layout(
        key="hostile",
        name="Hostile",
        channel=case.channel,  # type: ignore[arg-type]
        source=case.source,
        compiled_html=guard_url_attributes(html),
    )


def shipped_html(case: Case) -> str | None:
    """What a customer receives for `case`, or None when nothing renders."""
    layout = stored_layout(case)
    if layout is None:
        return None
    variant = render_variants(HOSTILE_OFFER, {case.channel: layout}, CONTEXT, [case.channel])[
        case.channel
    ]
    return variant.html
