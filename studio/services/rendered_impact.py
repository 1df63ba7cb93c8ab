"""What a change does, rendered: offers before and after for sample interactions, and
for rulesets, which sample decisions change. Reviewers see it beside the source diff.

An offer renders in the layout each channel really uses (the bundle's default layout per
channel, `publish.default_layouts`), for the samples the drafts actually make that offer
to (decided with the drafts' bundle runtime), falling back to the first samples when
none gets it. Samples are decided as if they happened today, so a new offer whose
validity starts today is seen as offered. Content problems never raise here; they are
shown as the render's problems.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from content.diagnostics import ContentError
from content.model import Layout, Offer, is_layout_channel
from content.rendering import render_offer as render_offer_variants
from preview.engine import Draft
from preview.matrix import Sample, customer_gets
from preview.tone import with_inferred_tone
from studio.models import (
    Artifact,
    ChangeRequest,
    ChangeRequestItem,
    Revision,
    SampleInteraction,
)
from studio.services import artifacts, previews, publish, workspace

SAMPLE_RENDERS = 3
SAMPLE_DECISIONS = 200
RENDER_CHANNELS = ("email_html", "sms", "chat", "agent")


@dataclass(frozen=True)
class SampleRender:
    """One offer item rendered for one sample interaction, before and after."""

    sample_key: str
    sample_name: str
    before: dict[str, Any] | None
    after: dict[str, Any]


@dataclass(frozen=True)
class DecisionChange:
    sample_key: str
    sample_name: str
    before: list[str]
    after: list[str]


@dataclass(frozen=True)
class Impact:
    renders: dict[int, list[SampleRender]] = field(default_factory=dict)
    decisions: dict[int, list[DecisionChange]] = field(default_factory=dict)
    checked: dict[int, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Per ruleset item: why its decisions could not be compared (it does not compile).
    decision_notes: dict[int, str] = field(default_factory=dict)


def _samples(session: Session, limit: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The samples as the preview decides them: a tone read from the text when none is
    given (rules that never offer when the tone is unknown would skip them all)."""
    return [
        (s.key, s.name, with_inferred_tone(dict(s.body or {}))[0])
        for s in session.scalars(
            select(SampleInteraction).order_by(SampleInteraction.key).limit(limit)
        )
    ]


def as_of_today(sample: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The sample as if the contact happened now (its own date is an example's date)."""
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    return {**sample, "at": moment.isoformat().replace("+00:00", "Z")}


def _default_keys(session: Session, layouts: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    listed = [{"key": key, "channel": layout.get("channel")} for key, layout in layouts.items()]
    return publish.default_layouts(session, listed)


def render_offer(
    body: Mapping[str, Any] | None,
    sample: Mapping[str, Any],
    layouts: Mapping[str, Mapping[str, Any]],
    defaults: Mapping[str, str] | None = None,
) -> dict[str, Any] | None:
    """An offer revision rendered for one sample in the review's channels, as plain data:
    channel -> {"html" | "text", "problems"}; None when there is no such revision.

    Each layout channel renders in `defaults[channel]` (the bundle's default layout) when
    given and present, else in the alphabetically first layout for the channel."""
    if body is None:
        return None
    try:
        offer = Offer.from_dict(dict(body))
    except ContentError as failed:
        return {"error": "; ".join(d.message for d in failed.diagnostics)}
    chosen: dict[str, Layout] = {}
    for channel, key in (defaults or {}).items():
        layout = layouts.get(key)
        if layout is not None and layout.get("channel") == channel and is_layout_channel(channel):
            chosen[channel] = Layout.from_dict({**layout, "key": key})
    for key, layout in sorted(layouts.items()):
        named = layout.get("channel")
        if is_layout_channel(named) and named not in chosen:
            chosen[named] = Layout.from_dict({**layout, "key": key})
    try:
        variants = render_offer_variants(offer, chosen, sample, RENDER_CHANNELS)
    except ContentError as failed:
        return {"error": "; ".join(d.message for d in failed.diagnostics)}
    return {
        channel: {
            "html": v.html,
            "text": v.text,
            "buttons": [b.label for b in v.buttons],
            "problems": [d.message for d in v.diagnostics if d.is_error],
        }
        for channel, v in variants.items()
    }


def impact(session: Session, request: ChangeRequest, *, decisions: bool = True) -> Impact:
    """What the change does: offers rendered before/after for sample interactions, and
    for rulesets (unless `decisions` is false: the page then loads them on their own,
    `decisions_of`), which sample decisions change. Never raises for content problems."""
    head = workspace.snapshot(session, which="head")
    layouts = head.layouts
    result = Impact()
    samples = _samples(session, SAMPLE_DECISIONS)
    if not samples:
        result.notes.append(
            "There are no sample interactions yet, so offers render with "
            "empty customer data and no decisions can be compared."
        )
    defaults = _default_keys(session, layouts)
    has_offers = any(item.artifact.kind == "offer" for item in request.items)
    offered = _offered_to(session, samples) if has_offers else {}
    for item in request.items:
        artifact = item.artifact
        before, after = _revisions(session, item)
        if after is None:
            continue
        if artifact.kind == "offer":
            render_with = (
                [s for s in samples if artifact.key in offered.get(s[0], ())][:SAMPLE_RENDERS]
                or samples[:SAMPLE_RENDERS]
                or [("", "No sample", {})]
            )
            result.renders[artifact.id] = [
                SampleRender(
                    key,
                    name,
                    render_offer(
                        {**before.body, "key": artifact.key} if before else None,
                        body,
                        layouts,
                        defaults,
                    ),
                    render_offer({**after.body, "key": artifact.key}, body, layouts, defaults)
                    or {},
                )
                for key, name, body in render_with
            ]
        elif artifact.kind == "ruleset" and samples and decisions:
            _decision_changes(session, result, artifact, before, after, samples)
    return result


def decisions_of(session: Session, request: ChangeRequest, artifact_id: int) -> Impact | None:
    """Which sample decisions one ruleset item of `request` changes; None when the
    request has no such ruleset item. The review page loads this on its own, since a
    large ruleset takes seconds to compile the first time it is seen."""
    item = next(
        (i for i in request.items if i.artifact_id == artifact_id and i.artifact.kind == "ruleset"),
        None,
    )
    if item is None:
        return None
    result = Impact()
    before, after = _revisions(session, item)
    samples = _samples(session, SAMPLE_DECISIONS)
    if after is None or not samples:
        return result
    _decision_changes(session, result, item.artifact, before, after, samples)
    return result


def _revisions(
    session: Session, item: ChangeRequestItem
) -> tuple[Revision | None, Revision | None]:
    """The item's approved revision it is based on (None for a new artifact) and its own."""
    artifact = item.artifact
    before = artifacts.revision(session, artifact, item.base_number) if item.base_number else None
    return before, artifacts.revision(session, artifact, item.revision_number)


def _offered_to(
    session: Session, samples: list[tuple[str, str, dict[str, Any]]]
) -> dict[str, set[str]]:
    """sample key -> the offers (and follow-ups) the drafts give its customer today, every
    ruleset decided and the contact policy applied, as the preview decides. Compiled
    through the preview's memo, so a view pays only for texts it has not seen."""
    if not samples:
        return {}
    current = previews.plain_workspace(session)
    cases = [Sample(key, name, as_of_today(body)) for key, name, body in samples]
    return {
        key: {offer.removesuffix(" (later)") for offer in got}
        for key, got in customer_gets(current, cases).items()
        if got is not None
    }


def _decision_changes(
    session: Session,
    result: Impact,
    artifact: Artifact,
    before: Revision | None,
    after: Revision,
    samples: list[tuple[str, str, dict[str, Any]]],
) -> None:
    """Which samples' customers get something else with the change: every ruleset
    decided, the contact policy applied, as the customer would be answered."""
    current = previews.plain_workspace(session)
    others = {k: v for k, v in current.rulesets.items() if k != artifact.key}

    def body_of(revision: Revision) -> dict[str, Any]:
        return {"name": artifact.name, "source": str(revision.body.get("source", ""))}

    cases = [Sample(key, name, body) for key, name, body in samples]
    after_gets = customer_gets(current, cases, draft=Draft("ruleset", artifact.key, body_of(after)))
    if any(got is None for got in after_gets.values()):
        result.decision_notes[artifact.id] = (
            f"{artifact.name} does not compile yet, so its decisions cannot be compared."
        )
        return
    if before is None:  # a new ruleset: before it, the others decide alone
        before_gets = customer_gets(replace(current, rulesets=others), cases)
    else:
        before_gets = customer_gets(
            current, cases, draft=Draft("ruleset", artifact.key, body_of(before))
        )
    changes = []
    for key, name, _body in samples:
        old = list(before_gets.get(key) or ())
        new = list(after_gets.get(key) or ())
        if old != new:
            changes.append(DecisionChange(key, name, old, new))
    result.decisions[artifact.id] = changes
    result.checked[artifact.id] = len(samples)


def email_preview(
    session: Session, request: ChangeRequest, item_id: int, side: str, sample_key: str
) -> str | None:
    """One offer item's email rendered for one sample, as a whole HTML document."""
    item = next((i for i in request.items if i.id == item_id), None)
    if item is None or item.artifact.kind != "offer":
        return None
    number = item.revision_number if side == "after" else item.base_number
    revision = artifacts.revision(session, item.artifact, number) if number else None
    if revision is None:
        return None
    samples = {key: body for key, _name, body in _samples(session, SAMPLE_DECISIONS)}
    sample = samples.get(sample_key, {})
    layouts = workspace.snapshot(session, which="head").layouts
    rendered = (
        render_offer(
            {**revision.body, "key": item.artifact.key},
            sample,
            layouts,
            _default_keys(session, layouts),
        )
        or {}
    )
    email = rendered.get("email_html") or {}
    if email.get("html"):
        return str(email["html"])
    problems = (
        rendered.get("error")
        or "; ".join(email.get("problems") or [])
        or "This offer has no email layout to render into."
    )
    return f'<!doctype html><p style="font-family:sans-serif">{escape(problems)}</p>'
