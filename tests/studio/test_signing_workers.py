"""Signing keys shared by several worker processes: one first key, rotations seen by all."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

from studio.services import signing


def _start_worker(folder: str, barrier, results) -> None:
    barrier.wait()
    results.put(signing.load_or_create_keys(folder).active.key_id)


def test_workers_starting_at_once_make_exactly_one_key(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = 6
    barrier, results = context.Barrier(workers), context.Queue()
    processes = [
        context.Process(target=_start_worker, args=(str(tmp_path), barrier, results))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    key_ids = {results.get(timeout=60) for _ in processes}
    for process in processes:
        process.join(timeout=60)

    assert len(key_ids) == 1
    assert [p.stem for p in (tmp_path / "signing").glob("*.pem")] == list(key_ids)


def test_a_rotation_by_another_process_is_used_without_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signing._cache.clear()
    monkeypatch.setattr(signing, "REFRESH_SECONDS", 3600.0)
    before = signing.load_or_create_keys(tmp_path)
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from studio.services import signing; signing.rotate(sys.argv[1])",
            str(tmp_path),
        ],
        check=True,
        timeout=60,
    )

    assert signing.load_or_create_keys(tmp_path) is before  # within the refresh window
    monkeypatch.setattr(signing, "REFRESH_SECONDS", 0.0)
    after = signing.load_or_create_keys(tmp_path)

    assert after.active.key_id != before.active.key_id
    assert [k["key_id"] for k in after.public_keys()] == [before.active.key_id, after.active.key_id]


def test_without_create_an_empty_key_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(signing.KeysMissing):
        signing.load_or_create_keys(tmp_path, create=False)
    assert not list((tmp_path / "signing").glob("*.pem"))
