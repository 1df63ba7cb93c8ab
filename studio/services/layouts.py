"""Layouts: marketing's per-channel templates that carry an offer, checked as people type.

A layout is MJML (email) or HTML (message center) with Jinja slots. Unlike a ruleset, a
layout that does not compile is never stored: the stored revision always holds the
compiled, guarded HTML that per-interaction rendering uses, so publishing and preview
never have to compile MJML again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.diagnostics import ContentError, Diagnostic
from content.layouts import build_layout
from content.mjml import UNSUPPORTED_FEATURE_NOTES
from content.model import Layout
from studio.errors import FieldError, ValidationFailed
from studio.models import Artifact, Revision
from studio.services import artifacts

RESERVED_KEYS: Final = frozenset({"new", "check"})
MAX_SOURCE: Final = 200_000

CHANNELS: Final = {
    "email_html": "Email (MJML)",
    "message_center": "Message-center page (HTML)",
    "notification_email": "Notification email (MJML)",
}

# What a layout may place, for the editor's "slots" panel.
SLOTS: Final = (
    ("offer.headline", "the offer's headline"),
    ("offer.body", "the rich body, already sanitized"),
    ("offer.image_url / offer.image_alt", "the offer's image and its description"),
    ("offer.cta_label / offer.cta_url", "the call to action"),
    ("offer.terms", "the small print"),
    ("offer.name / offer.valid_to", "the offer's name and last day"),
    ("customer.first_name", "and any other customer field of the interaction"),
    ("inquiry.category / inquiry.channel", "what the contact was about"),
    ("data.…", "extra payload sent with the interaction"),
    ("message_center_url() / nps_url()", "the customer's message-center page and survey"),
    ("nps_survey()", "the NPS question with eleven one-click score links (email)"),
    ("survey_url('KEY')", "a narrow-cast survey the decision asks (empty when none)"),
)

MJML_NOTES: Final = UNSUPPORTED_FEATURE_NOTES

STARTERS: Final = {
    "email_html": """<mjml lang="en">
  <mj-body background-color="#ffffff" width="600px">
    <mj-section>
      <mj-column>
        <mj-text font-size="18px" font-weight="bold">{{ offer.headline }}</mj-text>
        <mj-text>{{ offer.body }}</mj-text>
        <mj-button href="{{ offer.cta_url }}">{{ offer.cta_label }}</mj-button>
        <mj-text font-size="11px" color="#7b8794">{{ offer.terms }}</mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
""",
    "notification_email": """<mjml lang="en">
  <mj-head><mj-title>Your answer is ready</mj-title></mj-head>
  <mj-body background-color="#ffffff" width="600px">
    <mj-section>
      <mj-column>
        <mj-text font-size="16px">Hello {{ customer.first_name }},</mj-text>
        <mj-text>Your answer is ready. Read it on your own page:</mj-text>
        <mj-button href="{{ message_center_url() }}">Read your answer</mj-button>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
""",
    "message_center": """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ offer.headline }}</title></head>
<body>
  <h1>{{ offer.headline }}</h1>
  {{ offer.body }}
  {% if offer.cta_url %}<p><a href="{{ offer.cta_url }}">{{ offer.cta_label }}</a></p>{% endif %}
  <p><small>{{ offer.terms }}</small></p>
</body>
</html>
""",
}


@dataclass(frozen=True)
class LayoutReport:
    """What the editor shows next to the source: every problem, by line and column."""

    ok: bool
    diagnostics: list[dict[str, Any]]
    errors: int
    warnings: int


def _excerpt(source: str, diagnostic: Diagnostic) -> str:
    """The offending line with a caret under the column, like a compiler prints it."""
    lines = source.splitlines()
    if not diagnostic.line or not 0 < diagnostic.line <= len(lines):
        return ""
    text = lines[diagnostic.line - 1].rstrip()
    column = diagnostic.column or 0
    if len(text) > 160:
        start = max(0, column - 80)
        text, column = text[start : start + 160], column - start
    gutter = f"{diagnostic.line:>4} | "
    caret = f"\n{' ' * (len(gutter) + column - 1)}^" if column > 0 else ""
    return f"{gutter}{text}{caret}"


def _report(source: str, diagnostics: list[Diagnostic]) -> LayoutReport:
    rows = [
        {**d.to_dict(), "excerpt": _excerpt(source, d)}
        for d in sorted(diagnostics, key=lambda d: (d.severity != "error", d.line or 0))
    ]
    errors = sum(1 for d in diagnostics if d.is_error)
    return LayoutReport(
        ok=errors == 0, diagnostics=rows, errors=errors, warnings=len(rows) - errors
    )


def _build(key: str, name: str, channel: str, source: str) -> tuple[Layout | None, LayoutReport]:
    if len(source) > MAX_SOURCE:
        diagnostic = Diagnostic(
            "layout-too-large",
            f"the layout has {len(source):,} characters (at most {MAX_SOURCE:,})",
            field="layout",
        )
        return None, _report(source, [diagnostic])
    try:
        layout = build_layout(key, name, channel, source)
    except ContentError as failed:
        return None, _report(source, failed.diagnostics)
    return layout, _report(source, list(layout.warnings))


def check(source: str, channel: str) -> LayoutReport:
    """Compile `source` as a layout for `channel` and report; never raises."""
    return _build("draft", "draft", channel, source)[1]


def _validate(key: str | None, name: str, channel: str) -> list[FieldError]:
    errors = artifacts.key_and_name_errors(
        key, name, noun="layout", example="promo_email", reserved=RESERVED_KEYS
    )
    if channel not in CHANNELS:
        errors.append(FieldError("channel", "Choose the channel this layout is for."))
    return errors


def _compiled_body(
    key: str, name: str, channel: str, source: str, errors: list[FieldError]
) -> dict[str, Any]:
    if errors and any(e.field == "channel" for e in errors):
        raise ValidationFailed(errors)
    layout, report = _build(key, name, channel, source)
    if layout is None:
        first = next(d for d in report.diagnostics if d["severity"] == "error")
        where = f"Line {first['line']}: " if first.get("line") else ""
        more = f" ({report.errors - 1} more below)" if report.errors > 1 else ""
        errors.append(FieldError("source", f"{where}{first['message']}{more}.", first.get("hint")))
    if errors:
        raise ValidationFailed(errors)
    assert layout is not None
    return {"channel": channel, "source": source, "compiled_html": layout.compiled_html}


def create(
    session: Session, *, key: str, name: str, channel: str, source: str, actor_id: int | None
) -> Artifact:
    """Store a new layout, compiled; raises ValidationFailed (nothing stored)."""
    key = key.strip()
    errors = _validate(key, name, channel)
    if not errors and artifacts.find(session, "layout", key) is not None:
        errors.append(FieldError("key", f"A layout with the key {key} already exists."))
    body = _compiled_body(key, name.strip(), channel, source, errors)
    return artifacts.create(
        session, kind="layout", key=key, name=name.strip(), body=body, actor_id=actor_id
    )


def save(
    session: Session,
    artifact: Artifact,
    *,
    name: str,
    source: str,
    base_number: int,
    actor_id: int | None,
    summary: str = "",
) -> Revision:
    """Store the next revision; raises ValidationFailed or EditConflict."""
    channel = str(artifacts.head(session, artifact).body.get("channel", ""))
    errors = _validate(None, name, channel)
    body = _compiled_body(artifact.key, name.strip(), channel, source, errors)
    return artifacts.save(
        session,
        artifact,
        body=body,
        base_number=base_number,
        actor_id=actor_id,
        name=name.strip(),
        summary=summary,
    )


def channel_of(session: Session, artifact: Artifact) -> str:
    return str(artifacts.head(session, artifact).body.get("channel", ""))


def to_layout(artifact: Artifact, body: dict[str, Any]) -> Layout:
    """The content library's plain Layout value for a stored revision body."""
    return Layout.from_dict(
        {"channel": "email_html", **body, "key": artifact.key, "name": artifact.name}
    )


def available(session: Session) -> dict[str, list[Layout]]:
    """Every live layout at its head revision, grouped by channel, oldest first: the first
    layout made for a channel is the one previews use unless another is chosen."""
    rows = session.execute(
        select(Artifact, Revision)
        .join(
            Revision,
            (Revision.artifact_id == Artifact.id) & (Revision.number == Artifact.head_number),
        )
        .where(Artifact.kind == "layout", Artifact.archived.is_(False))
        .order_by(Artifact.id)
    ).all()
    grouped: dict[str, list[Layout]] = {channel: [] for channel in CHANNELS}
    for artifact, revision in rows:
        layout = to_layout(artifact, revision.body)
        grouped.setdefault(layout.channel, []).append(layout)
    return grouped


def channels_by_key(session: Session, keys: list[str]) -> dict[str, str]:
    """The channel of each listed layout, for the library list."""
    if not keys:
        return {}
    rows = session.execute(
        select(Artifact.key, Revision.body)
        .join(
            Revision,
            (Revision.artifact_id == Artifact.id) & (Revision.number == Artifact.head_number),
        )
        .where(Artifact.kind == "layout", Artifact.key.in_(keys))
    ).all()
    return {key: str(body.get("channel", "")) for key, body in rows}
