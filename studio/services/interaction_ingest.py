"""Interactions sent by downstream systems through the API (`POST /api/v1/interactions`).

The same row as a file import: checked against the current interaction schema by
`RowChecker` (the same problems, worded by the schema), redacted with `redact_body` when
the batch asks for it, stored by `interaction_store` (a duplicate interaction id, stored
already or earlier in the batch, is reported and skipped). Each item stands or falls
alone and gets its own result (`studio.services.batch_report`); nothing is committed
here (the request's unit of work commits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.orm import Session

from studio.errors import Refusal
from studio.services import interaction_store, rulesets
from studio.services.batch_report import BatchReport, refusal_dict
from studio.services.interaction_rows import Row, RowChecker, row_of
from studio.services.json_shape import check_object
from studio.services.redaction import redact_body

MAX_INTERACTIONS: Final = 500


@dataclass(frozen=True)
class InteractionResult:
    index: int
    interaction_id: str | None
    status: str  # stored, duplicate or rejected
    error: Refusal | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "interaction_id": self.interaction_id,
            "status": self.status,
        }
        if self.error is not None:
            out["error"] = refusal_dict(self.error)
        return out


class InteractionReport(BatchReport[InteractionResult]):
    """The answer to one batch of interactions."""


def ingest(session: Session, body: Any) -> InteractionReport | Refusal:
    """Store each valid, new interaction of the batch (flushed, not committed)."""
    problem = check_object(body, "", allowed=("interactions", "redact"), required=("interactions",))
    if problem is not None:
        return problem
    items = body["interactions"]
    if not isinstance(items, list):
        return Refusal("invalid_type", "'interactions' must be a list.", field="interactions")
    if len(items) > MAX_INTERACTIONS:
        return Refusal(
            "too_many_interactions",
            f"Send at most {MAX_INTERACTIONS} interactions per request (got {len(items)}).",
            field="interactions",
            kind="too_large",
        )
    redact = body.get("redact", False)
    if not isinstance(redact, bool):
        return Refusal("invalid_type", "'redact' must be true or false.", field="redact")
    checker = RowChecker(rulesets.current_schema(session))
    results: dict[int, InteractionResult] = {}
    rows: dict[int, Row] = {}
    for index, raw in enumerate(items):
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        interaction_id = raw_id if isinstance(raw_id, str) else None
        problems = checker.problems(raw)
        if problems:
            first = problems[0]
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            results[index] = InteractionResult(
                index,
                interaction_id,
                "rejected",
                Refusal(
                    "invalid_interaction",
                    f"{first.field}: {first.message}{more}",
                    field=f"interactions[{index}].{first.field}",
                ),
            )
            continue
        rows[index] = row_of(redact_body(raw) if redact else raw)
    stored = interaction_store.store(session, list(rows.values()), import_id=None, redacted=redact)
    claimed: set[str] = set()
    for index, row in rows.items():
        fresh = row.interaction_id in stored and row.interaction_id not in claimed
        claimed.add(row.interaction_id)
        results[index] = InteractionResult(
            index, row.interaction_id, "stored" if fresh else "duplicate"
        )
    return InteractionReport([results[i] for i in sorted(results)])
