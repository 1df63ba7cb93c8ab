"""Background jobs: run by a real huey consumer on the SQLite storage, kept across restarts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from studio import audit, migrate
from studio.jobs import get_jobs, job
from studio.models import AuditEvent
from tests.factories.apps import make_app

_attempts: dict[str, int] = {}


@job("tests.write_marker")
def _write_marker(session: Session, *, marker: str) -> str:
    audit.record(session, "probe.job", actor_id=None, object_type="probe", object_id=marker)
    return marker


@job("tests.flaky", retries=2, retry_delay=0)
def _flaky(session: Session, *, marker: str) -> str:
    _attempts[marker] = _attempts.get(marker, 0) + 1
    audit.record(session, "probe.attempt", actor_id=None, object_type="probe", object_id=marker)
    if _attempts[marker] < 2:
        raise RuntimeError("the first attempt fails")
    return marker


def _markers(url: str, action: str) -> list[str]:
    engine = create_engine(url)
    with Session(engine) as session:
        found = list(
            session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == action))
        )
    engine.dispose()
    return found


def _wait(result: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = result.get()
        if value is not None:
            return value
        time.sleep(0.05)
    raise AssertionError("the job did not finish in time")


def _wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the job did not finish in time")
        time.sleep(0.05)


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'studio.sqlite3'}"
    migrate.upgrade(url)
    return url


def test_a_job_runs_in_the_background_and_commits_its_work(database: str, tmp_path: Path) -> None:
    app = make_app(database, tmp_path / "instance", JOBS_IMMEDIATE=False)
    jobs = get_jobs(app)
    jobs.start_consumer(workers=1)
    try:
        assert _wait(jobs.enqueue("tests.write_marker", marker="one")) == "one"
    finally:
        jobs.stop_consumer()
    assert _markers(database, "probe.job") == ["one"]


def test_a_failing_job_is_retried_and_its_failed_attempt_leaves_nothing(
    database: str, tmp_path: Path
) -> None:
    app = make_app(database, tmp_path / "instance", JOBS_IMMEDIATE=False)
    jobs = get_jobs(app)
    jobs.start_consumer(workers=1)
    try:
        jobs.enqueue("tests.flaky", marker="retry-me")
        _wait_for(lambda: _markers(database, "probe.attempt"))
    finally:
        jobs.stop_consumer()
    assert _attempts["retry-me"] == 2
    assert _markers(database, "probe.attempt") == ["retry-me"]


def test_a_queued_job_survives_a_restart_of_the_studio(database: str, tmp_path: Path) -> None:
    before = make_app(database, tmp_path / "instance", JOBS_IMMEDIATE=False)
    queued = get_jobs(before).enqueue("tests.write_marker", marker="after-restart")
    assert queued is not None
    del before

    after = make_app(database, tmp_path / "instance", JOBS_IMMEDIATE=False)
    jobs = get_jobs(after)
    jobs.start_consumer(workers=1)
    try:
        _wait_for(lambda: _markers(database, "probe.job"))
    finally:
        jobs.stop_consumer()
    assert _markers(database, "probe.job") == ["after-restart"]
