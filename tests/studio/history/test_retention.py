"""Retention: interactions older than the setting are deleted by the daily job."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.errors import ValidationFailed
from studio.jobs import registered
from studio.models import Interaction
from studio.services import interaction_import, retention
from tests.factories.interactions import interaction, write_jsonl

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _store(session: Session, tmp_path: Path, ages: list[int]) -> None:
    rows = [interaction(n, days_ago=age, now=NOW) for n, age in enumerate(ages)]
    path = write_jsonl(tmp_path / "h.jsonl", rows)
    record = interaction_import.create(
        session, path=path, filename=path.name, redact=False, actor_id=None
    )
    interaction_import.run(session, record.id)


def test_interactions_older_than_the_retention_are_deleted(
    session: Session, tmp_path: Path
) -> None:
    _store(session, tmp_path, [1, 10, 40, 400])
    retention.set_retention_days(session, "30", actor_id=None)
    assert retention.apply(session, now=NOW) == 2
    assert sorted(session.scalars(select(Interaction.interaction_id))) == ["i-0", "i-1"]


def test_without_a_retention_nothing_is_deleted(session: Session, tmp_path: Path) -> None:
    _store(session, tmp_path, [1, 4000])
    retention.set_retention_days(session, "", actor_id=None)
    assert retention.apply(session, now=NOW) == 0
    assert len(list(session.scalars(select(Interaction.id)))) == 2


@pytest.mark.parametrize("raw", ["thirty", "0", "-5", "999999"])
def test_a_bad_retention_is_refused(session: Session, raw: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        retention.set_retention_days(session, raw, actor_id=None)
    assert refused.value.errors[0].field == "retention_days"


def test_retention_runs_daily_as_a_periodic_job() -> None:
    assert registered()["interactions.retention"].periodic == "17 3 * * *"
