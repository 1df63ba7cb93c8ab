"""Backups carry the database, the signing keys and the secret; restore refuses what would break."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from studio.cli import main
from studio.models import Bundle, User
from studio.services import backup, bundles, signing
from tests.factories import make_user
from tests.factories.reviews import approved_offer, publish_now

# A backup reads the database through its own connection (SQLite's backup API, pg_dump),
# so these tests need rows that are really committed.
pytestmark = pytest.mark.committed


def _published(app: Flask, session: Session) -> Bundle:
    author = make_user(session, "marketer")
    reviewer = make_user(session, "reviewer")
    approved_offer(session, author, reviewer, "cashback")
    session.commit()
    return publish_now(app, session, reviewer)


@pytest.fixture
def empty_target(db_backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind to restore into."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'studio.sqlite3'}"
        return
    admin_url = os.environ["STUDIO_TEST_POSTGRES_URL"]
    name = f"studio_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_restored_backup_serves_the_same_bundles_with_the_same_keys(
    app: Flask, session: Session, database_url: str, empty_target: str, tmp_path: Path
) -> None:
    bundle = _published(app, session)
    archive = tmp_path / "studio.tar.gz"

    made = backup.backup(database_url, Path(app.instance_path), archive)
    assert made.bundles == 1 and made.key_ids == [bundle.key_id]
    assert archive.stat().st_mode & 0o077 == 0

    target_instance = tmp_path / "restored-instance"
    restored = backup.restore(archive, empty_target, target_instance)

    assert restored.bundles_verified == 1 and restored.warnings == []
    assert restored.key_ids == [bundle.key_id]
    engine = create_engine(empty_target)
    with Session(engine) as other:
        copy = other.scalars(select(Bundle)).one()
        assert copy.digest == bundle.digest
        ring = signing.load_or_create_keys(target_instance, create=False)
        assert bundles.load_verified(copy, ring.public_keys())["version"] == 1
        assert other.scalar(select(func.count(User.id))) == 2
    engine.dispose()


def test_the_sqlite_backup_includes_committed_rows_still_in_the_write_ahead_log(
    tmp_path: Path,
) -> None:
    path = tmp_path / "live.sqlite3"
    keeper = sqlite3.connect(path)
    keeper.execute("PRAGMA journal_mode=WAL")
    keeper.execute("CREATE TABLE notes (body TEXT)")
    keeper.commit()
    writer = sqlite3.connect(path)
    writer.execute("INSERT INTO notes VALUES ('committed, in the WAL only')")
    writer.commit()
    writer.close()
    plain_copy = tmp_path / "plain-copy.sqlite3"
    shutil.copy(path, plain_copy)
    assert _notes(plain_copy) in (None, [])  # the hazard: a file copy misses the WAL

    archive = tmp_path / "backup.tar.gz"
    backup.backup(f"sqlite:///{path}", tmp_path / "instance", archive)
    keeper.close()

    restored = tmp_path / "restored.sqlite3"
    backup.restore(archive, f"sqlite:///{restored}", tmp_path / "restored-instance")
    assert _notes(restored) == [("committed, in the WAL only",)]


def _notes(path: Path) -> list[tuple[str]] | None:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT body FROM notes").fetchall()
    except sqlite3.OperationalError:
        return None
    finally:
        connection.close()


def _rewrite_without_keys(archive: Path, target: Path) -> None:
    """The same archive with its key files removed and its manifest made consistent."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(target, "w:gz") as out:
        manifest = json.loads(source.extractfile(backup.MANIFEST).read())
        manifest["files"] = {
            k: v for k, v in manifest["files"].items() if not k.startswith("signing/")
        }
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo(backup.MANIFEST)
        info.size = len(data)
        out.addfile(info, io.BytesIO(data))
        for member in source.getmembers():
            if member.name != backup.MANIFEST and not member.name.startswith("signing/"):
                out.addfile(member, source.extractfile(member))


def test_restore_refuses_a_database_without_the_keys_that_signed_its_bundles(
    app: Flask, session: Session, database_url: str, empty_target: str, tmp_path: Path
) -> None:
    _published(app, session)
    archive = tmp_path / "full.tar.gz"
    backup.backup(database_url, Path(app.instance_path), archive)
    keyless = tmp_path / "keyless.tar.gz"
    _rewrite_without_keys(archive, keyless)

    with pytest.raises(backup.BackupError) as refused:
        backup.restore(keyless, empty_target, tmp_path / "target-instance")

    assert "does not hold" in refused.value.message
    assert backup._database_facts(empty_target) == (None, 0, [])
    assert not (tmp_path / "target-instance" / "signing").exists()


def test_restore_refuses_a_damaged_archive_and_a_target_that_holds_data(
    app: Flask, session: Session, database_url: str, tmp_path: Path
) -> None:
    _published(app, session)
    archive = tmp_path / "full.tar.gz"
    backup.backup(database_url, Path(app.instance_path), archive)

    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(backup.BackupError, match="not a readable studio backup"):
        backup.restore(damaged, f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path / "x")

    with pytest.raises(backup.BackupError, match="already holds"):
        backup.restore(archive, database_url, Path(app.instance_path))
    assert session.scalar(select(func.count(Bundle.id))) == 1


def test_a_lost_key_folder_is_reported_instead_of_replaced_by_a_new_key(
    app: Flask, session: Session
) -> None:
    _published(app, session)
    folder = signing.key_folder(app.instance_path)
    shutil.rmtree(folder)
    signing._cache.clear()

    with pytest.raises(signing.KeysMissing, match="studio restore"):
        bundles.key_ring(session, app.instance_path)
    assert signing.public_keys(instance_path=app.instance_path) == []
    assert not list(folder.glob("*.pem"))


def test_the_cli_backs_up_and_restores_the_demo_workspace(tmp_path: Path, monkeypatch) -> None:
    import studio.app

    def use(name: str) -> str:
        url = f"sqlite:///{tmp_path / name / 'studio.sqlite3'}"
        monkeypatch.setenv("STUDIO_DATABASE_URL", url)
        monkeypatch.setattr(studio.app, "DEFAULT_INSTANCE", tmp_path / name / "instance")
        return url

    runner = CliRunner()
    use("live")
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(main, ["demo"]).exit_code == 0
    archive = tmp_path / "demo.tar.gz"
    made = runner.invoke(main, ["backup", "--output", str(archive)])
    assert made.exit_code == 0, made.output
    assert "1 bundle(s)" in made.output and "store it like a secret" in made.output

    use("new")
    restored = runner.invoke(main, ["restore", str(archive)])
    assert restored.exit_code == 0, restored.output
    assert "1 bundle(s) verified" in restored.output
    again = runner.invoke(main, ["restore", str(archive)])
    assert again.exit_code == 1 and "already holds" in again.output
