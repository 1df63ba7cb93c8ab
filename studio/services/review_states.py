"""The words of a change request's life: its statuses and the verdicts a reviewer gives.

A request is open while it can still change (draft, in review, changes requested,
approved) and reviewable while reviewers can still give verdicts on it.
"""

from __future__ import annotations

from typing import Final

OPEN_STATUSES: Final = ("draft", "in_review", "changes_requested", "approved")
REVIEWABLE_STATUSES: Final = ("in_review", "changes_requested", "approved")
VERDICTS: Final = ("approve", "request_changes")

STATUS_LABELS: Final = {
    "draft": "Draft",
    "in_review": "In review",
    "changes_requested": "Changes requested",
    "approved": "Approved",
    "published": "Published",
    "withdrawn": "Withdrawn",
}
