"""Change requests and reviews: four eyes on every change before it reaches customers.

An author groups drafts (artifacts whose head is ahead of what was approved) into a
change request and submits it; each item is pinned to the revision submitted and
compared against the approved one. Reviewers comment, approve or request changes.

Rules this module enforces, whatever page or POST asks:
- nobody reviews their own change: not the request's author, nor anyone who wrote one
  of the revisions under review;
- a verdict is pinned to the exact revisions the reviewer saw (the form carries them;
  a stale form is refused), and any later edit to an item voids every verdict and puts
  the request back in review; the listener at the bottom does this for every save,
  whichever editor made it;
- a request is approved when it has the configured number of approvals (Setting
  "required_approvals", default 1) on its current revisions and nobody's latest verdict
  asks for changes; approval sets each artifact's `approved_number`, which is what the
  next publish ships.
- an artifact is in at most one open request, so approvals never compete.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, func, or_, select
from sqlalchemy.orm import Session

from studio import audit
from studio.errors import FieldError, ValidationFailed
from studio.models import (
    Artifact,
    ChangeRequest,
    ChangeRequestItem,
    Comment,
    Review,
    Revision,
    Setting,
    User,
    utcnow,
)
from studio.roles import ADMIN, MARKETER, REVIEWER, SERVICE_LEAD
from studio.services import artifacts, notifications, review_diffs

OPEN_STATUSES = ("draft", "in_review", "changes_requested", "approved")
REVIEWABLE_STATUSES = ("in_review", "changes_requested", "approved")
VERDICTS = ("approve", "request_changes")

STATUS_LABELS = {
    "draft": "Draft", "in_review": "In review", "changes_requested": "Changes requested",
    "approved": "Approved", "published": "Published", "withdrawn": "Withdrawn",
}

KIND_EDITORS: dict[str, str] = {
    "offer": MARKETER, "layout": MARKETER,
    "ruleset": SERVICE_LEAD, "schema": SERVICE_LEAD, "lexicon": SERVICE_LEAD,
}
KIND_LABELS = {"offer": "Offer", "layout": "Layout", "ruleset": "Ruleset",
               "schema": "Interaction schema", "lexicon": "Tone lexicon"}

REQUIRED_APPROVALS = "required_approvals"
DEFAULT_REQUIRED_APPROVALS = 1
MAX_REQUIRED_APPROVALS = 5
MAX_TITLE = 200
MAX_DESCRIPTION = 10_000
MAX_COMMENT = 5_000


class NotAllowed(Exception):
    """The person's roles or relation to the change forbid the action (a 403, not a 400)."""


# --- who may do what ------------------------------------------------------------------


def editable_kinds(roles: Iterable[str]) -> set[str]:
    held = set(roles)
    return {kind for kind, role in KIND_EDITORS.items() if role in held}


def may_view_kind(roles: Iterable[str], kind: str) -> bool:
    held = set(roles)
    return kind in KIND_EDITORS and bool(held & {KIND_EDITORS[kind], REVIEWER, ADMIN})


def _authors_of(session: Session, request: ChangeRequest) -> set[int]:
    """Everyone who wrote a revision under review (from the approved base to the pin)."""
    authors = {request.author_id}
    for item in request.items:
        low = item.base_number or 0
        authors.update(a for a in session.scalars(
            select(Revision.author_id).where(Revision.artifact_id == item.artifact_id,
                                             Revision.number > low,
                                             Revision.number <= item.revision_number)
        ) if a is not None)
    return authors


def review_refusal(session: Session, request: ChangeRequest, user: User) -> str | None:
    """Why `user` may not give a verdict on `request` now, or None if they may."""
    if REVIEWER not in user.roles:
        return "Only reviewers approve or request changes."
    if user.id in _authors_of(session, request):
        return "You cannot review a change you made: ask another reviewer."
    if request.status not in REVIEWABLE_STATUSES:
        return f"This request is {STATUS_LABELS[request.status].lower()}."
    return None


# --- settings ----------------------------------------------------------------------


def required_approvals(session: Session) -> int:
    row = session.get(Setting, REQUIRED_APPROVALS)
    try:
        value = int(row.value) if row is not None else DEFAULT_REQUIRED_APPROVALS
    except (TypeError, ValueError):
        return DEFAULT_REQUIRED_APPROVALS
    return min(max(value, 1), MAX_REQUIRED_APPROVALS)


def set_required_approvals(session: Session, raw: str | int, *, actor: User) -> int:
    """Admins set how many approvals a request needs; open requests are re-settled."""
    if ADMIN not in actor.roles:
        raise NotAllowed("Only admins change review settings.")
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_REQUIRED_APPROVALS:
        raise ValidationFailed([FieldError(
            "required_approvals", f"Enter a whole number from 1 to {MAX_REQUIRED_APPROVALS}.")])
    row = session.get(Setting, REQUIRED_APPROVALS)
    before = required_approvals(session)
    if row is None:
        row = Setting(key=REQUIRED_APPROVALS, value=value, updated_by=actor.id)
        session.add(row)
    else:
        row.value = value
        row.updated_by = actor.id
        row.updated_at = utcnow()
    session.flush()
    audit.record(session, "settings.change", actor_id=actor.id, object_type="setting",
                 object_id=REQUIRED_APPROVALS, before=before, after=value)
    for request in session.scalars(select(ChangeRequest).where(
            ChangeRequest.status.in_(REVIEWABLE_STATUSES))):
        _settle(session, request, actor_id=actor.id)
    return value


# --- drafts and submission ---------------------------------------------------------------


def _open_item_artifacts(session: Session) -> set[int]:
    return set(session.scalars(
        select(ChangeRequestItem.artifact_id).join(ChangeRequest)
        .where(ChangeRequest.status.in_(OPEN_STATUSES))
    ))


def pending_drafts(session: Session, user: User) -> list[Artifact]:
    """Artifacts this person may submit: ahead of their approved revision, not in review."""
    kinds = editable_kinds(user.roles)
    if not kinds:
        return []
    busy = _open_item_artifacts(session)
    candidates = session.scalars(
        select(Artifact).where(
            Artifact.kind.in_(sorted(kinds)),
            or_(Artifact.approved_number.is_(None),
                Artifact.approved_number != Artifact.head_number))
        .order_by(Artifact.updated_at.desc(), Artifact.id)
    )
    return [a for a in candidates if a.id not in busy]


def open_request_for(session: Session, artifact_id: int) -> ChangeRequest | None:
    return session.scalar(
        select(ChangeRequest).join(ChangeRequestItem)
        .where(ChangeRequestItem.artifact_id == artifact_id,
               ChangeRequest.status.in_(OPEN_STATUSES)))


def submit(session: Session, *, author: User, title: str, description: str,
           artifact_ids: Iterable[int | str]) -> ChangeRequest:
    """Create a change request from drafts and put it in front of reviewers."""
    problem = notifications.header_text_problem(title)
    title = " ".join(title.split())
    description = description.strip()
    errors: list[FieldError] = []
    if problem is not None:
        errors.append(FieldError("title", f"The title becomes the subject of email. {problem}"))
    elif not title:
        errors.append(FieldError("title", "Give the change a title reviewers will recognise."))
    elif len(title) > MAX_TITLE:
        errors.append(FieldError("title", f"Keep the title under {MAX_TITLE} characters."))
    if len(description) > MAX_DESCRIPTION:
        errors.append(FieldError("description",
                                 f"Keep the description under {MAX_DESCRIPTION:,} characters."))
    ids: list[int] = []
    for raw in artifact_ids:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            errors.append(FieldError("artifacts", "That selection was not understood."))
    allowed = {a.id: a for a in pending_drafts(session, author)}
    chosen = [allowed[i] for i in dict.fromkeys(ids) if i in allowed]
    if not ids:
        errors.append(FieldError("artifacts", "Choose at least one draft to submit."))
    elif len(chosen) != len(set(ids)):
        errors.append(FieldError("artifacts", "Some of those drafts are not yours to submit, "
                                 "or are already in review. Reload the page."))
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    request = ChangeRequest(title=title, description=description, author_id=author.id,
                            status="in_review", submitted_at=now, created_at=now,
                            updated_at=now)
    session.add(request)
    for artifact in chosen:
        request.items.append(ChangeRequestItem(artifact_id=artifact.id,
                                               revision_number=artifact.head_number,
                                               base_number=artifact.approved_number))
    session.flush()
    audit.record(session, "change_request.submit", actor_id=author.id,
                 object_type="change_request", object_id=request.id, title=title,
                 items=pins(request))
    notifications.notify(
        session, notifications.people_with_roles(session, [REVIEWER]), kind="review_requested",
        message=f"{author.name} asks for a review: \"{title}\".",
        link=f"/reviews/{request.id}", exclude=author.id)
    return request


def withdraw(session: Session, request: ChangeRequest, *, actor: User) -> None:
    """The author takes the request back; its drafts are free to resubmit."""
    if actor.id != request.author_id:
        raise NotAllowed("Only the author withdraws a change request.")
    if request.status not in OPEN_STATUSES:
        raise ValidationFailed([FieldError(
            "status", f"This request is already {STATUS_LABELS[request.status].lower()}.")])
    was_approved = request.status == "approved"
    _void_reviews(request)
    request.status = "withdrawn"
    request.updated_at = utcnow()
    if was_approved:
        _unapprove(request)
    audit.record(session, "change_request.withdraw", actor_id=actor.id,
                 object_type="change_request", object_id=request.id)


# --- comments and verdicts ----------------------------------------------------------------


def comment(session: Session, request: ChangeRequest, *, author: User, body: str,
            artifact_id: int | str | None = None, line: int | str | None = None) -> Comment:
    """A comment on the whole request, or on one line of one item's diff."""
    body = body.strip()
    errors: list[FieldError] = []
    if not body:
        errors.append(FieldError("body", "Write a comment first."))
    elif len(body) > MAX_COMMENT:
        errors.append(FieldError("body", f"Keep comments under {MAX_COMMENT:,} characters."))
    target: int | None = None
    number: int | None = None
    if artifact_id not in (None, ""):
        try:
            target = int(artifact_id)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            target = -1
        if target not in {item.artifact_id for item in request.items}:
            errors.append(FieldError("artifact_id", "That item is not part of this request."))
    if line not in (None, ""):
        try:
            number = int(line)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            number = 0
        if number < 1 or target is None:
            errors.append(FieldError("line", "Comment on a line of one of the items."))
    if errors:
        raise ValidationFailed(errors)
    note = Comment(change_request_id=request.id, author_id=author.id, body=body,
                   artifact_id=target, line=number)
    session.add(note)
    session.flush()
    audit.record(session, "change_request.comment", actor_id=author.id,
                 object_type="change_request", object_id=request.id, comment=note.id,
                 artifact_id=target, line=number)
    notifications.notify(session, [request.author], kind="comment",
                         message=f"{author.name} commented on \"{request.title}\".",
                         link=f"/reviews/{request.id}", exclude=author.id)
    return note


def pins(request: ChangeRequest) -> dict[str, int]:
    """The exact revisions under review, as "kind:key" -> revision number."""
    return {f"{item.artifact.kind}:{item.artifact.key}": item.revision_number
            for item in sorted(request.items, key=lambda i: i.id)}


def pins_token(request: ChangeRequest) -> str:
    """The pins as one string a review form carries back, to prove what it showed."""
    return ";".join(f"{ref}={n}" for ref, n in sorted(pins(request).items()))


def review(session: Session, request: ChangeRequest, *, reviewer: User, verdict: str,
           body: str, seen: str) -> Review:
    """Approve or request changes on exactly the revisions the reviewer saw (`seen`)."""
    refusal = review_refusal(session, request, reviewer)
    if refusal is not None:
        raise NotAllowed(refusal)
    body = body.strip()
    errors: list[FieldError] = []
    if verdict not in VERDICTS:
        errors.append(FieldError("verdict", "Choose approve or request changes."))
    if verdict == "request_changes" and not body:
        errors.append(FieldError("body", "Say what needs to change."))
    if len(body) > MAX_COMMENT:
        errors.append(FieldError("body", f"Keep it under {MAX_COMMENT:,} characters."))
    if seen != pins_token(request):
        errors.append(FieldError("seen", "The change was edited after you opened it. Reload "
                                 "to see the latest revisions, then review again."))
    if errors:
        raise ValidationFailed(errors)
    for earlier in _active_reviews(request, session):
        if earlier.reviewer_id == reviewer.id:
            earlier.voided = True
    verdict_row = Review(change_request_id=request.id, reviewer_id=reviewer.id,
                         verdict=verdict, body=body, pinned=pins(request))
    session.add(verdict_row)
    session.flush()
    audit.record(session, f"change_request.{verdict}", actor_id=reviewer.id,
                 object_type="change_request", object_id=request.id, pinned=pins(request))
    words = "approved" if verdict == "approve" else "asked for changes to"
    notifications.notify(session, [request.author], kind=verdict,
                         message=f"{reviewer.name} {words} \"{request.title}\".",
                         link=f"/reviews/{request.id}", exclude=reviewer.id)
    _settle(session, request, actor_id=reviewer.id)
    return verdict_row


def _active_reviews(request: ChangeRequest, session: Session) -> list[Review]:
    return list(session.scalars(select(Review).where(
        Review.change_request_id == request.id, Review.voided.is_(False)
    ).order_by(Review.id)))


def approvals(session: Session, request: ChangeRequest) -> list[Review]:
    """Valid approvals: not voided and pinned to the request's current revisions."""
    current = pins(request)
    return [r for r in _active_reviews(request, session)
            if r.verdict == "approve" and r.pinned == current]


def _settle(session: Session, request: ChangeRequest, *, actor_id: int | None) -> None:
    """Derive the request's status from its live verdicts and the required count."""
    if request.status not in REVIEWABLE_STATUSES:
        return
    live = _active_reviews(request, session)
    wants_changes = any(r.verdict == "request_changes" for r in live)
    approved = len({r.reviewer_id for r in approvals(session, request)})
    if wants_changes:
        status = "changes_requested"
    elif approved >= required_approvals(session):
        status = "approved"
    else:
        status = "in_review"
    if status == request.status:
        return
    before = request.status
    request.status = status
    request.updated_at = utcnow()
    if status == "approved":
        for item in request.items:
            item.artifact.approved_number = item.revision_number
        audit.record(session, "change_request.approved", actor_id=actor_id,
                     object_type="change_request", object_id=request.id, pinned=pins(request))
    elif before == "approved":
        _unapprove(request)


def _unapprove(request: ChangeRequest) -> None:
    """Take back an approval: artifacts fall back to what is live."""
    for item in request.items:
        item.artifact.approved_number = item.artifact.published_number


def _void_reviews(request: ChangeRequest) -> int:
    count = 0
    for verdict in request_reviews(request):
        if not verdict.voided:
            verdict.voided = True
            count += 1
    return count


def request_reviews(request: ChangeRequest) -> list[Review]:
    session = Session.object_session(request)
    assert session is not None
    return list(session.scalars(select(Review).where(Review.change_request_id == request.id)
                                .order_by(Review.id)))


# --- any later edit voids the verdicts ------------------------------------------------------


def _reopen_after_edit(session: Session, revision: Revision) -> None:
    items = session.scalars(
        select(ChangeRequestItem).join(ChangeRequest)
        .where(ChangeRequestItem.artifact_id == revision.artifact_id,
               ChangeRequest.status.in_(OPEN_STATUSES),
               ChangeRequestItem.revision_number < revision.number)
    ).all()
    for item in items:
        request = item.change_request
        item.revision_number = revision.number
        voided = _void_reviews(request)
        before = request.status
        if before in REVIEWABLE_STATUSES:
            request.status = "in_review"
        request.updated_at = utcnow()
        if before == "approved":
            _unapprove(request)
        audit.record(session, "change_request.reopened", actor_id=revision.author_id,
                     object_type="change_request", object_id=request.id,
                     artifact=f"{item.artifact.kind}:{item.artifact.key}",
                     revision=revision.number, voided_reviews=voided, was=before)


@event.listens_for(Session, "before_flush")
def _void_on_edit(session: Session, _context: Any, _instances: Any) -> None:
    fresh = [obj for obj in session.new if isinstance(obj, Revision) and obj.number > 1]
    if not fresh:
        return
    with session.no_autoflush:
        for revision in fresh:
            _reopen_after_edit(session, revision)


# --- reading: queues, detail, history and comparison -----------------------------------


@dataclass(frozen=True)
class RequestPage:
    items: list[ChangeRequest]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


QUEUES = {
    "waiting": ("in_review",),
    "open": OPEN_STATUSES,
    "changes": ("changes_requested",),
    "approved": ("approved",),
    "closed": ("published", "withdrawn"),
}


def listing(session: Session, *, queue: str = "open", mine_for: User | None = None,
            page: int = 1, per_page: int = 20) -> RequestPage:
    """Change requests in one queue, newest first; `mine_for` keeps one author's."""
    statuses = QUEUES.get(queue, OPEN_STATUSES)
    stmt = select(ChangeRequest).where(ChangeRequest.status.in_(statuses))
    if mine_for is not None:
        stmt = stmt.where(ChangeRequest.author_id == mine_for.id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = list(session.scalars(stmt.order_by(ChangeRequest.updated_at.desc(),
                                               ChangeRequest.id.desc())
                                 .offset((page - 1) * per_page).limit(per_page)))
    return RequestPage(items, page, per_page, total)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "context", "add", "delete" or "gap"
    old: int | None
    new: int | None
    text: str


def diff_lines(before: str | None, after: str, *, context: int = 3) -> list[DiffLine]:
    """A side-aware line diff with old and new line numbers, for display and line comments."""
    old = before.splitlines() if before is not None else []
    new = after.splitlines()
    # Exact (no junk heuristic) for ordinary sizes; for large sources the heuristic keeps
    # the quadratic worst case of repeated lines away from the review page.
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=len(old) + len(new) > 2_000)
    out: list[DiffLine] = []
    for n, group in enumerate(matcher.get_grouped_opcodes(context)):
        if n:
            out.append(DiffLine("gap", None, None, "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [DiffLine("context", i1 + k + 1, j1 + k + 1, old[i1 + k])
                        for k in range(i2 - i1)]
                continue
            if tag in ("replace", "delete"):
                out += [DiffLine("delete", i + 1, None, old[i]) for i in range(i1, i2)]
            if tag in ("replace", "insert"):
                out += [DiffLine("add", None, j + 1, new[j]) for j in range(j1, j2)]
    return out


@dataclass(frozen=True)
class ItemView:
    item: ChangeRequestItem
    artifact: Artifact
    before: Revision | None
    after: Revision
    lines: list[DiffLine]
    comments: dict[int, list[Comment]]
    item_comments: list[Comment]
    diff: review_diffs.BoundedDiff = field(default_factory=review_diffs.BoundedDiff)

    @property
    def ref(self) -> str:
        return f"{self.artifact.kind}:{self.artifact.key}"

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.kind == "add")

    @property
    def deleted(self) -> int:
        return sum(1 for line in self.lines if line.kind == "delete")


@dataclass(frozen=True)
class RequestView:
    request: ChangeRequest
    items: list[ItemView]
    reviews: list[Review]
    comments: list[Comment]
    approvals: int
    required: int
    token: str
    refusal: str | None
    timeline: list[Any] = field(default_factory=list)


def find_request(session: Session, request_id: int) -> ChangeRequest | None:
    return session.get(ChangeRequest, request_id)


def detail(session: Session, request: ChangeRequest, *, viewer: User) -> RequestView:
    """Everything the review page shows: per-item diffs with line comments, verdicts."""
    all_comments = list(session.scalars(select(Comment).where(
        Comment.change_request_id == request.id).order_by(Comment.created_at, Comment.id)))
    items = []
    for item in request.items:
        artifact = item.artifact
        before = (artifacts.revision(session, artifact, item.base_number)
                  if item.base_number else None)
        after = artifacts.revision(session, artifact, item.revision_number)
        assert after is not None
        diff = review_diffs.bounded_diff(artifacts.body_text(before.body) if before else None,
                                         artifacts.body_text(after.body))
        lines = diff.lines
        by_line: dict[int, list[Comment]] = {}
        whole: list[Comment] = []
        for note in all_comments:
            if note.artifact_id != artifact.id:
                continue
            if note.line is None:
                whole.append(note)
            else:
                by_line.setdefault(note.line, []).append(note)
        items.append(ItemView(item, artifact, before, after, lines, by_line, whole, diff))
    verdicts = request_reviews(request)
    general = [c for c in all_comments if c.artifact_id is None]
    timeline = sorted([*verdicts, *general], key=lambda x: (x.created_at, x.id))
    return RequestView(
        request=request, items=items, reviews=verdicts, comments=general,
        approvals=len({r.reviewer_id for r in approvals(session, request)}),
        required=required_approvals(session), token=pins_token(request),
        refusal=review_refusal(session, request, viewer), timeline=timeline)


def item_diff_text(session: Session, item: ChangeRequestItem) -> str:
    """The complete unified diff of one change-request item (the review page's download)."""
    artifact = item.artifact
    before = artifacts.revision(session, artifact, item.base_number) if item.base_number else None
    after = artifacts.revision(session, artifact, item.revision_number)
    assert after is not None
    ref = f"{artifact.kind}:{artifact.key}"
    return "\n".join(artifacts.unified_diff(
        before.body if before else None, after.body,
        before_label=f"{ref}@{item.base_number}" if before else "/dev/null",
        after_label=f"{ref}@{item.revision_number}")) + "\n"


@dataclass(frozen=True)
class Comparison:
    artifact: Artifact
    a: Revision
    b: Revision
    lines: list[DiffLine]


def history(session: Session, kind: str, key: str) -> tuple[Artifact, list[Revision]] | None:
    artifact = artifacts.find(session, kind, key)
    if artifact is None:
        return None
    return artifact, artifacts.history(session, artifact)


def compare(session: Session, kind: str, key: str, a: int, b: int) -> Comparison | None:
    """Any two revisions of one artifact, as a line diff (None if either is missing)."""
    artifact = artifacts.find(session, kind, key)
    if artifact is None:
        return None
    first = artifacts.revision(session, artifact, a)
    second = artifacts.revision(session, artifact, b)
    if first is None or second is None:
        return None
    return Comparison(artifact, first, second,
                      diff_lines(artifacts.body_text(first.body),
                                 artifacts.body_text(second.body)))


def revision_labels(session: Session, artifact: Artifact) -> Mapping[int, str]:
    """Which revisions are approved and live, for the history page's badges."""
    labels: dict[int, str] = {}
    if artifact.approved_number:
        labels[artifact.approved_number] = "approved"
    if artifact.published_number:
        labels[artifact.published_number] = "live"
    return labels


# --- rendered before/after and decision changes ------------------------------------------

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


def _samples(session: Session, limit: int) -> list[tuple[str, str, dict[str, Any]]]:
    from studio.models import SampleInteraction

    return [(s.key, s.name, dict(s.body or {})) for s in session.scalars(
        select(SampleInteraction).order_by(SampleInteraction.key).limit(limit))]


def render_offer(body: Mapping[str, Any] | None, sample: Mapping[str, Any],
                 layouts: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """An offer revision rendered for one sample in the review's channels, as plain data:
    channel -> {"html" | "text", "problems"}; None when there is no such revision."""
    if body is None:
        return None
    from content.channels import RenderContext, render_variants
    from content.diagnostics import ContentError
    from content.model import Layout, Offer

    try:
        offer = Offer.from_dict(dict(body))
    except ContentError as failed:
        return {"error": "; ".join(d.message for d in failed.diagnostics)}
    chosen: dict[str, Layout] = {}
    for key, layout in sorted(layouts.items()):
        channel = str(layout.get("channel", ""))
        if channel and channel not in chosen:
            chosen[channel] = Layout(key=key, name=str(layout.get("name", key)), channel=channel,  # type: ignore[arg-type]
                                     source=str(layout.get("source", "")),
                                     compiled_html=str(layout.get("compiled_html", "")))
    context = RenderContext(customer=sample.get("customer") or {},
                            inquiry=sample.get("inquiry") or {}, data=sample.get("data") or {})
    try:
        variants = render_variants(offer, chosen, context, channels=RENDER_CHANNELS)
    except ContentError as failed:
        return {"error": "; ".join(d.message for d in failed.diagnostics)}
    return {
        channel: {"html": v.html, "text": v.text,
                  "buttons": [b.label for b in v.buttons],
                  "problems": [d.message for d in v.diagnostics if d.is_error]}
        for channel, v in variants.items()
    }


def _offer_keys(decision: Mapping[str, Any]) -> list[str]:
    keys = []
    for group in ("offers", "follow_ups"):
        for entry in decision.get(group) or []:
            key = entry.get("offer") or entry.get("key") if isinstance(entry, Mapping) else entry
            if key:
                keys.append(f"{key} (later)" if group == "follow_ups" else str(key))
    return keys


def impact(session: Session, request: ChangeRequest, *, toolchain: Any = None) -> Impact:
    """What the change does: offers rendered before/after for sample interactions, and
    for rulesets, which sample decisions change. Never raises for content problems."""
    from studio.services import publish, workspace

    toolchain = toolchain or publish.default_toolchain()
    head = workspace.snapshot(session, which="head")
    layouts = head.layouts
    result = Impact()
    samples = _samples(session, SAMPLE_DECISIONS)
    if not samples:
        result.notes.append("There are no sample interactions yet, so offers render with "
                            "empty customer data and no decisions can be compared.")
    render_with = samples[:SAMPLE_RENDERS] or [("", "No sample", {})]
    for item in request.items:
        artifact = item.artifact
        before = (artifacts.revision(session, artifact, item.base_number)
                  if item.base_number else None)
        after = artifacts.revision(session, artifact, item.revision_number)
        if after is None:
            continue
        if artifact.kind == "offer":
            result.renders[artifact.id] = [
                SampleRender(key, name,
                             render_offer({**before.body, "key": artifact.key} if before else None,
                                          body, layouts),
                             render_offer({**after.body, "key": artifact.key}, body, layouts) or {})
                for key, name, body in render_with]
        elif artifact.kind == "ruleset" and samples:
            _decision_changes(result, artifact, before, after, head, samples, toolchain)
    return result


def _decision_changes(result: Impact, artifact: Artifact, before: Revision | None,
                      after: Revision, head: Any, samples: list[tuple[str, str, dict[str, Any]]],
                      toolchain: Any) -> None:
    schema = head.schema
    try:
        schema = dict(schema) if schema is not None else toolchain.default_schema()
        offers = head.offers
        compiled = [toolchain.compile_ruleset(str(rev.body.get("source", "")), schema=schema,
                                              offers=offers, name=artifact.name)
                    if rev is not None else None for rev in (before, after)]
        if compiled[1] is None or compiled[1].ir is None:
            result.notes.append(f"{artifact.name} does not compile yet, so its decisions "
                                "cannot be compared.")
            return
        changes = []
        for key, name, body in samples:
            old = _offer_keys(toolchain.decide(compiled[0].ir, body, offers)) \
                if compiled[0] is not None and compiled[0].ir is not None else []
            new = _offer_keys(toolchain.decide(compiled[1].ir, body, offers))
            if old != new:
                changes.append(DecisionChange(key, name, old, new))
    except (ImportError, AttributeError) as missing:
        result.notes.append(f"Decisions cannot be compared here yet ({missing}).")
        return
    result.decisions[artifact.id] = changes
    result.checked[artifact.id] = len(samples)


def email_preview(session: Session, request: ChangeRequest, item_id: int, side: str,
                  sample_key: str) -> str | None:
    """One offer item's email rendered for one sample, as a whole HTML document."""
    from studio.services import workspace

    item = next((i for i in request.items if i.id == item_id), None)
    if item is None or item.artifact.kind != "offer":
        return None
    number = item.revision_number if side == "after" else item.base_number
    revision = artifacts.revision(session, item.artifact, number) if number else None
    if revision is None:
        return None
    samples = {key: body for key, _name, body in _samples(session, SAMPLE_DECISIONS)}
    sample = samples.get(sample_key, {})
    rendered = render_offer({**revision.body, "key": item.artifact.key}, sample,
                            workspace.snapshot(session, which="head").layouts) or {}
    email = rendered.get("email_html") or {}
    if email.get("html"):
        return str(email["html"])
    problems = rendered.get("error") or "; ".join(email.get("problems") or []) \
        or "This offer has no email layout to render into."
    from markupsafe import escape

    return f"<!doctype html><p style=\"font-family:sans-serif\">{escape(problems)}</p>"
