"""Importing history files: good rows kept, bad rows reported by line and field."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from studio.models import Interaction, InteractionImportProblem
from studio.services import interaction_import
from studio.services.interaction_files import MAX_ROW
from tests.factories.interactions import csv_text, history, interaction, write_jsonl


def _import(session: Session, path: Path, *, redact: bool = False, batch_size: int = 2000):
    record = interaction_import.create(
        session, path=path, filename=path.name, redact=redact, actor_id=None
    )
    return interaction_import.run(session, record.id, batch_size=batch_size)


def _problems(session: Session, import_id: int) -> list[tuple[int, str]]:
    return [
        (p.line, p.field)
        for p in session.scalars(
            select(InteractionImportProblem)
            .where(InteractionImportProblem.import_id == import_id)
            .order_by(InteractionImportProblem.line)
        )
    ]


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Interaction))


def test_bad_rows_are_reported_by_line_and_field_and_good_rows_kept(
    session: Session, tmp_path: Path
) -> None:
    good = history(5)
    bad_channel = interaction(100)
    bad_channel["inquiry"]["channel"] = "fax"
    no_id = interaction(101)
    del no_id["id"]
    path = write_jsonl(
        tmp_path / "h.jsonl",
        [good[0], bad_channel, good[1], "{not json", no_id, good[2], "[1, 2]", good[3], good[4]],
    )
    record = _import(session, path)
    assert (record.status, record.imported, record.failed, record.duplicates) == ("done", 5, 4, 0)
    assert _problems(session, record.id) == [
        (2, "inquiry.channel"),
        (4, "row"),
        (5, "id"),
        (7, "row"),
    ]
    assert _count(session) == 5


def test_duplicates_by_interaction_id_are_skipped_and_counted(
    session: Session, tmp_path: Path
) -> None:
    first = _import(session, write_jsonl(tmp_path / "a.jsonl", history(10)))
    second = _import(
        session, write_jsonl(tmp_path / "b.jsonl", history(10, start=5) + [interaction(7)])
    )
    assert (first.imported, second.imported, second.duplicates) == (10, 5, 6)
    assert _count(session) == 15


def test_gzip_csv_with_bom_and_mixed_line_endings_imports(session: Session, tmp_path: Path) -> None:
    lines = csv_text(history(6)).split("\n")
    text = "\r\n".join(lines[:3]) + "\r\n" + "\n".join(lines[3:])
    path = tmp_path / "h.csv.gz"
    path.write_bytes(gzip.compress(b"\xef\xbb\xbf" + text.encode()))
    record = _import(session, path)
    assert (record.status, record.imported, record.failed) == ("done", 6, 0)
    stored = session.scalar(select(Interaction).where(Interaction.interaction_id == "i-1"))
    assert stored.body["customer"]["products"] == ["checking"]
    assert stored.channel == "phone"


def test_csv_text_with_a_quoted_newline_stays_one_row(session: Session, tmp_path: Path) -> None:
    row = interaction(1, text="line one\nline two, with a comma")
    path = tmp_path / "h.csv"
    path.write_text(csv_text([row, interaction(2)]))
    record = _import(session, path)
    assert (record.imported, record.failed) == (2, 0)
    stored = session.scalar(select(Interaction.text).where(Interaction.interaction_id == "i-1"))
    assert stored == "line one\nline two, with a comma"


def test_invalid_utf8_and_oversized_rows_are_reported_and_the_rest_imported(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "h.jsonl"
    big = json.dumps(interaction(9, text="x" * (MAX_ROW + 10)))
    path.write_bytes(
        json.dumps(interaction(1)).encode()
        + b"\n"
        + json.dumps(interaction(2)).encode()[:-3]
        + b'\xff\xfe"}}\n'
        + big.encode()
        + b"\n"
        + json.dumps(interaction(3)).encode()
        + b"\n"
    )
    record = _import(session, path)
    assert (record.imported, record.failed) == (2, 2)
    messages = [p.message for p in interaction_import.first_problems(session, record)]
    assert "not UTF-8" in messages[0] and "at most 1,048,576 bytes (1 MB)" in messages[1]


def test_nan_nul_and_lone_surrogates_are_reported_by_field_and_the_rest_imported(
    session: Session, tmp_path: Path
) -> None:
    """Python's JSON reader accepts these; no database stores them (a NUL or half a
    character in text, NaN in PostgreSQL's json): one such row once failed the import."""
    rows = [json.dumps(interaction(n, text=f"row {n}")) for n in range(5)]
    rows[1] = rows[1].replace('"row 1"', '"row \\u0000 1"')
    rows[2] = rows[2].replace('"row 2"', '"row \\ud800 2"')
    rows[3] = rows[3].replace('"customer": {', '"tone": {"score": NaN}, "customer": {')
    rows[4] = rows[4].replace('"row 4"', '"row \\ud83d\\ude00 \\u00e9 4"')  # a pair: one emoji
    record = _import(session, write_jsonl(tmp_path / "h.jsonl", rows))
    assert (record.status, record.imported, record.failed) == ("done", 2, 3)
    assert _problems(session, record.id) == [(2, "inquiry.text"), (3, "inquiry.text"), (4, "row")]
    messages = [p.message for p in interaction_import.first_problems(session, record)]
    assert "unpaired surrogate" in messages[0] and "NaN is not a number JSON allows" in messages[2]
    stored = session.scalar(select(Interaction).where(Interaction.interaction_id == "i-4"))
    assert stored is not None
    assert stored.text == "row \U0001f600 \u00e9 4"
    assert stored.body == json.loads(rows[4])


def test_a_csv_with_ten_thousand_columns_is_refused_with_nothing_imported(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(10_000)) + "\n" + ",".join("1" * 10_000))
    record = _import(session, path)
    assert record.status == "failed"
    assert "10,000 columns" in record.message and "Nothing was imported" in record.message
    assert "continue from there" not in record.message  # it would read the same header
    assert _count(session) == 0


def test_unknown_csv_columns_are_named_in_the_refusal(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("id,at,inquiry.intnet\ni-1,2026-11-01T00:00:00Z,x\n")
    record = _import(session, path)
    assert record.status == "failed" and "inquiry.intnet is not a field" in record.message


def test_redaction_replaces_emails_phones_and_cards_in_stored_text(
    session: Session, tmp_path: Path
) -> None:
    row = interaction(
        1,
        text="Mail me at ann@example.com or call +1 415 555 0100; "
        "card 4111 1111 1111 1111, order 12345.",
    )
    record = _import(session, write_jsonl(tmp_path / "h.jsonl", [row]), redact=True)
    stored = session.scalar(select(Interaction).where(Interaction.import_id == record.id))
    assert stored.text == "Mail me at [email] or call [phone]; card [card], order 12345."
    assert stored.body["inquiry"]["text"] == stored.text and stored.redacted


def test_an_unknown_file_type_is_refused_before_anything_is_read(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "h.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(interaction_import.ImportRefused, match=".jsonl or .csv"):
        _import(session, path)


def test_a_cancelled_import_continues_from_its_offset_when_run_again(
    session: Session, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "h.jsonl", history(50))
    record = interaction_import.create(
        session, path=path, filename=path.name, redact=False, actor_id=None
    )

    def cancel_after_first_batch(progress) -> None:  # as the Cancel button's request does
        interaction_import.request_cancel(session, progress)
        session.commit()

    first = interaction_import.run(
        session, record.id, batch_size=20, progress=cancel_after_first_batch
    )
    assert (first.status, first.imported, first.line) == ("cancelled", 20, 20)
    again = interaction_import.run(session, record.id, batch_size=20)
    assert (again.status, again.imported, again.duplicates) == ("done", 50, 0)
    assert _count(session) == 50


def test_a_gzip_file_cut_short_keeps_the_batches_before_the_cut_and_says_where(
    session: Session, tmp_path: Path
) -> None:
    whole = gzip.compress(
        "".join(json.dumps(body) + "\n" for body in history(3000)).encode(), mtime=0
    )
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) * 2 // 3])  # a copy that stopped two thirds in
    record = _import(session, path, batch_size=500)
    assert record.status == "failed"
    assert record.imported > 0 and record.imported % 500 == 0, "whole batches, no part of one"
    assert _count(session) == record.imported
    assert f"{record.imported:,} rows were imported up to line {record.line:,}" in record.message
    assert record.line == record.imported


def test_an_import_gives_the_sqlite_connection_its_usual_page_cache_back(
    session: Session, tmp_path: Path
) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("a SQLite page cache: PostgreSQL keeps its own buffers")
    record = _import(session, write_jsonl(tmp_path / "h.jsonl", history(30)), batch_size=10)
    assert record.status == "done"
    cache = session.connection().exec_driver_sql("PRAGMA cache_size").scalar()
    assert cache == -interaction_import._DEFAULT_CACHE_KIB, "64 MB held after the import"


def test_a_large_import_leaves_postgresql_planning_with_fresh_statistics(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Right after a large import the planner must know the tables are no longer empty:
    a search by attribute otherwise read every matching row (710 ms over 1,000,000)."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the studio keeps no planner statistics on SQLite: nothing to refresh")
    monkeypatch.setattr(interaction_import, "ANALYZE_AFTER_ROWS", 20)
    session.execute(text("SELECT pg_stat_clear_snapshot()"))
    record = _import(session, write_jsonl(tmp_path / "h.jsonl", history(30)))
    assert record.imported == 30
    analysed = session.execute(
        text(
            "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL "
            "AND relname IN ('interactions', 'interaction_attributes')"
        )
    ).scalars()
    assert sorted(analysed) == ["interaction_attributes", "interactions"]


def test_an_unexpected_error_fails_the_import_with_a_message_and_it_continues_when_run_again(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_jsonl(tmp_path / "h.jsonl", history(50))
    record = interaction_import.create(
        session, path=path, filename=path.name, redact=False, actor_id=None
    )
    store = interaction_import.interaction_store.store
    calls = []

    def fail_on_the_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the disk said no")
        return store(*args, **kwargs)

    monkeypatch.setattr(interaction_import.interaction_store, "store", fail_on_the_second_batch)
    first = interaction_import.run(session, record.id, batch_size=20)
    assert (first.status, first.imported, first.line) == ("failed", 20, 20)
    assert "did not expect (RuntimeError) after 20 rows, up to line 20" in first.message
    assert interaction_import.resumable(first)
    monkeypatch.setattr(interaction_import.interaction_store, "store", store)
    again = interaction_import.run(session, record.id, batch_size=20)
    assert (again.status, again.imported, again.duplicates) == ("done", 50, 0)
    assert _count(session) == 50


def test_long_rows_make_smaller_batches_so_an_import_holds_a_bounded_amount(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [interaction(n, text="long " * 400) for n in range(30)]  # about 2.3 kB each
    path = write_jsonl(tmp_path / "h.jsonl", rows)
    monkeypatch.setattr(interaction_import, "BATCH_BYTES", 10_000)
    record = interaction_import.create(
        session, path=path, filename=path.name, redact=False, actor_id=None
    )
    seen: list[int] = []
    done = interaction_import.run(
        session, record.id, batch_size=2000, progress=lambda r: seen.append(r.imported)
    )
    assert (done.status, done.imported) == ("done", 30)
    assert seen[:3] == [5, 10, 15]  # 5 rows reach 10,000 bytes


def test_a_csv_quote_never_closed_is_reported_and_the_rows_it_swallowed_are_named(
    session: Session, tmp_path: Path
) -> None:
    """The reader took the rows after an open quote as that cell's text: they were stored
    inside one row's text, and neither imported nor refused."""
    lines = csv_text(history(6)).rstrip("\n").split("\n")
    header = lines[0].split(",")
    text_at = header.index("inquiry.text")
    cells = lines[3].split(",")
    cells[text_at] = '"oops unclosed'  # line 3 of the data, line 4 of the file
    lines[3] = ",".join(cells)
    path = tmp_path / "h.csv"
    path.write_text("\n".join(lines) + "\n")
    record = _import(session, path)
    assert (record.status, record.imported, record.failed) == ("done", 2, 1)
    [problem] = interaction_import.first_problems(session, record)
    assert problem.line == 4 and "lines 4 to 7 were read as one row" in problem.message
    assert "line 5" in problem.message and "quote that is never closed" in problem.message


def test_csv_numbers_that_are_not_finite_and_nul_characters_are_refused(
    session: Session, tmp_path: Path
) -> None:
    """JSON lines refuse NaN and NUL; a CSV's cells once stored them (not JSON, not text)."""
    at = "2026-11-01T10:00:00Z"
    path = tmp_path / "h.csv"
    path.write_text(
        "id,at,tone.score,customer.id\n"
        f"i-1,{at},0.5,c-1\n"
        f"i-2,{at},NaN,c-2\n"
        f"i-3,{at},1e999,c-3\n"
        f"i-4,{at},-inf,c-4\n"
        f"i-5,{at},0.1,c\x00-5\n"
    )
    record = _import(session, path)
    assert (record.imported, record.failed) == (1, 4)
    found = [
        (p.line, p.field, p.message) for p in interaction_import.first_problems(session, record)
    ]
    assert found[:3] == [
        (3, "tone.score", "'NaN' is not a finite number"),
        (4, "tone.score", "'1e999' is not a finite number"),
        (5, "tone.score", "'-inf' is not a finite number"),
    ]
    assert found[3][:2] == (6, "customer.id") and "NUL character" in found[3][2]


@pytest.mark.parametrize("indent", [2, None])
def test_a_json_array_file_is_refused_at_once_with_how_to_make_json_lines(
    session: Session, tmp_path: Path, indent: int | None
) -> None:
    path = tmp_path / "history.json"
    path.write_text(json.dumps(history(3), indent=indent))
    record = _import(session, path)
    assert (record.status, record.imported, record.failed) == ("failed", 0, 0)
    assert "one JSON array, not JSON lines" in record.message
    assert "jq -c" in record.message and _count(session) == 0


def test_an_interaction_dated_in_the_future_is_refused(session: Session, tmp_path: Path) -> None:
    """It sat at the top of every newest-first list; the events API refuses the same."""
    soon = interaction(1)
    soon["at"] = (datetime.now(UTC) + timedelta(hours=2)).isoformat()  # clocks differ
    later = interaction(2)
    later["at"] = "2099-01-01T00:00:00Z"
    record = _import(session, write_jsonl(tmp_path / "h.jsonl", [soon, later, interaction(3)]))
    assert (record.imported, record.failed) == (2, 1)
    [problem] = interaction_import.first_problems(session, record)
    assert (problem.line, problem.field) == (2, "at")
    assert problem.message.startswith("2099-01-01T00:00:00Z is in the future")
