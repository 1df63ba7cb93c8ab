"""A bounded memo of rendered variants, keyed by exactly what a render reads.

Rendering is a pure function of the offer, the chosen layouts, the interaction's
template vocabulary (customer, inquiry, data), the link builders, the limits and the
channels asked for: the same inputs always give the same variants. Downstream
decisions repeat those inputs constantly (the same offer in the same layout for
customers whose personal fields are the same), and the email text variant alone runs
inscriptis over the whole email, so a decision that hits this memo skips the render.

The key holds the offer and layouts themselves (frozen dataclasses compared by value)
and the context's data as canonical JSON, so nothing but identical inputs can share an
entry. A render that ran out of time is never kept: its timeout says nothing about the
next attempt. Entries are evicted least recently used first.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

#: Distinct renders kept; a rendered offer is a few tens of kilobytes.
MAX_ENTRIES = 512


def context_key(customer: Any, inquiry: Any, data: Any) -> str | None:
    """Canonical text of a context's data, or None when it has no canonical text."""
    try:
        return json.dumps(
            (customer, inquiry, data),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=True,
        )
    except (TypeError, ValueError, RecursionError):
        return None


class RenderMemo:
    """A thread-safe least-recently-used map from render inputs to results."""

    def __init__(self, size: int = MAX_ENTRIES) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_render(self, key: Hashable, render: Callable[[], T], keep: Callable[[T], bool]) -> T:
        key = _Hashed(key)  # hashed once, not again for each look-up and move
        with self._lock:
            found = self._items.get(key, _MISSING)
            if found is not _MISSING:
                self._items.move_to_end(key)
                self.hits += 1
                return found  # type: ignore[no-any-return]
            self.misses += 1
        result = render()
        if keep(result):
            with self._lock:
                self._items[key] = result
                self._items.move_to_end(key)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return result

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


_MISSING = object()


class _Hashed:
    """A key with its hash worked out once: a key holds an offer and layouts, whose
    hashes walk every field, and a hit looks the key up twice (find, then mark used)."""

    __slots__ = ("key", "hash")

    def __init__(self, key: Hashable) -> None:
        self.key = key
        self.hash = hash(key)

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        return self is other or (
            type(other) is _Hashed and self.hash == other.hash and self.key == other.key
        )
