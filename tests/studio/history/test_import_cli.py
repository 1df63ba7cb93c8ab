"""`studio interactions import`: progress on the terminal, and a killed import resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from studio import migrate
from studio.models import Interaction, InteractionImport
from tests.factories.interactions import history, write_jsonl

STUDIO = [sys.executable, "-c", "from studio.cli import main; main()"]


def _env(tmp_path: Path, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "STUDIO_DATABASE_URL": url,
        "STUDIO_INSTANCE_PATH": str(tmp_path / "instance"),
    }


def _state(url: str) -> tuple[int, int, str]:
    engine = create_engine(url)
    with Session(engine) as session:
        stored = session.scalar(select(func.count()).select_from(Interaction)) or 0
        record = session.scalar(select(InteractionImport).order_by(InteractionImport.id.desc()))
        state = (stored, record.imported if record else 0, record.status if record else "")
    engine.dispose()
    return state


def test_an_import_killed_midway_continues_where_it_stopped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'studio.sqlite3'}"
    migrate.upgrade(url)
    path = write_jsonl(tmp_path / "history.jsonl", history(60_000))
    env = _env(tmp_path, url)
    process = subprocess.Popen(
        [*STUDIO, "interactions", "import", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while _state(url)[1] < 4_000:
        assert process.poll() is None, "the import finished before it could be killed"
        assert time.monotonic() < deadline, "the import made no progress"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    stored, imported, status = _state(url)
    assert status == "running" and 0 < stored == imported < 60_000

    again = subprocess.run(
        [*STUDIO, "interactions", "import", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert f"Continuing import #1 of history.jsonl from line {imported:,}" in again.stdout
    assert "done: 60,000 imported, 0 duplicates skipped, 0 rows refused." in again.stdout
    assert "100.0%" in again.stderr
    assert _state(url) == (60_000, 60_000, "done")


def test_a_file_of_another_kind_is_refused_with_a_hint(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'studio.sqlite3'}"
    migrate.upgrade(url)
    path = tmp_path / "history.xlsx"
    path.write_bytes(b"PK")
    done = subprocess.run(
        [*STUDIO, "interactions", "import", str(path)],
        env=_env(tmp_path, url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "error: history.xlsx: name the file .jsonl or .csv" in done.stderr
