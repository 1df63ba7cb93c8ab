"""Preview in the studio: the pure `preview` library fed from the database and the editor.

Every editor (offer, layout, ruleset) and every sample page carries the same preview
pane. Its requests bring the editor's unsaved form, the chosen sample interaction (or
that sample's JSON as edited in the pane) and the email layout to show; this module
turns them into plain values, runs `preview.preview`, and keeps each rendered email and
message-center page in a short-lived cache so its sandboxed frame can load it from its
own URL, under its own strict policy.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeGuard

from sqlalchemy import select
from sqlalchemy.orm import Session

import preview as preview_lib
from content.channels import RenderContext
from preview.cache import Memo
from preview.engine import KINDS, Kind
from preview.engine import render_context as context_for
from preview.matrix import Matrix, Sample, customer_gets, run_matrix
from preview.overlap import find_overlaps
from preview.tone import Lexicon, with_inferred_tone
from studio.errors import FieldError
from studio.models import Artifact
from studio.services import offers, samples, workspace

PREFERRED_EMAIL_LAYOUT: Final = "email_response_footer"
FRAME_CHANNELS: Final = ("email_html", "message_center")
VARIANT_LABELS: Final = {
    "email_html": "Email",
    "email_text": "Plain-text email",
    "sms": "SMS",
    "chat": "Chat",
    "agent": "Agent card",
    "message_center": "Message center",
}
#: Form fields that tell a draft apart from a request for the saved artifact.
DRAFT_MARKERS: Final = {
    "offer": "blocks.headline",
    "layout": "source",
    "ruleset": "source",
    "policy": "source",
}


# --- the frames' documents ------------------------------------------------------------------


class DocumentCache:
    """Rendered documents by random id, for one person, for a few minutes.

    A sandboxed frame must load its document from a URL (so the document gets its own
    Content-Security-Policy); the preview that rendered it is gone by then, so the HTML
    waits here. Ids are 128-bit random and bound to the person who asked, so one
    person's preview is never shown to another.
    """

    def __init__(self, ttl: float = 600.0, size: int = 2_000) -> None:
        self.ttl = ttl
        self.size = size
        self._items: OrderedDict[str, tuple[float, int, str]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, html: str, owner: int) -> str:
        key = secrets.token_urlsafe(16)
        now = time.monotonic()
        with self._lock:
            self._items[key] = (now + self.ttl, owner, html)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return key

    def get(self, key: str, owner: int) -> str | None:
        with self._lock:
            found = self._items.get(key)
        if found is None:
            return None
        expires, who, html = found
        if who != owner or expires < time.monotonic():
            return None
        return html


DOCUMENTS: Final = DocumentCache()


# --- the workspace as plain data -------------------------------------------------------------


_WORKSPACES: Final[Memo[preview_lib.Workspace]] = Memo(8)


def plain_workspace(session: Session) -> preview_lib.Workspace:
    """Heads of everything authored (archived artifacts left out), as plain dicts.

    A preview runs on every keystroke while the workspace rarely changes, so the copy is
    kept, keyed by which revision of each artifact is head: reading those numbers is one
    small query, and any save or archive anywhere changes the key (so does its time).
    """
    return _WORKSPACES.get(workspace_key(session), lambda: _read_workspace(session))


def workspace_key(session: Session) -> Hashable:
    """What `plain_workspace` is kept by: changes with any save or archive anywhere."""
    versions = tuple(
        session.execute(
            select(
                Artifact.id,
                Artifact.kind,
                Artifact.key,
                Artifact.head_number,
                Artifact.archived,
                Artifact.name,
                Artifact.updated_at,
            ).order_by(Artifact.id)
        )
    )
    bind = session.get_bind()
    return (str(bind.engine.url), versions)  # an Engine, or a Connection in tests


def _read_workspace(session: Session) -> preview_lib.Workspace:
    return from_snapshot(workspace.snapshot(session, which="head"))


def from_snapshot(ws: workspace.Workspace) -> preview_lib.Workspace:
    """Any snapshot (head, approved, or a change request's) as the preview reads it."""
    layouts = {
        key: {**workspace.thaw(entry.body), "name": entry.name}
        for key, entry in ws.of_kind("layout").items()
        if not entry.archived
    }
    return preview_lib.Workspace(
        offers={key: workspace.thaw(body) for key, body in ws.offers.items()},
        layouts=layouts,
        rulesets=ws.rulesets,
        schema=workspace.thaw(ws.schema) if ws.schema is not None else None,
        lexicon=workspace.thaw(ws.lexicon) if ws.lexicon is not None else None,
        policy=workspace.thaw(ws.policy) if ws.policy is not None else None,
    )


def email_layout_choices(ws: preview_lib.Workspace) -> list[tuple[str, str]]:
    found = [
        (key, str(body.get("name") or key))
        for key, body in ws.layouts.items()
        if body.get("channel") == "email_html"
    ]
    return sorted(found, key=lambda kv: (kv[1], kv[0]))


def default_email_layout(choices: list[tuple[str, str]]) -> str | None:
    keys = [k for k, _ in choices]
    if PREFERRED_EMAIL_LAYOUT in keys:
        return PREFERRED_EMAIL_LAYOUT
    return keys[0] if keys else None


# --- the pane -------------------------------------------------------------------------------


#: The choice in the pane's sample list that stands for the history interaction shown.
HISTORY_CHOICE: Final = "history:"


@dataclass(frozen=True)
class Pane:
    """The pane's controls: which sample, its JSON as edited here, which email layout."""

    samples: list[tuple[str, str]]
    sample_key: str | None
    sample_name: str
    interaction_text: str
    json_error: FieldError | None
    email_layouts: list[tuple[str, str]]
    email_layout: str | None
    focus_kind: str = ""
    focus_key: str = ""
    editor_changed: bool = False


@dataclass(frozen=True)
class PreviewView:
    pane: Pane
    result: preview_lib.Preview | None
    documents: Mapping[tuple[str, str], str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=lambda: VARIANT_LABELS)
    elapsed_ms: float = 0.0
    saved: bool = True
    #: Every trace row, not only the first `preview.engine.TRACE_ROWS` that did not match.
    whole_trace: bool = False

    @property
    def trace_limit(self) -> int | None:
        return None if self.whole_trace else preview_lib.TRACE_ROWS


def _interaction(
    session: Session,
    chosen: str | None,
    form: Mapping[str, str],
    history: tuple[str, Mapping[str, Any]] | None = None,
) -> tuple[dict[str, Any], str, FieldError | None, bool]:
    """The interaction to preview: the JSON edited in the pane when it belongs to the
    chosen sample (every keystroke request carries it, so the library is not read),
    else the sample as stored. Also says whether the editor box must be refilled
    (another sample was chosen)."""
    loaded = form.get("preview_loaded")
    text = form.get("preview_interaction")
    if text is None or loaded != (chosen or ""):
        if chosen == HISTORY_CHOICE and history is not None:
            stored = dict(history[1])
        else:
            sample = samples.get(session, chosen) if chosen else None
            stored = (
                dict(sample.body) if sample is not None and isinstance(sample.body, dict) else {}
            )
        return stored, json.dumps(stored, indent=2, ensure_ascii=False), None, loaded is not None
    body, error = samples.parse_json(text)
    if error is not None or body is None:
        return {}, text, error, False
    return body, text, None, False


def _is_kind(kind: str) -> TypeGuard[Kind]:
    return kind in KINDS


def _has_matrix(kind: str | None) -> TypeGuard[Literal["offer", "ruleset"]]:
    """Only an offer or a ruleset decides anything, so only they have a matrix."""
    return kind in ("offer", "ruleset")


def _draft(
    kind: Kind, key: str, form: Mapping[str, str], ws: preview_lib.Workspace
) -> preview_lib.Draft:
    """The edited artifact from the editor's form; only the focus when no form came."""
    if DRAFT_MARKERS[kind] not in form:
        return preview_lib.Draft(kind, key)
    if kind == "offer":
        body = offers.body_from_form({**offers.form_from_request(form), "key": key})
        return preview_lib.Draft("offer", key, body)
    if kind == "layout":
        stored = ws.layouts.get(key, {})
        channel = str(stored.get("channel") or form.get("channel") or "email_html")
        return preview_lib.Draft(
            "layout",
            key,
            {"name": form.get("name", key), "channel": channel, "source": form.get("source", "")},
        )
    if kind == "policy":
        return preview_lib.Draft("policy", key, {"source": form.get("source", "")})
    return preview_lib.Draft(
        "ruleset",
        key,
        {"name": form.get("name") or key, "source": form.get("source", "")},
        typed=True,
    )


def _sample_cases(session: Session) -> list[Sample]:
    """The sample library as the preview's matrix takes it (a body that is not an object
    reads as empty)."""
    return [
        Sample(s.key, s.name, s.body if isinstance(s.body, dict) else {}, tuple(s.tags or ()))
        for s in samples.all_samples(session)
    ]


def _telling_sample(
    session: Session, ws: preview_lib.Workspace, kind: Literal["offer", "ruleset"], key: str
) -> str | None:
    """A sample where the offer or ruleset makes an offer (or proposes one the contact
    policy removes), so a new pane shows one."""
    cases = _sample_cases(session)
    if not cases:
        return None
    result = run_matrix(ws, cases, kind=kind, key=key)
    for status in ("offer", "removed", "follow_up"):
        for row in result.rows:
            if row.cell.status == status:
                return row.sample.key
    return None


def _sample_with_an_offer(session: Session, ws: preview_lib.Workspace) -> str | None:
    """A sample whose customer gets an offer now, so a layout's pane renders one."""
    gets = customer_gets(ws, _sample_cases(session))
    return next((k for k, got in gets.items() if got and "(later)" not in got[0]), None)


def _contested_sample(session: Session, ws: preview_lib.Workspace) -> str | None:
    """A sample two rulesets both propose for, so the policy's pane shows it arbitrate."""
    found = find_overlaps(ws, [(c.key, c.name, c.body) for c in _sample_cases(session)])
    return found[0].sample_key if found else None


def render(
    session: Session,
    *,
    form: Mapping[str, str],
    owner: int,
    kind: str | None = None,
    key: str | None = None,
    sample_key: str | None = None,
    history: tuple[str, Mapping[str, Any]] | None = None,
) -> PreviewView:
    """The preview for the pane: `kind`/`key` name the artifact being edited, if any;
    `history` is an imported interaction (its label and body) offered first, before the
    samples (a backtest's example opens here)."""
    started = time.perf_counter()
    ws = plain_workspace(session)
    choices = samples.choices(session)
    if history is not None:
        choices = [(HISTORY_CHOICE, history[0]), *choices]
    wanted = form.get("preview_sample") or sample_key or (HISTORY_CHOICE if history else None)
    if not wanted and _has_matrix(kind) and key:
        wanted = _telling_sample(session, ws, kind, key)
    elif not wanted and kind == "policy":
        wanted = _contested_sample(session, ws)
    elif not wanted and kind == "layout":
        wanted = _sample_with_an_offer(session, ws)
    names = dict(choices)
    chosen = wanted if wanted in names else (choices[0][0] if choices else None)
    layouts = email_layout_choices(ws)
    email_layout = form.get("preview_layout")
    if kind == "layout" and key in {k for k, _ in layouts}:
        email_layout = key  # the email layout being edited is the one drawn
    if email_layout not in {k for k, _ in layouts}:
        email_layout = default_email_layout(layouts)
    focus_kind = kind or form.get("focus_kind", "")
    focus_key = key or form.get("focus_key", "")
    if focus_kind not in KINDS:
        focus_kind, focus_key = "", ""
    interaction, text, json_error, changed = _interaction(session, chosen, form, history)
    pane = Pane(
        samples=choices,
        sample_key=chosen,
        sample_name=names.get(chosen or "", ""),
        interaction_text=text,
        json_error=json_error,
        email_layouts=layouts,
        email_layout=email_layout,
        focus_kind=focus_kind if not kind else "",
        focus_key=focus_key if not kind else "",
        editor_changed=changed,
    )
    if chosen is None or json_error is not None:
        return PreviewView(pane, None)
    draft = _draft(focus_kind, focus_key, form, ws) if _is_kind(focus_kind) else None
    if kind is None and draft is not None:
        draft = preview_lib.Draft(draft.kind, draft.key)
    result = preview_lib.preview(ws, interaction, draft=draft, email_layout=email_layout)
    documents: dict[tuple[str, str], str] = {}
    for rendered in result.rendered:
        for channel in FRAME_CHANNELS:
            variant = rendered.variants.get(channel)
            if variant is not None and variant.html:
                documents[(rendered.key, channel)] = DOCUMENTS.put(variant.html, owner)
    return PreviewView(
        pane,
        result,
        documents,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        saved=draft is None or draft.body is None,
        whole_trace=form.get("trace") == "all",
    )


def document(doc_id: str, owner: int) -> str | None:
    return DOCUMENTS.get(doc_id, owner)


# --- the matrix -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MatrixView:
    kind: str
    key: str
    matrix: Matrix | None
    rulesets: list[tuple[str, str]]
    offers: list[tuple[str, str]]
    elapsed_ms: float = 0.0
    sample_count: int = 0

    @property
    def focus_name(self) -> str:
        """The chosen ruleset's name (an offer's key): what the counts and "Why" are about."""
        choices = dict(self.rulesets if self.kind == "ruleset" else ())
        return choices.get(self.key, self.key)


def matrix(session: Session, *, kind: str, key: str) -> MatrixView:
    """One ruleset or one offer against every sample; no target yet shows the choices."""
    started = time.perf_counter()
    ws = plain_workspace(session)
    ruleset_choices = sorted(
        ((k, str(b.get("name") or k)) for k, b in ws.rulesets.items()), key=lambda kv: kv[1]
    )
    offer_choices = sorted(
        ((k, str(b.get("name") or k)) for k, b in ws.offers.items()), key=lambda kv: kv[1]
    )
    cases = _sample_cases(session)
    if not _has_matrix(kind) or not key:
        return MatrixView(kind, key, None, ruleset_choices, offer_choices, sample_count=len(cases))
    result = run_matrix(ws, cases, kind=kind, key=key)
    return MatrixView(
        kind,
        key,
        result,
        ruleset_choices,
        offer_choices,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        sample_count=len(cases),
    )


def sample_context(session: Session, sample_key: str | None = None) -> RenderContext | None:
    """The render context of a sample interaction (the first one by name when no key is
    given), with its tone inferred; None when the library is empty.

    For panels that render one offer outside the pane, such as the offer page's variants
    panel (`offers.render_context`), so they can show a real sample instead of a made-up one.
    """
    sample = samples.get(session, sample_key) if sample_key else None
    if sample is None:
        choices = samples.choices(session)
        sample = samples.get(session, choices[0][0]) if choices else None
    if sample is None or not isinstance(sample.body, dict):
        return None
    ws = plain_workspace(session)
    filled, _tone = with_inferred_tone(sample.body, Lexicon.from_dict(ws.lexicon))
    return context_for(filled)
