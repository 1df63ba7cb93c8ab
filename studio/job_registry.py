"""Which functions are background jobs: a registry without Flask or huey.

Services mark a function `fn(session, **kwargs)` with `@job("area.name")` at import time;
`studio.jobs` turns every registered function into a huey task when the app is built.
Kept apart from `studio.jobs` so services can register jobs without importing Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JobSpec:
    """A function registered as a job, with how huey should treat it."""

    name: str
    function: Callable[..., Any]
    retries: int = 0
    retry_delay: int = 0
    periodic: str | None = None  # a crontab "minute hour day month day_of_week"


_REGISTRY: dict[str, JobSpec] = {}


def job(
    name: str, *, retries: int = 0, retry_delay: int = 0, periodic: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `function(session, **kwargs)` as the job `name` (import time, no huey)."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        if name in _REGISTRY and _REGISTRY[name].function is not function:
            raise ValueError(f"a job named {name!r} is already registered")
        _REGISTRY[name] = JobSpec(name, function, retries, retry_delay, periodic)
        return function

    return register


def registered() -> dict[str, JobSpec]:
    return dict(_REGISTRY)
