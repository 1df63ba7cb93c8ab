"""The studio's SQLite writers queue at one gate (`studio.sqlite_gate`).

A writer waits for the one before it and then goes on, never failing with "database is
locked" while the other is merely busy; readers never wait; a writer that waits past
the timeout fails as a locked database does, writing nothing; the gate holds between
processes (and a forked worker does not share its parent's hold).
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bundle.sqlite_gate import FairLock, WriteGate
from studio.sqlite_gate import connection_factory, opens_write


def _connect(path: Path, factory: type[sqlite3.Connection]) -> sqlite3.Connection:
    db = sqlite3.connect(path, factory=factory, timeout=15, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    return db


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "studio.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, who TEXT)")
    return path


def test_a_second_writer_waits_for_the_first_to_commit_then_writes(database: Path) -> None:
    factory = connection_factory(str(database), 15)
    first, second = _connect(database, factory), _connect(database, factory)
    first.execute("INSERT INTO notes (who) VALUES ('first')")
    done = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            second.execute("INSERT INTO notes (who) VALUES ('second')")
            second.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    assert not done.wait(0.3)  # the first still holds its transaction
    first.commit()
    thread.join(10)
    assert done.is_set() and errors == []
    rows = first.execute("SELECT who FROM notes ORDER BY id").fetchall()
    assert rows == [("first",), ("second",)]


def test_a_reader_does_not_wait_for_a_writer(database: Path) -> None:
    factory = connection_factory(str(database), 0.2)
    writer, reader = _connect(database, factory), _connect(database, factory)
    writer.execute("INSERT INTO notes (who) VALUES ('pending')")
    assert reader.execute("SELECT count(*) FROM notes").fetchone() == (0,)
    writer.rollback()


@pytest.mark.parametrize("end", ["rollback", "close"])
def test_the_gate_is_let_go_when_the_transaction_ends_without_a_commit(
    database: Path, end: str
) -> None:
    factory = connection_factory(str(database), 0.2)
    first, second = _connect(database, factory), _connect(database, factory)
    first.execute("INSERT INTO notes (who) VALUES ('dropped')")
    getattr(first, end)()
    second.execute("INSERT INTO notes (who) VALUES ('kept')")
    second.commit()
    assert second.execute("SELECT who FROM notes").fetchall() == [("kept",)]


def test_a_writer_waiting_past_the_timeout_fails_as_locked_and_writes_nothing(
    database: Path,
) -> None:
    factory = connection_factory(str(database), 0.2)
    holder, waiter = _connect(database, factory), _connect(database, factory)
    holder.execute("INSERT INTO notes (who) VALUES ('holder')")
    with pytest.raises(sqlite3.OperationalError, match="database is locked .*write gate"):
        waiter.execute("INSERT INTO notes (who) VALUES ('waiter')")
    assert not waiter.in_transaction
    holder.commit()
    assert waiter.execute("SELECT who FROM notes").fetchall() == [("holder",)]
    waiter.execute("INSERT INTO notes (who) VALUES ('waiter')")  # the gate is free again
    waiter.commit()


def test_a_statement_in_autocommit_lets_the_gate_go_at_once(database: Path) -> None:
    factory = connection_factory(str(database), 0.2)
    first = sqlite3.connect(database, factory=factory, isolation_level=None)
    second = _connect(database, factory)
    first.execute("INSERT INTO notes (who) VALUES ('autocommit')")
    second.execute("INSERT INTO notes (who) VALUES ('next')")
    second.commit()
    assert len(second.execute("SELECT * FROM notes").fetchall()) == 2


def test_only_statements_that_write_take_the_gate() -> None:
    assert opens_write("  insert into notes values (1)")
    assert opens_write("UPDATE notes SET who = 'x'")
    assert opens_write("DELETE FROM notes")
    assert opens_write("SAVEPOINT sa_savepoint_1")
    assert not opens_write("SELECT * FROM notes")
    assert not opens_write("PRAGMA journal_mode=WAL")


def _hold(path: str, held: Any, go: Any) -> None:
    gate = WriteGate(path)
    gate.acquire(5)
    held.set()
    go.wait(10)
    gate.release()


def test_the_gate_holds_between_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "studio.sqlite-gate")
    context = multiprocessing.get_context("spawn")
    held, go = context.Event(), context.Event()
    other = context.Process(target=_hold, args=(path, held, go))
    other.start()
    try:
        assert held.wait(30)
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            WriteGate(path).acquire(0.2)
        go.set()
        other.join(10)
        gate = WriteGate(path)
        gate.acquire(5)  # free once the other process let it go
        gate.release()
    finally:
        go.set()
        other.join(10)


def _hold_forked(gate: WriteGate, held: Any, go: Any) -> None:
    gate.acquire(5)
    held.set()
    go.wait(10)
    gate.release()


def _try_forked(gate: WriteGate, answer: Any) -> None:
    try:
        gate.acquire(0.2)
    except sqlite3.OperationalError:
        answer.put("locked")
        return
    gate.release()
    answer.put("acquired")


def test_workers_forked_from_one_parent_do_not_share_a_hold_on_the_gate(tmp_path: Path) -> None:
    """gunicorn forks its workers from one parent: each must open its own lock file (a
    `flock` is held per open file, and an inherited descriptor is the same open file)."""
    gate = WriteGate(str(tmp_path / "studio.sqlite-gate"))
    gate.acquire(5)  # the parent has opened the lock file
    gate.release()
    context = multiprocessing.get_context("fork")
    held, go, answer = context.Event(), context.Event(), context.Queue()
    holder = context.Process(target=_hold_forked, args=(gate, held, go))
    holder.start()
    try:
        assert held.wait(30)
        other = context.Process(target=_try_forked, args=(gate, answer))
        other.start()
        assert answer.get(timeout=30) == "locked"
        other.join(10)
    finally:
        go.set()
        holder.join(10)


def test_a_savepoint_that_opens_the_transaction_holds_the_gate_until_it_is_released(
    database: Path,
) -> None:
    factory = connection_factory(str(database), 0.2)
    nested = sqlite3.connect(database, factory=factory, isolation_level=None)
    other = _connect(database, factory)
    nested.execute("SAVEPOINT outer_one")
    nested.execute("INSERT INTO notes (who) VALUES ('nested')")
    with pytest.raises(sqlite3.OperationalError, match="database is locked .*write gate"):
        other.execute("INSERT INTO notes (who) VALUES ('other')")
    nested.execute("RELEASE outer_one")
    other.execute("INSERT INTO notes (who) VALUES ('other')")
    other.commit()
    assert sorted(other.execute("SELECT who FROM notes").fetchall()) == [("nested",), ("other",)]


def test_no_waiter_misses_the_lock_until_its_timeout_while_others_keep_coming_back() -> None:
    """Eight threads take the lock six times each and hold it 10 ms: whoever asks first
    once it is free would often be one that just had it, and one thread could wait out
    its 0.2 s; taken in turn after the patience, each waits at most for the others."""
    lock = FairLock()
    start = threading.Barrier(8)
    results: list[bool] = []

    def work() -> None:
        start.wait()
        for _ in range(6):
            got = lock.acquire(0.2)
            results.append(got)
            if got:
                time.sleep(0.01)
                lock.release()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [True] * 48
