"""Test data for the offer library: offer bodies and forms, layouts, and image bytes."""

from __future__ import annotations

import copy
import io
import itertools
from typing import Any

from PIL import Image
from sqlalchemy.orm import Session

from studio.models import Artifact, User
from studio.services import layouts, offers

_counter = itertools.count(1)

EMAIL_LAYOUT = """<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hello {{ customer.first_name }}</mj-text>
        <mj-text font-weight="bold">{{ offer.headline }}</mj-text>
        <mj-text>{{ offer.body }}</mj-text>
        <mj-button href="{{ offer.cta_url }}">{{ offer.cta_label }}</mj-button>
        <mj-text>{{ offer.terms }}</mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""

MESSAGE_CENTER_LAYOUT = """<!doctype html>
<html><head><title>{{ offer.headline }}</title></head>
<body><h1>{{ offer.headline }}</h1>{{ offer.body }}
<p><a href="{{ offer.cta_url }}">{{ offer.cta_label }}</a></p><p>{{ offer.terms }}</p></body></html>
"""

BASE_BODY: dict[str, Any] = {
    "key": "overdraft_protection",
    "name": "Overdraft protection",
    "description": "Offered with a checkbook order.",
    "owner": "Retail banking marketing",
    "valid_from": "2026-01-01",
    "valid_to": "2030-12-31",
    "value": 120.0,
    "eligible_when": "",
    "status": "active",
    "blocks": {
        "headline": "Never bounce a check again",
        "body_html": "<p>Hi {{ customer.first_name }}, link your <strong>savings</strong>.</p>",
        "image_url": "",
        "image_alt": "",
        "cta_label": "Turn on protection",
        "cta_url": "https://bank.example/overdraft",
        "terms": "Subject to approval.",
    },
    "overrides": {
        "sms_text": "",
        "email_text": "",
        "chat_text": "",
        "chat_buttons": [],
        "agent_script": "",
    },
}


def offer_body(key: str | None = None, **changes: Any) -> dict[str, Any]:
    """A valid offer dict; `blocks` and `overrides` changes are merged, not replaced."""
    body = copy.deepcopy(BASE_BODY)
    body["key"] = key or f"offer_{next(_counter)}"
    for group in ("blocks", "overrides"):
        body[group].update(changes.pop(group, {}))
    body.update(changes)
    return body


def offer_form(key: str | None = None, **changes: str) -> dict[str, str]:
    """The offer editor's form fields, as the browser posts them."""
    body = offer_body(key)
    form = {name: str(body.get(name) or "") for name in offers.TOP_FIELDS}
    form["value"] = "120"
    form.update({f"blocks.{k}": v for k, v in body["blocks"].items()})
    form.update({f"overrides.{k}": "" for k in offers.OVERRIDE_TEXT_FIELDS})
    form.update(changes)
    return form


def make_offer(session: Session, author: User, key: str | None = None, **changes: Any) -> Artifact:
    artifact = offers.create(session, offer_body(key, **changes), actor_id=author.id)
    session.commit()
    return artifact


def make_layout(
    session: Session,
    owner: User,
    key: str = "email_footer",
    channel: str = "email_html",
    source: str | None = None,
) -> Artifact:
    if source is None:
        source = EMAIL_LAYOUT if channel == "email_html" else MESSAGE_CENTER_LAYOUT
    artifact = layouts.create(
        session,
        key=key,
        name=key.replace("_", " ").title(),
        channel=channel,
        source=source,
        actor_id=owner.id,
    )
    session.commit()
    return artifact


def image_bytes(
    width: int = 40, height: int = 20, kind: str = "PNG", color: str = "#3b5bdb"
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, kind)
    return buffer.getvalue()
