"""Demo: approve and publish whatever the other demo parts seeded, as bundle v1.

A new workspace then starts from a published state, so the bundles page, the API and the
review diffs (against the approved revisions) all have something real to show; the
inbox notes this bookkeeping produced are marked read so nobody starts with noise. Skipped
when any bundle exists, or when the seeded content does not compile.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.errors import PublishRefused
from studio.models import Bundle, User
from studio.services import approvals, notifications, publish, signing, submission, verdicts

SEED_ORDER = 90

log = logging.getLogger(__name__)


def seed(session: Session, people: dict[str, User]) -> list[str]:
    if session.scalar(select(Bundle.id).limit(1)) is not None:
        return []
    reviewer = people.get("rita@demo.studio")
    if reviewer is None or not has_app_context():
        return []
    created: list[str] = []
    for email, title in (
        ("mara@demo.studio", "Demo offers and layouts"),
        ("sam@demo.studio", "Demo rulesets, schema, lexicon and contact policy"),
    ):
        author = people.get(email)
        if author is None:
            continue
        drafts = submission.pending_drafts(session, author)
        if not drafts:
            continue
        request = submission.submit(
            session,
            author=author,
            title=title,
            description="The demo workspace as it was first published.",
            artifact_ids=[a.id for a in drafts],
        )
        verdicts.review(
            session,
            request,
            reviewer=reviewer,
            verdict="approve",
            body="Demo approval.",
            seen=approvals.pins_token(request),
        )
        created.append(f"change request {request.id}")
    if not created:
        return []
    ring = signing.load_or_create_keys(Path(current_app.instance_path))
    try:
        with session.begin_nested():
            bundle = publish.publish(session, actor=reviewer, ring=ring)
    except PublishRefused as refused:
        log.warning(
            "Demo content not published: %s",
            "; ".join(p.message for p in refused.problems if p.severity == "error"),
        )
        return created
    for person in people.values():
        notifications.mark_read(session, person.id)
    return [*created, f"bundle v{bundle.version}"]
