"""The `studio` command: migrations, the demo workspace, creating people."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from studio.cli import main
from studio.demo import DEMO_PEOPLE
from studio.models import Artifact, Bundle, User


@pytest.fixture
def env(tmp_path: Path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("STUDIO_DATABASE_URL", url)
    monkeypatch.setenv("STUDIO_INSTANCE_PATH", str(tmp_path / "instance"))
    import studio.app

    monkeypatch.setattr(studio.app, "DEFAULT_INSTANCE", tmp_path / "instance")
    return url


def _emails(url: str) -> list[str]:
    engine = create_engine(url)
    with Session(engine) as session:
        emails = list(session.scalars(select(User.email).order_by(User.email)))
    engine.dispose()
    return emails


def test_db_upgrade_then_demo_seeds_every_role_and_is_idempotent(env: str) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    first = runner.invoke(main, ["demo"])
    assert first.exit_code == 0, first.output
    assert not re.search(r"\b0 created", first.output)
    second = runner.invoke(main, ["demo"])
    assert ": 0 created" in second.output
    assert _emails(env) == sorted(p.email for p in DEMO_PEOPLE)
    engine = create_engine(env)
    with Session(engine) as session:
        kinds = dict(
            session.execute(select(Artifact.kind, func.count()).group_by(Artifact.kind)).all()
        )
        bundles = session.scalar(select(func.count()).select_from(Bundle))
    engine.dispose()
    assert kinds["offer"] == 12 and kinds["ruleset"] == 5 and kinds["layout"] == 5
    assert bundles == 1


def test_users_create_makes_a_person_and_refuses_a_duplicate(env: str) -> None:
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade"])
    args = [
        "users",
        "create",
        "--email",
        "lee@example.com",
        "--name",
        "Lee",
        "--role",
        "admin",
        "--password",
        "a long password",
    ]
    assert runner.invoke(main, args).exit_code == 0
    again = runner.invoke(main, args)
    assert again.exit_code == 1
    assert "Someone already has the email lee@example.com." in again.output
    assert _emails(env) == ["lee@example.com"]
