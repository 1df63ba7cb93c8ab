"""A decision's trace that is worked out when first read, not when deciding.

A trace lists a row for every rule the index did not skip: thousands of dicts per
decision on a large ruleset, most of which nobody reads (a matrix cell, a decision
answered without showing why). `Trace` is a real `dict` (JSON, Jinja, `isinstance`,
`==` and copies treat it as one) whose rows are built by a function the first time
anything reads it: an item, a key, its length, its items when serialised. The
function works from a snapshot of the interaction taken when deciding, so the rows
say what they would have said if built at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

_FILLING = threading.Lock()


class Trace(dict[str, Any]):
    """A dict filled from `build()` on first read. `eager` holds the parts already known
    (their keys keep the storage non-empty, which the C JSON encoder checks before it
    asks for the items)."""

    __slots__ = ("_build",)

    def __init__(self, build: Callable[[], dict[str, Any]], eager: dict[str, Any]) -> None:
        super().__init__(eager)
        self._build: Callable[[], dict[str, Any]] | None = build

    def _ready(self) -> None:
        if self._build is not None:
            with _FILLING:
                build = self._build
                if build is not None:
                    full = build()
                    dict.clear(self)
                    dict.update(self, full)
                    self._build = None

    def __getitem__(self, key: str) -> Any:
        self._ready()
        return dict.__getitem__(self, key)

    def __iter__(self) -> Iterator[str]:
        self._ready()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._ready()
        return dict.__len__(self)

    def __contains__(self, key: object) -> bool:
        self._ready()
        return dict.__contains__(self, key)

    def __eq__(self, other: object) -> bool:
        self._ready()
        if isinstance(other, Trace):
            other._ready()
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __repr__(self) -> str:
        self._ready()
        return dict.__repr__(self)

    def __reduce__(self) -> tuple[Any, ...]:
        """Copies and pickles are plain dicts, filled."""
        self._ready()
        return (dict, (dict(dict.items(self)),))

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return self.__reduce__()

    def __or__(self, other: Any) -> dict[str, Any]:  # type: ignore[override]  # a plain dict
        self._ready()
        merged: dict[str, Any] = dict(dict.items(self))
        merged.update(other)
        return merged

    def __ior__(self, other: Any) -> Trace:  # type: ignore[override]  # fills first
        self._ready()
        dict.update(self, other)
        return self

    def get(self, key: str, default: Any = None) -> Any:
        self._ready()
        return dict.get(self, key, default)

    def keys(self) -> Any:
        self._ready()
        return dict.keys(self)

    def values(self) -> Any:
        self._ready()
        return dict.values(self)

    def items(self) -> Any:
        self._ready()
        return dict.items(self)

    def copy(self) -> dict[str, Any]:
        self._ready()
        return dict(dict.items(self))

    def __setitem__(self, key: str, value: Any) -> None:
        self._ready()
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: str) -> None:
        self._ready()
        dict.__delitem__(self, key)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._ready()
        return dict.setdefault(self, key, default)

    def pop(self, key: str, *default: Any) -> Any:
        self._ready()
        return dict.pop(self, key, *default)

    def popitem(self) -> tuple[str, Any]:
        self._ready()
        return dict.popitem(self)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._ready()
        dict.update(self, *args, **kwargs)

    def clear(self) -> None:
        self._ready()
        dict.clear(self)

    def __reversed__(self) -> Iterator[str]:
        self._ready()
        return dict.__reversed__(self)
