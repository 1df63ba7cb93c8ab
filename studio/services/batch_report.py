"""What a batch endpoint answers: per item, stored, duplicate or rejected, and the counts.

`/api/v1/events` and `/api/v1/decisions` take batches in which each item stands or falls
alone; both answer in this one shape (the client's outbox reads it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from studio.errors import Refusal


class ItemOutcome(Protocol):
    @property
    def status(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=ItemOutcome)


def refusal_dict(refusal: Refusal) -> dict[str, Any]:
    """A refused item's error, as the API writes it."""
    return {"code": refusal.code, "message": refusal.message, "field": refusal.field}


@dataclass(frozen=True)
class BatchReport(Generic[R]):
    results: list[R]

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stored": self.count("stored"),
            "duplicates": self.count("duplicate"),
            "rejected": self.count("rejected"),
            "results": [r.to_dict() for r in self.results],
        }
