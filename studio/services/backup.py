"""Online, consistent backups: the database, the signing keys and the instance secret.

A database copied without its signing keys is a trap: every stored bundle becomes
unverifiable, `/decide` stops, and rollback is impossible. So one archive carries all
three, and restore refuses an archive whose bundles were signed by keys it does not hold.

- SQLite is copied with SQLite's online backup API, which reads a consistent snapshot
  that includes committed rows still in the write-ahead log (a plain file copy misses
  them) while the studio keeps serving.
- PostgreSQL is dumped with `pg_dump --format=custom` (a consistent snapshot by itself)
  and restored with `pg_restore --clean --if-exists`.

The archive is a gzip'd tar with `manifest.json` (format, time, database kind, schema
revision, bundle count, key ids, sha256 of every member), `database.sqlite3` or
`database.pgdump`, `signing/<key_id>.pem` and `secret_key`. It holds private keys: keep
it where you keep secrets (docs/operations.md).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from studio.models import Bundle
from studio.services import bundles as bundle_store
from studio.services import signing

FORMAT = "pos-studio-backup/1"
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
SECRET_MEMBER = "secret_key"
_KEY_PREFIX = f"{signing.KEY_FOLDER}/"
_MAX_MEMBER_BYTES = 64 * 1024 * 1024 * 1024


class BackupError(Exception):
    """A backup or restore that was refused; nothing was changed."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class BackupReport:
    path: Path
    database_kind: str
    revision: str | None
    bundles: int
    key_ids: list[str]
    bytes: int
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    database_kind: str
    revision: str | None
    bundles_verified: int
    key_ids: list[str]
    warnings: list[str] = field(default_factory=list)


def backup(database_url: str, instance_path: Path, output: Path) -> BackupReport:
    """Write one archive holding the database, the signing keys and the instance secret."""
    started = time.perf_counter()
    url = make_url(database_url)
    kind = _kind(url)
    keys_folder = signing.key_folder(instance_path)
    key_files = sorted(keys_folder.glob("*.pem")) if keys_folder.is_dir() else []
    key_ids = [path.stem for path in key_files]
    revision, bundles, used = _database_facts(database_url)
    missing = sorted(set(used) - set(key_ids))
    if missing:
        raise BackupError(
            f"bundles in the database were signed by key(s) {', '.join(missing)}, which are "
            f"not in {keys_folder}",
            "find the missing key files before taking a backup: without them the stored "
            "bundles cannot be verified after a restore",
        )
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="studio-backup-") as work:
        work_dir = Path(work)
        members: list[tuple[str, Path]] = []
        if kind == "sqlite":
            members.append((SQLITE_MEMBER, _sqlite_snapshot(url, work_dir / SQLITE_MEMBER)))
        else:
            members.append((POSTGRES_MEMBER, _pg_dump(url, work_dir / POSTGRES_MEMBER)))
        members += [(f"{_KEY_PREFIX}{path.name}", path) for path in key_files]
        secret = instance_path / SECRET_MEMBER
        if secret.is_file():
            members.append((SECRET_MEMBER, secret))
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": kind,
            "revision": revision,
            "bundles": bundles,
            "key_ids": key_ids,
            "keys_used": used,
            "files": {name: _sha256(path) for name, path in members},
        }
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            data = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
            archive.addfile(info, io.BytesIO(data))
            for name, path in members:
                archive.add(path, arcname=name, recursive=False)
        os.chmod(partial, 0o600)
        os.replace(partial, output)
    return BackupReport(
        path=output,
        database_kind=kind,
        revision=revision,
        bundles=bundles,
        key_ids=key_ids,
        bytes=output.stat().st_size,
        seconds=time.perf_counter() - started,
    )


def restore(
    archive_path: Path, database_url: str, instance_path: Path, *, force: bool = False
) -> RestoreReport:
    """Put an archive's database, keys and secret in place, refusing unsafe restores.

    Refused, with nothing changed: a file that is not a studio backup or fails its
    checksums; an archive whose bundles were signed by keys it does not carry; a database
    of another kind than the target; a target database or key folder that already holds
    data (unless `force`).
    """
    url = make_url(database_url)
    kind = _kind(url)
    with tempfile.TemporaryDirectory(prefix="studio-restore-") as work:
        work_dir = Path(work)
        manifest = _extract(archive_path, work_dir)
        if manifest["database"] != kind:
            raise BackupError(
                f"the backup holds a {manifest['database']} database but the target is {kind}",
                "restore into a database of the same kind (STUDIO_DATABASE_URL)",
            )
        held = sorted(p.stem for p in (work_dir / signing.KEY_FOLDER).glob("*.pem"))
        missing = sorted(set(manifest.get("keys_used", [])) - set(held))
        if missing:
            raise BackupError(
                f"the backup's bundles were signed by key(s) {', '.join(missing)}, which the "
                "archive does not hold",
                "a database without its signing keys cannot serve its bundles; find a "
                "backup that includes the signing folder",
            )
        if not force:
            _refuse_non_empty(database_url, instance_path)
        if kind == "sqlite":
            _sqlite_restore(work_dir / SQLITE_MEMBER, url)
        else:
            _pg_restore(work_dir / POSTGRES_MEMBER, url)
        _install_keys(work_dir / signing.KEY_FOLDER, signing.key_folder(instance_path))
        secret = work_dir / SECRET_MEMBER
        if secret.is_file():
            target = instance_path / SECRET_MEMBER
            instance_path.mkdir(parents=True, exist_ok=True)
            shutil.copy2(secret, target)
            os.chmod(target, 0o600)
    verified, warnings = _verify_bundles(database_url, instance_path)
    return RestoreReport(
        database_kind=kind,
        revision=manifest.get("revision"),
        bundles_verified=verified,
        key_ids=held,
        warnings=warnings,
    )


def _kind(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise BackupError("an in-memory SQLite database cannot be backed up or restored")
        return "sqlite"
    if url.get_backend_name() == "postgresql":
        return "postgresql"
    raise BackupError(f"backups support SQLite and PostgreSQL, not {url.get_backend_name()}")


def _database_facts(database_url: str) -> tuple[str | None, int, list[str]]:
    """Schema revision, bundle count and the key ids that signed them."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not Path(str(url.database)).is_file():
        return None, 0, []
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            revision = None
            if "alembic_version" in tables:
                revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
            if "bundles" not in tables:
                return revision, 0, []
            bundles = connection.scalar(text("SELECT count(*) FROM bundles")) or 0
            used = sorted(connection.scalars(text("SELECT DISTINCT key_id FROM bundles")))
            return revision, int(bundles), [str(k) for k in used]
    finally:
        engine.dispose()


def _sqlite_snapshot(url: URL, target: Path) -> Path:
    source_path = Path(str(url.database))
    if not source_path.is_file():
        raise BackupError(f"no SQLite database at {source_path}")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()
    return target


def _sqlite_restore(snapshot: Path, url: URL) -> None:
    target_path = Path(str(url.database))
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
    destination = sqlite3.connect(target_path, timeout=30)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump / pg_restore, the password kept out of argv."""
    args = ["--host", url.host or "127.0.0.1", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(
            f"{command[0]} is not installed",
            "install the PostgreSQL client tools (Debian: postgresql-client)",
        )
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip()[:2000]}")


def _pg_dump(url: URL, target: Path) -> Path:
    args, env = _libpq(url)
    _run(
        [
            "pg_dump",
            *args,
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--file",
            str(target),
            str(url.database),
        ],
        env,
        "pg_dump",
    )
    return target


def _pg_restore(dump: Path, url: URL) -> None:
    args, env = _libpq(url)
    _run(
        [
            "pg_restore",
            *args,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            str(url.database),
            str(dump),
        ],
        env,
        "pg_restore",
    )


def _extract(archive_path: Path, work_dir: Path) -> dict[str, Any]:
    """Unpack only the members a backup may hold, after checking them against the manifest."""
    allowed = {MANIFEST, SQLITE_MEMBER, POSTGRES_MEMBER, SECRET_MEMBER}
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            members = archive.getmembers()
            for member in members:
                name = member.name
                is_key = (
                    name.startswith(_KEY_PREFIX)
                    and name.endswith(".pem")
                    and "/" not in name[len(_KEY_PREFIX) :]
                )
                if not member.isfile() or (name not in allowed and not is_key):
                    raise BackupError(
                        f"{archive_path} holds an unexpected entry {name!r}",
                        "restore only archives made by `studio backup`",
                    )
                if member.size > _MAX_MEMBER_BYTES:
                    raise BackupError(f"{name} in {archive_path} is implausibly large")
            archive.extractall(work_dir, members=members, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{archive_path} is not a readable studio backup: {exc}") from exc
    manifest_path = work_dir / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{archive_path} has no readable manifest.json") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive_path} is not a studio backup (format {FORMAT})")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise BackupError(f"{archive_path}: manifest.json lists no files")
    present = {
        m
        for m in (p.relative_to(work_dir).as_posix() for p in work_dir.rglob("*") if p.is_file())
        if m != MANIFEST
    }
    if present != set(files):
        raise BackupError(
            f"{archive_path}: its files do not match its manifest",
            "the archive is incomplete or was altered",
        )
    for name, expected in files.items():
        if _sha256(work_dir / name) != expected:
            raise BackupError(
                f"{archive_path}: {name} does not match its checksum",
                "the archive is damaged or was altered",
            )
    return manifest


def _refuse_non_empty(database_url: str, instance_path: Path) -> None:
    keys = signing.key_folder(instance_path)
    if keys.is_dir() and any(keys.glob("*.pem")):
        raise BackupError(
            f"{keys} already holds signing keys",
            "restore into a new instance folder, or pass --force to replace",
        )
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not Path(str(url.database)).exists():
        return
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            for table in ("users", "bundles", "artifacts"):
                if table in tables and connection.scalar(text(f"SELECT count(*) FROM {table}")):  # noqa: S608 (fixed names)
                    raise BackupError(
                        "the target database already holds data",
                        "restore into an empty database, or pass --force to replace it",
                    )
    finally:
        engine.dispose()


def _install_keys(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.pem")):
        destination = target / path.name
        shutil.copy2(path, destination)
        os.chmod(destination, 0o600)
    os.utime(target)


def _verify_bundles(database_url: str, instance_path: Path) -> tuple[int, list[str]]:
    """Check every restored bundle against the restored keys."""
    _revision, count, _used = _database_facts(database_url)
    if count == 0:
        return 0, []
    ring = signing.load_or_create_keys(instance_path, create=False)
    engine = create_engine(database_url)
    warnings: list[str] = []
    verified = 0
    try:
        with Session(engine) as session:
            for bundle in session.scalars(select(Bundle).order_by(Bundle.version)):
                try:
                    bundle_store.load_verified(bundle, ring.public_keys())
                    verified += 1
                except bundle_store.BundleTampered as failed:
                    warnings.append(f"bundle v{bundle.version}: {failed.reason}")
    finally:
        engine.dispose()
    return verified, warnings


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()
