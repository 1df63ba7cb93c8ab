"""Background work: huey, on SQLite by default and on Redis at scale.

Why huey: it is a maintained job library with the two storages this studio needs (a
SQLite file for the embedded default, so a laptop needs no extra service; Redis when
`STUDIO_REDIS_URL` is set, so several machines share one queue), retries with a delay,
periodic tasks, revocation (cancel), and results; jobs are kept in the storage, so they
survive a restart of the studio or the worker. docs/operations.md says how to run it.

Services register plain functions with `@job("name")` at import time; they know nothing
of huey. `init_app` wraps each registered function into a huey task that runs it inside
an app context with a database session of its own: committed when the function returns,
rolled back when it raises (then huey retries it if the job allows retries).

- `studio serve` runs a consumer in the same process (threads), so the embedded default
  needs nothing else; `studio worker` runs consumers on their own (more workers, other
  machines with Redis).
- Tests set `STUDIO_JOBS_IMMEDIATE=1` (or the `JOBS_IMMEDIATE` override): jobs run at once,
  in the caller's thread, against the same storage code paths.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any, Final

from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import Result
from huey.consumer import Consumer
from sqlalchemy.orm import Session

from studio.db import after_commit, get_database
from studio.job_registry import _REGISTRY, JobSpec, job, registered  # noqa: F401

_EXTENSION: Final = "studio.jobs"


class Jobs:
    """The app's queue: one huey instance and a task per registered job."""

    def __init__(self, app: Flask, huey: Huey) -> None:
        self.app = app
        self.huey = huey
        self._tasks: dict[str, Any] = {}
        self._consumer: Consumer | None = None
        for spec in _REGISTRY.values():
            self._wrap(spec)

    def _wrap(self, spec: JobSpec) -> None:
        app = self.app

        def run(**kwargs: Any) -> Any:
            with app.app_context():
                session: Session = get_database(app).session()
                try:
                    result = spec.function(session, **kwargs)
                    session.commit()
                    return result
                except BaseException:
                    session.rollback()
                    raise
                finally:
                    session.close()

        run.__name__ = spec.name.replace(".", "_")
        options: dict[str, Any] = {
            "retries": spec.retries,
            "retry_delay": spec.retry_delay,
            "name": spec.name,
        }
        if spec.periodic:
            minute, hour, day, month, weekday = spec.periodic.split()
            self._tasks[spec.name] = self.huey.periodic_task(
                crontab(minute, hour, day, month, weekday), **options
            )(run)
        else:
            self._tasks[spec.name] = self.huey.task(**options)(run)

    def enqueue(self, name: str, *, delay: float | None = None, **kwargs: Any) -> Result | None:
        """Queue the job `name` with keyword arguments (run at once in immediate mode)."""
        task = self._tasks[name]
        if delay:
            return task.schedule(kwargs=kwargs, delay=delay)
        return task(**kwargs)

    def revoke(self, result: Result) -> None:
        result.revoke()

    def start_consumer(self, workers: int = 2) -> None:
        """Run a consumer in background threads of this process (`studio serve`)."""
        if self.huey.immediate or self._consumer is not None:
            return
        consumer = self.huey.create_consumer(
            workers=workers, worker_type="thread", periodic=True, check_worker_health=True
        )
        self._consumer = consumer
        # huey's `start()` claims SIGTERM, SIGINT and SIGHUP for the loop of its `run()`,
        # which this process never runs: left so, Ctrl+C and `kill` were swallowed and
        # the server kept running. The process keeps its own handlers.
        kept = (
            {s: signal.getsignal(s) for s in _CLAIMED_SIGNALS}
            if threading.current_thread() is threading.main_thread()
            else {}
        )
        consumer.start()  # worker and scheduler threads
        for signum, handler in kept.items():
            signal.signal(signum, handler)

    def stop_consumer(self) -> None:
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None


_CLAIMED_SIGNALS: Final = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)


def _make_huey(app: Flask, overrides: dict[str, Any]) -> Huey:
    immediate = bool(
        overrides.get("JOBS_IMMEDIATE", os.environ.get("STUDIO_JOBS_IMMEDIATE", "") == "1")
    )
    redis_url = overrides.get("REDIS_URL") or os.environ.get("STUDIO_REDIS_URL")
    if redis_url:
        huey: Huey = RedisHuey("studio", url=redis_url, immediate=immediate, results=True, utc=True)
    else:
        path = Path(app.instance_path) / "jobs.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(
            "studio", filename=str(path), immediate=immediate, results=True, utc=True, timeout=15
        )
    return huey


def init_app(app: Flask, overrides: dict[str, Any] | None = None) -> Jobs:
    jobs = Jobs(app, _make_huey(app, overrides or {}))
    app.extensions[_EXTENSION] = jobs
    return jobs


def enqueue_after_commit(name: str, **kwargs: Any) -> None:
    """Queue the job `name` once this request's unit of work commits (never if it rolls
    back), so the job, which has its own session, finds the rows the request wrote."""
    jobs = get_jobs()
    after_commit(lambda: jobs.enqueue(name, **kwargs))


def get_jobs(app: Flask | None = None) -> Jobs:
    jobs: Jobs = (app or current_app).extensions[_EXTENSION]
    return jobs
