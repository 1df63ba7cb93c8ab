"""Contact history stores: caps hold in every store, across processes with SQLite and Redis.

The Redis tests run against the Redis on 127.0.0.1:6379 (each test uses its own key
prefix); where no Redis answers there, or the `redis` package is not installed, they
are skipped with that reason and the memory and SQLite stores are still tested.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundle.history import MAX_READ, HistoryStore, HistoryUnavailable, MemoryHistory
from dsl.policy import Cap, Contact, Outcome
from dsl.schema import parse_datetime
from studio_client.history import RedisHistory, SQLiteHistory
from tests.bundle.policy_helpers import AT, OFFER_VALUES, interaction, runtime

OFFER_KEYS = list(OFFER_VALUES)

MOMENT = parse_datetime(AT).timestamp()
DAY = 86400.0
WEEK_CAP = Cap(
    1,
    "limit refill_generic to 1 per customer per 7 days",
    "customer",
    "refill_generic",
    None,
    1,
    7 * 86400,
)


def _redis_reason() -> str | None:
    try:
        import redis
    except ImportError:
        return "the redis package is not installed (pip install 'pos-studio-client[redis]')"
    try:
        redis.Redis(
            host="127.0.0.1", port=6379, socket_timeout=0.5, socket_connect_timeout=0.5
        ).ping()
    except (redis.RedisError, OSError) as exc:
        return f"no Redis answers on 127.0.0.1:6379 ({exc})"
    return None


REDIS_REASON = _redis_reason()
needs_redis = pytest.mark.skipif(REDIS_REASON is not None, reason=REDIS_REASON or "")


def _redis_store(prefix: str | None = None) -> RedisHistory:
    return RedisHistory(
        "redis://127.0.0.1:6379/0", prefix=prefix or f"test-{uuid.uuid4().hex}", timeout=0.5
    )


def _drop_prefix(store: RedisHistory) -> None:
    for key in store.redis.scan_iter(f"{store.prefix}:*"):
        store.redis.delete(key)


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=needs_redis)])
def make_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], HistoryStore]]:
    made: list[Any] = []

    def make() -> HistoryStore:
        if request.param == "memory":
            store: Any = MemoryHistory()
        elif request.param == "sqlite":
            store = SQLiteHistory(tmp_path / f"{uuid.uuid4().hex}.sqlite")
        else:
            store = _redis_store()
        made.append(store)
        return store

    yield make
    for store in made:
        if isinstance(store, RedisHistory):
            _drop_prefix(store)


def _all_contacts(store: HistoryStore, customer: str) -> list[Contact]:
    return list(store.read(customer, since=-1e12, now=MOMENT + 400 * DAY, daily_offers=()).contacts)


operations = st.lists(
    st.one_of(
        st.tuples(st.just("decide"), st.floats(-5, 90), st.sampled_from(["sms", "chat", "email"])),
        st.tuples(
            st.just("outcome"),
            st.floats(-5, 90),
            st.sampled_from(["declined", "complaint", "shown"]),
        ),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_no_sequence_of_decisions_and_outcomes_exceeds_a_declared_cap(
    make_store: Callable[[], HistoryStore], ops: list[tuple[str, float, str]]
) -> None:
    store, rt = make_store(), runtime()
    for index, (kind, day, detail) in enumerate(ops):
        moment = MOMENT + day * DAY
        if kind == "decide":
            rt.decide(
                interaction(channel=detail, at=_at(moment)),
                channels=(),
                history=store,
                decision_id=f"d{index}",
            )
        else:
            # The same event id now and then: an outcome is recorded once.
            store.record_outcome("c-1", f"e{index % 3}", Outcome("refill_generic", detail, moment))
    contacts = _all_contacts(store, "c-1")
    refills = sorted(c.at for c in contacts if c.offer == "refill_generic")
    assert all(b - a >= 7 * DAY for a, b in zip(refills, refills[1:], strict=False))
    sms = sorted(c.at for c in contacts if c.channel == "sms")
    assert all(sms[i + 2] - sms[i] >= 30 * DAY for i in range(len(sms) - 2))


def _at(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat()


def test_decisions_give_back_exactly_what_was_recorded(
    make_store: Callable[[], HistoryStore],
) -> None:
    store, rt = make_store(), runtime()
    made = [
        o["offer"]
        for day in range(10)
        for o in rt.decide(interaction(at=_at(MOMENT + day * DAY)), channels=(), history=store)[
            "offers"
        ]
    ]
    assert sorted(made) == sorted(c.offer for c in _all_contacts(store, "c-1"))
    assert made.count("refill_generic") == 2  # days 0 and 7


def test_a_duplicate_outcome_event_is_recorded_once(make_store: Callable[[], HistoryStore]) -> None:
    store = make_store()
    outcome = Outcome("refill_generic", "declined", MOMENT)
    assert store.record_outcome("c-1", "evt-1", outcome) is True
    assert store.record_outcome("c-1", "evt-1", outcome) is False
    assert len(store.read("c-1", since=MOMENT - DAY, now=MOMENT, daily_offers=()).outcomes) == 1


def test_a_retried_decision_is_recorded_once(make_store: Callable[[], HistoryStore]) -> None:
    store = make_store()
    contact = [Contact("mobile_alerts", "chat", MOMENT)]
    assert store.record("c-1", "same-id", contact, [], MOMENT) == [True]
    assert store.record("c-1", "same-id", contact, [], MOMENT) == [False]
    assert len(_all_contacts(store, "c-1")) == 1


def test_an_event_from_the_future_counts_as_now(make_store: Callable[[], HistoryStore]) -> None:
    store = make_store()
    # A downstream clock ten days ahead recorded a refill "in the future".
    assert store.record(
        "c-1",
        "skewed",
        [Contact("refill_generic", "chat", MOMENT + 10 * DAY)],
        [WEEK_CAP],
        MOMENT + 10 * DAY,
    ) == [True]
    decision = runtime().decide(interaction(), channels=(), history=store)
    assert "refill_generic" not in [o["offer"] for o in decision["offers"]]


def test_a_decline_from_the_future_suppresses_as_if_it_were_now(
    make_store: Callable[[], HistoryStore],
) -> None:
    store = make_store()
    # The event's clock is a year ahead: outside no window, so it suppresses today.
    store.record_outcome("c-1", "ahead", Outcome("refill_generic", "declined", MOMENT + 365 * DAY))
    decision = runtime().decide(interaction(), channels=(), history=store)
    assert "refill_generic" not in [o["offer"] for o in decision["offers"]]
    assert any(
        r["offer"] == "refill_generic" and r["reason"].startswith("suppressed")
        for r in decision["policy"]["removed"]
    )


def test_a_huge_history_is_read_only_within_the_window_and_still_caps(
    make_store: Callable[[], HistoryStore],
) -> None:
    store = make_store()
    old = [Contact("mobile_alerts", "chat", MOMENT - 60 * DAY + i) for i in range(MAX_READ + 500)]
    assert all(store.record("c-1", "bulk-old", old, [], MOMENT - 50 * DAY))
    recent = [Contact("refill_generic", "chat", MOMENT - DAY + i) for i in range(MAX_READ + 5)]
    assert all(store.record("c-1", "bulk-recent", recent, [], MOMENT - DAY + 1))
    history = store.read("c-1", since=MOMENT - 7 * DAY, now=MOMENT, daily_offers=())
    assert len(history.contacts) == MAX_READ
    assert {c.offer for c in history.contacts} == {"refill_generic"}
    decision = runtime().decide(interaction(), channels=(), history=store)
    assert "refill_generic" not in [o["offer"] for o in decision["offers"]]


def test_a_cap_hidden_behind_a_cut_off_read_is_refused_never_exceeded(
    make_store: Callable[[], HistoryStore],
) -> None:
    store = make_store()
    older = [Contact("refill_generic", "chat", MOMENT - 3 * DAY)]
    assert store.record("c-1", "older", older, [], MOMENT - 3 * DAY) == [True]
    newer = [Contact("mobile_alerts", "email", MOMENT - 2 * DAY + i) for i in range(MAX_READ + 5)]
    assert all(store.record("c-1", "bulk", newer, [], MOMENT - DAY))
    history = store.read("c-1", since=MOMENT - 7 * DAY, now=MOMENT, daily_offers=())
    # The refill three days ago is beyond the 10,000 most recent entries a read returns.
    assert history.contacts_cut
    assert "refill_generic" not in {c.offer for c in history.contacts}
    decision = runtime().decide(interaction(), channels=(), history=store)
    assert "refill_generic" not in [o["offer"] for o in decision["offers"]]
    assert any(
        r["offer"] == "refill_generic" and "longer than a read returns" in r["reason"]
        for r in decision["policy"]["removed"]
    )
    fresh = [Contact("refill_generic", "chat", MOMENT)]
    assert store.record("c-1", "direct", fresh, [WEEK_CAP], MOMENT) == [False]


def test_a_locked_sqlite_file_is_unavailable_within_its_timeout(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "h.sqlite"
    store = SQLiteHistory(path, timeout=0.05)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(HistoryUnavailable):
            store.record(
                "c-1", "d", [Contact("refill_generic", "chat", MOMENT)], [WEEK_CAP], MOMENT
            )
        decision = runtime().decide(interaction(), channels=(), history=store)
        assert decision["policy"]["history"]["ok"] is False
        assert "refill_generic" not in [o["offer"] for o in decision["offers"]]
    finally:
        blocker.execute("ROLLBACK")


@needs_redis
def test_a_redis_that_is_down_denies_capped_offers_within_the_timeout() -> None:
    store = RedisHistory("redis://127.0.0.1:1/0", timeout=0.05)
    with pytest.raises(HistoryUnavailable):
        store.read("c-1", since=0, now=MOMENT, daily_offers=())
    decision = runtime().decide(interaction(), channels=(), history=store)
    assert decision["offers"] == []
    assert decision["policy"]["history"]["ok"] is False


def _silent_server() -> tuple[socket.socket, int]:
    """A TCP port that accepts connections and never answers (a Redis that hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    return server, int(server.getsockname()[1])


@pytest.mark.skipif(
    importlib.util.find_spec("redis") is None, reason="the redis package is not installed"
)
def test_a_redis_that_never_answers_denies_capped_offers_and_says_so() -> None:
    server, port = _silent_server()
    try:
        store = RedisHistory(f"redis://127.0.0.1:{port}/0", timeout=0.05)
        decision = runtime().decide(interaction(), channels=(), history=store)
        history = decision["policy"]["history"]
        assert (history["ok"], history["fallback"]) == (False, "deny")
        assert "Timeout" in history["error"] or "timed out" in history["error"]
        assert decision["offers"] == []  # every offer here is capped or suppressible
        ignored = runtime().decide(
            interaction(), channels=(), history=store, on_unavailable="ignore"
        )
        assert ignored["policy"]["history"]["fallback"] == "ignore"
        assert ignored["offers"]
    finally:
        server.close()


def _decide_many(prefix: str, runs: int, start: Any, results: Any) -> None:
    store: HistoryStore = (
        SQLiteHistory(prefix, timeout=5) if prefix.endswith(".sqlite") else _redis_store(prefix)
    )
    rt = runtime()
    start.wait()
    made = 0
    for n in range(runs):
        decision = rt.decide(
            interaction(channel="sms"),
            channels=(),
            history=store,
            decision_id=f"{multiprocessing.current_process().name}-{n}",
        )
        made += sum(1 for o in decision["offers"] if o["offer"] == "refill_generic")
    results.put(made)


@needs_redis
def test_two_processes_sharing_redis_never_exceed_a_cap_between_them() -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=_decide_many, args=(prefix, 40, start, results)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    store = _redis_store(prefix)
    try:
        made = results.get(timeout=5) + results.get(timeout=5)
        recorded = _all_contacts(store, "c-1")
        assert made == 1  # `limit refill_generic to 1 per customer per 7 days`
        # 80 decisions in all: `limit offers by sms to 2 per customer per 30 days` held.
        assert len([c for c in recorded if c.channel == "sms"]) == 2
        assert len([c for c in recorded if c.offer == "refill_generic"]) == 1
    finally:
        _drop_prefix(store)


def test_two_processes_sharing_a_sqlite_file_never_exceed_a_cap_between_them(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "shared.sqlite")
    SQLiteHistory(path)  # the schema, before the two race
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=_decide_many, args=(path, 40, start, results)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    made = results.get(timeout=5) + results.get(timeout=5)
    recorded = _all_contacts(SQLiteHistory(path), "c-1")
    assert made == 1  # `limit refill_generic to 1 per customer per 7 days`
    assert len([c for c in recorded if c.channel == "sms"]) == 2
    assert len([c for c in recorded if c.offer == "refill_generic"]) == 1


def test_a_decision_retried_with_its_id_is_recorded_once(
    make_store: Callable[[], HistoryStore],
) -> None:
    store, rt = make_store(), runtime()
    first = rt.decide(interaction(), channels=(), history=store, decision_id="retry-me")
    again = rt.decide(interaction(), channels=(), history=store, decision_id="retry-me")
    assert first["offers"]
    assert again["offers"] == []  # its offers were recorded once, by the first
    assert len(_all_contacts(store, "c-1")) == len(first["offers"])


def test_a_policy_step_that_fails_inside_the_store_records_nothing(tmp_path: Path) -> None:
    for store in (MemoryHistory(), SQLiteHistory(tmp_path / "h.sqlite")):

        def choose(history: Any) -> list[Contact]:
            raise RuntimeError("the policy step broke")

        with pytest.raises(RuntimeError):
            store.read_and_record(
                "c-1", since=MOMENT - DAY, now=MOMENT, decision_id="d", choose=choose
            )
        assert _all_contacts(store, "c-1") == []
        # The lock or the write transaction was let go: the store still works.
        _, recorded = store.read_and_record(
            "c-1",
            since=MOMENT - DAY,
            now=MOMENT,
            decision_id="d",
            choose=lambda history: [Contact("mobile_alerts", "chat", MOMENT)],
        )
        assert recorded == [True] and len(_all_contacts(store, "c-1")) == 1


def test_threads_sharing_a_sqlite_file_wait_their_turn_and_none_is_refused(
    tmp_path: Path,
) -> None:
    """Eight threads record at once, each holding the write transaction for 10 ms (a
    slow policy step): with a 0.2 s timeout each waits at most for the seven others,
    and none is refused as "database is locked" (SQLite's own retries, which sleep in
    growing steps, let a writer miss its turn until it times out)."""
    store = SQLiteHistory(tmp_path / "h.sqlite", timeout=0.2)
    start = threading.Barrier(8)
    refused: list[BaseException] = []
    recorded: list[bool] = []

    def slow(history: Any) -> list[Contact]:
        time.sleep(0.01)
        return [Contact("mobile_alerts", "chat", MOMENT)]

    def decide(n: int) -> None:
        start.wait()
        for k in range(6):
            try:
                _, made = store.read_and_record(
                    f"c-{n}",
                    since=MOMENT - DAY,
                    now=MOMENT,
                    decision_id=f"d-{n}-{k}",
                    choose=slow,
                )
                recorded.extend(made)
            except HistoryUnavailable as exc:
                refused.append(exc)

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert refused == []
    assert recorded == [True] * 48


def test_a_store_subclass_that_changes_read_is_not_gone_round() -> None:
    from bundle.history import supports_read_and_record

    class Audited(MemoryHistory):
        def read(self, *args: Any, **kwargs: Any) -> Any:
            return super().read(*args, **kwargs)

    assert supports_read_and_record(MemoryHistory())
    assert not supports_read_and_record(Audited())
    for store in (SQLiteHistory, RedisHistory):
        assert store.reads_and_records
        audited: Any = type("Audited", (store,), {"record": lambda self, *a, **k: None})
        assert not audited.reads_and_records  # its own record would be gone round
        plain: Any = type("Plain", (store,), {})
        assert plain.reads_and_records


class _CountingRedis(RedisHistory):
    """A Redis store that counts what it sends (one command, one round trip) and each
    reservation it had to undo."""

    def __init__(self) -> None:
        import redis

        sent = self.sent = [0]

        class Counting(redis.Connection):
            """Every write to the socket (a command, or a whole pipeline) is a trip."""

            def send_packed_command(self, *args: Any, **kwargs: Any) -> None:
                sent[0] += 1
                super().send_packed_command(*args, **kwargs)

        pool = redis.ConnectionPool(
            host="127.0.0.1", port=6379, socket_timeout=0.5, connection_class=Counting
        )
        super().__init__(
            client=redis.Redis(connection_pool=pool), prefix=f"test-{uuid.uuid4().hex}"
        )
        self.undone = 0

    def _undo(self, *args: Any, **kwargs: Any) -> None:
        self.undone += 1
        super()._undo(*args, **kwargs)


@needs_redis
def test_a_redis_decision_is_one_round_trip() -> None:
    store, rt = _CountingRedis(), runtime()
    try:
        # The first decision also loads the script into Redis.
        first = rt.decide(interaction(at=_at(MOMENT - DAY)), channels=(), history=store)
        store.sent[0] = 0
        decision = rt.decide(interaction(), channels=(), history=store)
        assert decision["offers"] and decision["policy"]["history"]["ok"]
        assert store.sent[0] == 1
        # Both decisions' offers were recorded; the refill once (1 per 7 days).
        recorded = [c.offer for c in _all_contacts(store, "c-1")]
        assert sorted(recorded) == sorted(o["offer"] for o in first["offers"] + decision["offers"])
        assert recorded.count("refill_generic") == 1
    finally:
        _drop_prefix(store)


@needs_redis
def test_redis_settles_decisions_on_the_server_exactly_as_the_policy_does() -> None:
    """Over varied decisions and outcomes (suppressions, caps per offer, channel and
    day, `at most` per channel, the chat fallback, a policy guard) what the script
    reserved was always what the policy kept: no reservation was ever undone."""
    import random

    store, rt, rng = _CountingRedis(), runtime(), random.Random(12)
    made = removed = 0
    try:
        for n in range(240):
            moment = MOMENT + n * 4 * 3600
            customer = f"c-{rng.randrange(3)}"
            if rng.random() < 0.12:
                offer = rng.choice([*OFFER_KEYS, None])
                kind = rng.choice(["declined", "complaint", "accepted"])
                store.record_outcome(customer, f"e-{n}", Outcome(offer, kind, moment))
            body = interaction(
                customer,
                channel=rng.choice(["sms", "chat", "email"]),
                intent=rng.choice(["refill", "refill", "alerts"]),
                at=_at(moment),
            )
            body["customer"]["state"] = rng.choice(["CA"] * 9 + ["NY"])
            decision = rt.decide(body, channels=(), history=store)
            made += len(decision["offers"])
            removed += len(decision["policy"]["removed"])
        assert made > 50 and removed > 50  # both kinds of outcome were exercised
        assert store.undone == 0
    finally:
        _drop_prefix(store)


@needs_redis
def test_redis_undoes_its_reservation_when_the_caller_sent_history_refuses_the_offer() -> None:
    store, rt = _CountingRedis(), runtime()
    try:
        body = interaction(channel="sms")
        # Sent by the caller, unknown to Redis: refill_generic two days ago.
        body["customer"]["recent_offers"] = [
            {"offer": "refill_generic", "at": "2026-05-30T09:00:00Z"}
        ]
        decision = rt.decide(body, channels=(), history=store)
        made = [o["offer"] for o in decision["offers"]]
        assert made and "refill_generic" not in made
        assert made == [
            o["offer"] for o in rt.decide(body, channels=(), history=MemoryHistory())["offers"]
        ]
        assert store.undone == 1  # the script had reserved refill_generic
        assert [c.offer for c in _all_contacts(store, "c-1")] == made
        day = int(MOMENT // DAY)
        assert store.redis.get(f"{store.prefix}:d:refill_generic:{day}") in (None, b"0")
    finally:
        _drop_prefix(store)


def _markers(store: Any) -> int:
    """How many decision markers (kept against retries) the store holds."""
    if isinstance(store, MemoryHistory):
        return len(store._decisions)
    if isinstance(store, SQLiteHistory):
        return int(store._connection().execute("SELECT count(*) FROM decisions").fetchone()[0])
    return len(list(store.redis.scan_iter(f"{store.prefix}:m:*")))


def test_a_decision_whose_id_was_made_for_it_keeps_no_retry_marker(
    make_store: Callable[[], HistoryStore],
) -> None:
    """A marker per decision would grow the store for nothing (Redis keeps each for
    months): only an id the caller chose can come back in a retry."""
    store, rt = make_store(), runtime()
    made = rt.decide(interaction(), channels=(), history=store)
    fresh = rt.decide(
        interaction(at=_at(MOMENT + DAY)),
        channels=(),
        history=store,
        decision_id="made-now",
        fresh_decision_id=True,
    )
    assert made["offers"] and fresh["offers"]
    assert len(_all_contacts(store, "c-1")) == len(made["offers"]) + len(fresh["offers"])
    assert _markers(store) == 0
    rt.decide(interaction(at=_at(MOMENT + 2 * DAY)), channels=(), history=store, decision_id="mine")
    assert _markers(store) == 1


class _Answer:
    """A connection whose every statement answers the given rows, in the given order."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def execute(self, sql: str, params: Any) -> _Answer:
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self.rows)


times = st.floats(MOMENT - 20 * DAY, MOMENT + DAY, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(
    contacts=st.lists(
        st.tuples(st.sampled_from(["a", "b"]), st.sampled_from([None, "sms"]), times), max_size=8
    ),
    outcomes=st.lists(
        st.tuples(st.sampled_from([None, "a"]), st.sampled_from(["declined", "complaint"]), times),
        max_size=5,
    ),
    totals=st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 9)),
    order=st.randoms(use_true_random=False),
)
def test_a_sqlite_read_gives_the_same_history_in_whatever_order_its_rows_come(
    contacts: list[tuple[Any, ...]],
    outcomes: list[tuple[Any, ...]],
    totals: dict[str, int],
    order: Any,
) -> None:
    """SQL does not promise that a UNION ALL keeps its parts' order: the read must not
    depend on it."""
    from studio_client.history import _select

    rows = [
        *((0, o, c, at) for o, c, at in sorted(contacts, key=lambda r: -r[2])),
        *((1, o, k, at) for o, k, at in sorted(outcomes, key=lambda r: -r[2])),
        *((2, o, "", n) for o, n in totals.items()),
    ]
    order.shuffle(rows)
    history = _select(_Answer(rows), "c-1", MOMENT - 30 * DAY, 0, ["a", "b"], outcomes=True)  # type: ignore[arg-type]
    assert sorted(history.contacts, key=repr) == sorted(
        (Contact(o, c, at) for o, c, at in contacts), key=repr
    )
    assert list(history.ats) == sorted(at for _, _, at in contacts)
    assert sorted(history.outcomes, key=repr) == sorted(
        (Outcome(o, k, at) for o, k, at in outcomes), key=repr
    )
    assert [o.at for o in history.outcomes] == sorted(at for _, _, at in outcomes)
    assert history.day_totals == {"a": 0, "b": 0, **totals}
