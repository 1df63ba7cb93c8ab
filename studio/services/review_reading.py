"""What the review pages read: queues of change requests, one request with its diffs,
an artifact's history, and any two revisions compared."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.models import (
    Artifact,
    ChangeRequest,
    ChangeRequestItem,
    Comment,
    Review,
    Revision,
    User,
)
from studio.services import approvals, artifacts, review_diffs
from studio.services.diffs import DiffLine, diff_lines
from studio.services.pagination import Page, clamp
from studio.services.permissions import review_refusal
from studio.services.review_settings import required_approvals
from studio.services.review_states import OPEN_STATUSES

QUEUES = {
    "waiting": ("in_review",),
    "open": OPEN_STATUSES,
    "changes": ("changes_requested",),
    "approved": ("approved",),
    "closed": ("published", "withdrawn"),
}


def listing(
    session: Session,
    *,
    queue: str = "open",
    mine_for: User | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[ChangeRequest]:
    """Change requests in one queue, newest first; `mine_for` keeps one author's."""
    statuses = QUEUES.get(queue, OPEN_STATUSES)
    stmt = select(ChangeRequest).where(ChangeRequest.status.in_(statuses))
    if mine_for is not None:
        stmt = stmt.where(ChangeRequest.author_id == mine_for.id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = clamp(page, total=total, per_page=per_page)
    items = list(
        session.scalars(
            stmt.order_by(ChangeRequest.updated_at.desc(), ChangeRequest.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return Page(items, page, per_page, total)


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
    all_comments = list(
        session.scalars(
            select(Comment)
            .where(Comment.change_request_id == request.id)
            .order_by(Comment.created_at, Comment.id)
        )
    )
    items = []
    for item in request.items:
        artifact = item.artifact
        before = (
            artifacts.revision(session, artifact, item.base_number) if item.base_number else None
        )
        after = artifacts.revision(session, artifact, item.revision_number)
        assert after is not None
        diff = review_diffs.bounded_diff(
            artifacts.body_text(before.body) if before else None, artifacts.body_text(after.body)
        )
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
    verdicts = approvals.request_reviews(request)
    general = [c for c in all_comments if c.artifact_id is None]
    timeline: list[Review | Comment] = sorted(
        [*verdicts, *general], key=lambda x: (x.created_at, x.id)
    )
    return RequestView(
        request=request,
        items=items,
        reviews=verdicts,
        comments=general,
        approvals=len({r.reviewer_id for r in approvals.approvals(session, request)}),
        required=required_approvals(session),
        token=approvals.pins_token(request),
        refusal=review_refusal(session, request, viewer),
        timeline=timeline,
    )


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
    return Comparison(
        artifact,
        first,
        second,
        diff_lines(artifacts.body_text(first.body), artifacts.body_text(second.body)),
    )


def revision_labels(session: Session, artifact: Artifact) -> Mapping[int, str]:
    """Which revisions are approved and live, for the history page's badges."""
    labels: dict[int, str] = {}
    if artifact.approved_number:
        labels[artifact.approved_number] = "approved"
    if artifact.published_number:
        labels[artifact.published_number] = "live"
    return labels


def item_diff_text(session: Session, item: ChangeRequestItem) -> str:
    """The complete unified diff of one change-request item (the review page's download)."""
    artifact = item.artifact
    before = artifacts.revision(session, artifact, item.base_number) if item.base_number else None
    after = artifacts.revision(session, artifact, item.revision_number)
    assert after is not None
    ref = f"{artifact.kind}:{artifact.key}"
    return (
        "\n".join(
            artifacts.unified_diff(
                before.body if before else None,
                after.body,
                before_label=f"{ref}@{item.base_number}" if before else "/dev/null",
                after_label=f"{ref}@{item.revision_number}",
            )
        )
        + "\n"
    )
