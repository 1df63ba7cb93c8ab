"""Importing interaction history: streamed, in batches, resumable, every bad row reported.

An import is a row in `interaction_imports` pointing at a file (an upload stored in the
instance folder, or a path given to `studio interactions import`). `run` reads the file
from the recorded byte offset, checks each row against the interaction schema, stores
the good rows in batches and the refused ones (line, field, message) beside them, and
writes the new offset in the same transaction as each batch: a killed import continues
after the last stored batch when it is run again, and never stores a row twice.

This is one of the documented exceptions to "services never commit" (docs/history.md):
a run commits after every batch, so progress is visible to the page polling it and
survives a crash.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from studio.job_registry import job
from studio.models import Interaction, InteractionImport, InteractionImportProblem, utcnow
from studio.services import interaction_store, rulesets
from studio.services.interaction_files import (
    Lines,
    Record,
    Stream,
    csv_records,
    format_of,
    is_gzip,
    json_records,
    read_header,
)
from studio.services.interaction_rows import Row, RowChecker, check_header, row_of
from studio.services.redaction import redact_body

#: Rows stored and committed together. Each commit on SQLite also checkpoints the
#: write-ahead log, so fewer, larger batches import faster (50,000 rows: 10,400/s in
#: batches of 2,000, 12,700/s in batches of 10,000); a batch of 10,000 is still under a
#: second at that rate, so progress and Cancel stay prompt.
BATCH: Final = 10_000
#: ... and at most this many bytes of the file: a batch is held in memory until it is
#: stored, so rows near the 1 MB row limit make smaller batches (32 rather than 10,000).
BATCH_BYTES: Final = 32 * 1024 * 1024
#: Refused rows kept per import (each later one is still counted).
MAX_STORED_PROBLEMS: Final = 100_000
UNFINISHED: Final = ("queued", "running", "failed", "cancelled", "cancelling")

Progress = Callable[[InteractionImport], None]
_log = logging.getLogger(__name__)


class ImportRefused(ValueError):
    """The file cannot be imported at all (unknown format, bad header, missing): running
    the import again reads the same file and cannot get further; `fix` says what can."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


def create(
    session: Session, *, path: Path, filename: str, redact: bool, actor_id: int | None
) -> InteractionImport:
    """Record an import of `path` (not started); raises ImportRefused for a wrong file."""
    fmt = format_of(filename)
    if fmt is None:
        raise ImportRefused(
            f"{filename[:100]}: name the file .jsonl or .csv (JSON lines may also end "
            "in .ndjson or .json; either may be gzipped, .gz); the name says how it is read"
        )
    if not path.is_file():
        raise ImportRefused(f"{path}: there is no such file")
    record = InteractionImport(
        filename=filename[:255],
        stored_path=str(path),
        format=fmt,
        compressed=is_gzip(path),
        size_bytes=path.stat().st_size,
        redact=redact,
        created_by=actor_id,
        status="queued",
    )
    session.add(record)
    session.flush()
    return record


def unfinished_for(session: Session, path: Path) -> InteractionImport | None:
    """The last import of this same file (path and size) that did not finish."""
    size = path.stat().st_size if path.is_file() else -1
    return session.scalar(
        select(InteractionImport)
        .where(
            InteractionImport.stored_path == str(path),
            InteractionImport.size_bytes == size,
            InteractionImport.status.in_(UNFINISHED),
        )
        .order_by(InteractionImport.id.desc())
        .limit(1)
    )


def get(session: Session, import_id: int) -> InteractionImport | None:
    return session.get(InteractionImport, import_id)


def recent(session: Session, limit: int = 20) -> list[InteractionImport]:
    return list(
        session.scalars(
            select(InteractionImport).order_by(InteractionImport.id.desc()).limit(limit)
        )
    )


def request_cancel(session: Session, record: InteractionImport) -> None:
    if record.status in ("queued", "running"):
        record.status = "cancelling"
        record.updated_at = utcnow()


def progress_fraction(record: InteractionImport) -> float:
    if record.status == "done":
        return 1.0
    if not record.size_bytes:
        return 0.0
    return min(1.0, record.read_bytes / record.size_bytes)


@dataclass
class _Batch:
    rows: list[Row]
    problems: list[dict[str, Any]]
    end_offset: int
    line: int
    failed: int
    #: Bytes of the file the batch's rows took (so a batch of long rows stays bounded).
    size: int = 0


def run(
    session: Session, import_id: int, *, batch_size: int = BATCH, progress: Progress | None = None
) -> InteractionImport:
    """Import (or continue importing) the file of import `import_id`."""
    record = session.get(InteractionImport, import_id)
    if record is None:
        raise ImportRefused(f"there is no import #{import_id}")
    if record.status == "done":
        return record
    record.status = "running"
    record.message = ""
    record.updated_at = utcnow()
    session.commit()
    try:
        _run(session, record, batch_size, progress)
    except (OSError, EOFError, ImportRefused) as failure:
        session.rollback()
        record = session.get(InteractionImport, import_id) or record
        record.status = "failed"
        if isinstance(failure, ImportRefused) or not resumable(record):
            # The file itself: continuing would read the same header (or no file) again.
            fix = getattr(failure, "fix", "") or "Correct the file, then upload it again."
            record.message = f"{str(failure)[:1].upper()}{str(failure)[1:]}. {fix}"
        else:
            record.message = (
                f"{failure}. {record.imported:,} rows were imported up to line "
                f"{record.line:,}; run the import again to continue from there."
            )
        record.updated_at = utcnow()
        session.commit()
    except Exception as failure:  # a bug or the database: say so on the page, not "running"
        _log.exception("import #%s stopped", import_id)
        session.rollback()
        record = session.get(InteractionImport, import_id) or record
        record.status = "failed"
        record.message = (
            f"The import stopped on an error the studio did not expect "
            f"({type(failure).__name__}) after {record.imported:,} rows, up to line "
            f"{record.line:,}. Run it again to continue from there; the studio's log has "
            "the details."
        )
        record.updated_at = utcnow()
        session.commit()
    return record


def resumable(record: InteractionImport) -> bool:
    """Whether running an unfinished import again can get further than it did: not when
    its file is gone, nor when it failed at a CSV header it could not use (it would read
    the same header again: the file or the interaction schema must change first)."""
    if record.status == "done" or not Path(record.stored_path).is_file():
        return False
    return not (record.status == "failed" and record.format == "csv" and record.header is None)


def _run(
    session: Session, record: InteractionImport, batch_size: int, progress: Progress | None
) -> None:
    path = Path(record.stored_path)
    if not path.is_file():
        raise ImportRefused(
            f"the file {record.filename} is no longer there",
            "Upload it again: rows already imported are skipped as duplicates.",
        )
    schema = rulesets.current_schema(session)
    checker = RowChecker(schema)
    imported_before = record.imported
    stream = Stream(path, record.byte_offset)
    try:
        lines = Lines(stream, record.byte_offset, record.line)
        if record.format == "csv":
            if record.header is None:
                header, problem = read_header(lines)
                problems = [problem] if problem else check_header(schema, header or [])
                if problems:
                    raise ImportRefused(
                        "the CSV header cannot be used: "
                        + "; ".join(f"{p.field} {p.message}" for p in problems),
                        "Nothing was imported. Correct the file's first line (or add the "
                        "missing fields to the interaction schema), then upload the file "
                        "again.",
                    )
                record.header = header
                record.byte_offset, record.line = lines.offset, lines.line
            records: Iterator[Record] = csv_records(lines, schema, list(record.header or []))
        else:
            if record.line == 0 and _is_json_array(path):
                raise ImportRefused(
                    "the file is one JSON array, not JSON lines (one interaction object per line)",
                    "Nothing was imported. Write each interaction on its own line, for "
                    "example with jq -c '.[]' history.json > history.jsonl, then upload that "
                    "file.",
                )
            records = json_records(lines)
        stored = int(
            session.scalar(
                select(func.count())
                .select_from(InteractionImportProblem)
                .where(InteractionImportProblem.import_id == record.id)
            )
            or 0
        )
        for batch in _batches(records, checker, record.redact, batch_size, record, stored):
            _store(session, record, batch, stream.raw_position)
            session.commit()
            if progress is not None:
                progress(record)
            session.refresh(record, ["status"])
            if record.status == "cancelling":
                record.status = "cancelled"
                record.message = (
                    f"Cancelled at line {record.line:,}; run it again to continue from there."
                )
                session.commit()
                return
        record.byte_offset, record.line = lines.offset, max(record.line, lines.line)
        record.read_bytes = record.size_bytes
        record.status = "done"
        record.message = _summary(record)
        record.updated_at = utcnow()
        session.commit()
        if record.imported - imported_before >= ANALYZE_AFTER_ROWS:
            analyze_history_tables(session)
        if progress is not None:
            progress(record)
    finally:
        stream.close()
        _leave_cache(session)


def _is_json_array(path: Path) -> bool:
    """Whether the file's first line opens a JSON array (`[` alone, or `[{`): a `.json`
    export of a list, which read line by line would refuse every line with a parse
    error of its own."""
    stream = Stream(path, 0)
    try:
        start = stream.data.read(4096).removeprefix(b"\xef\xbb\xbf")
    finally:
        stream.close()
    first = next((line.strip() for line in start.split(b"\n") if line.strip()), b"")
    return first == b"[" or first.startswith(b"[{")


def _leave_cache(session: Session) -> None:
    """Give the connection its usual page cache back (its 64 MB freed). A pragma, not
    a change: nothing is committed or rolled back here, whatever the import left."""
    try:
        _sqlite_cache(session, _DEFAULT_CACHE_KIB)
    except Exception:  # a failed transaction: the caller rolls it back and reports why
        return


#: Rows an import must have stored to analyse the history tables when it finishes.
ANALYZE_AFTER_ROWS: Final = 10_000


def analyze_history_tables(session: Session) -> None:
    """PostgreSQL: refresh the planner's statistics of the history tables. Right after a
    large import the planner still believes them small or empty (autovacuum analyses
    later, or never where it is off), and a search by attribute then read every
    matching row instead of walking the date index (710 ms over 1,000,000 interactions,
    benchmarks/simulation_speed.py). The studio keeps no statistics on SQLite, whose
    planner's defaults already pick the indexes the searches need."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text(
            "ANALYZE interactions, interaction_attributes, interaction_facet_counts, "
            "interaction_attribute_counts"
        )
    )
    session.commit()


def _batches(
    records: Iterator[Record],
    checker: RowChecker,
    redact: bool,
    size: int,
    record: InteractionImport,
    stored_problems: int,
) -> Iterator[_Batch]:
    batch = _Batch([], [], record.byte_offset, record.line, 0)
    for item in records:
        problems = item.problems
        if item.body is not None and not problems:
            problems = checker.problems(item.body)
        if problems:
            batch.failed += 1
            for problem in problems:
                if stored_problems < MAX_STORED_PROBLEMS:
                    batch.problems.append(
                        {
                            "import_id": record.id,
                            "line": item.line,
                            "field": problem.field[:200],
                            "message": problem.message[:2000],
                        }
                    )
                    stored_problems += 1
        else:
            assert item.body is not None
            if redact:
                batch.rows.append(row_of(redact_body(item.body)))
            else:  # stored as read: the line's own JSON text is the body
                batch.rows.append(row_of(item.body, item.source))
        batch.size += item.end_offset - batch.end_offset
        batch.end_offset, batch.line = item.end_offset, item.line
        if len(batch.rows) + batch.failed >= size or batch.size >= BATCH_BYTES:
            yield batch
            batch = _Batch([], [], batch.end_offset, batch.line, 0)
    if batch.rows or batch.failed or batch.problems:
        yield batch


#: SQLite's page cache for the connection storing a batch, in KiB (the default is 2 MB).
#: A batch of 10,000 rows changes more pages than 2 MB holds (the rows, their text in the
#: FTS index, nine indexes), so the default wrote pages out and read them back within
#: the batch: 64 MB imported 12,400 to 14,100 rows/s where the default made 8,800 to
#: 10,800 (50,000 rows, three runs each, benchmarks/simulation_speed.py).
IMPORT_CACHE_KIB: Final = 65_536
_DEFAULT_CACHE_KIB: Final = 2_000


def _sqlite_cache(session: Session, kib: int) -> None:
    """Set the page cache of the session's connection, on SQLite (a no-op elsewhere)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    connection = session.connection()
    # `info` belongs to the driver's connection, kept across the pool's checkouts: the
    # pragma is sent when the cache changes, not before every batch.
    if connection.info.get("cache_kib") != kib:
        connection.exec_driver_sql(f"PRAGMA cache_size=-{int(kib)}")
        connection.info["cache_kib"] = kib


def _store(session: Session, record: InteractionImport, batch: _Batch, raw_position: int) -> None:
    # Per batch: after a commit the session may be given another pooled connection.
    _sqlite_cache(session, IMPORT_CACHE_KIB)
    stored = interaction_store.store(
        session, batch.rows, import_id=record.id, redacted=record.redact
    )
    if batch.problems:
        session.execute(cast(Table, InteractionImportProblem.__table__).insert(), batch.problems)
    record.imported += len(stored)
    record.duplicates += len(batch.rows) - len(stored)
    record.failed += batch.failed
    record.byte_offset, record.line = batch.end_offset, batch.line
    record.read_bytes = min(raw_position, record.size_bytes)
    record.updated_at = utcnow()


def _summary(record: InteractionImport) -> str:
    parts = [
        f"{record.imported:,} imported",
        _counted(record.duplicates, "duplicate", "duplicates") + " skipped",
        _counted(record.failed, "row", "rows") + " refused",
    ]
    text = ", ".join(parts) + "."
    if not (record.imported or record.duplicates or record.failed):
        text += " The file holds no rows."
    if record.failed > MAX_STORED_PROBLEMS:
        text += f" The first {MAX_STORED_PROBLEMS:,} problems are kept for download."
    return text


def _counted(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def problems_csv(session: Session, record: InteractionImport) -> Iterator[str]:
    """The refused rows as CSV (line, field, message), streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["line", "field", "message"])
    yield buffer.getvalue()
    rows = session.execute(
        select(
            InteractionImportProblem.line,
            InteractionImportProblem.field,
            InteractionImportProblem.message,
        )
        .where(InteractionImportProblem.import_id == record.id)
        .order_by(InteractionImportProblem.line, InteractionImportProblem.id)
        .execution_options(yield_per=1000)
    )
    for line, field_, message in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([line, field_, message])
        yield buffer.getvalue()


def first_problems(
    session: Session, record: InteractionImport, limit: int = 20
) -> list[InteractionImportProblem]:
    return list(
        session.scalars(
            select(InteractionImportProblem)
            .where(InteractionImportProblem.import_id == record.id)
            .order_by(InteractionImportProblem.line, InteractionImportProblem.id)
            .limit(limit)
        )
    )


def uploads_folder(instance_path: str | os.PathLike[str]) -> Path:
    folder = Path(instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def total_interactions(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Interaction)) or 0)


@job("interactions.import")
def import_job(session: Session, *, import_id: int) -> dict[str, Any]:
    record = run(session, import_id)
    return {
        "status": record.status,
        "imported": record.imported,
        "duplicates": record.duplicates,
        "failed": record.failed,
    }
