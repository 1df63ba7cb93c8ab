"""One page of a listing: the rows shown, which page this is, and how many there are.

Every list in the studio (people, offers, samples, artifacts, audit events, change
requests, assets, bundles, the inbox) is a `Page` of its rows; listings that also
carry facets for their filters (tags, owners, actors, unread count) extend it with
those fields only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` rows fill; an empty listing still has one (empty) page."""
    return max(1, -(-total // per_page))


def clamp(page: int, *, total: int, per_page: int) -> int:
    """`page` moved into the range of pages that exist."""
    return min(max(1, page), page_count(total, per_page))


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)
