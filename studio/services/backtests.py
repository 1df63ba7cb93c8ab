"""Backtests: the drafts replayed against the published bundle over a slice of history.

A backtest row records the slice (history search parameters, or the sample library when
there is no history), the candidate, its progress and, when done, the tally of
`bundle.replay`. The job decides in chunks; with `processes` > 1 the chunks run in a
process pool, each process loading both bundles once. Progress and cancel are checked
between chunks; like the import, a run commits after each chunk so the page sees it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bundle.replay import load_for_process, merge, replay_bundles, replay_loaded
from preview.tone import with_inferred_tone
from studio.job_registry import job
from studio.models import Backtest, Interaction, utcnow
from studio.services import backtest_value, bundles, publish, samples
from studio.services.history_search import SearchParams, conditions
from studio.services.rendered_impact import as_of_today

CHUNK: Final = 2_000
DEFAULT_DAYS: Final = 30


class BacktestRefused(ValueError):
    """Nothing to compare: no published bundle, or drafts that do not compile."""


def default_slice(now: datetime | None = None) -> dict[str, str]:
    start = (now or datetime.now(UTC)) - timedelta(days=DEFAULT_DAYS)
    return {"date_from": start.date().isoformat()}


def create(
    session: Session,
    *,
    params: SearchParams,
    actor_id: int | None,
    change_request_id: int | None = None,
) -> Backtest:
    row = Backtest(
        candidate="drafts",
        slice=params.to_args(),
        status="queued",
        created_by=actor_id,
        change_request_id=change_request_id,
        result={},
    )
    session.add(row)
    session.flush()
    return row


def create_for_change(
    session: Session, change_request_id: int, *, actor_id: int | None
) -> Backtest:
    """The backtest every change request carries: the last 30 days of history (all the
    samples when there is none), queued by the caller after the commit."""
    return create(
        session,
        params=SearchParams.from_args(default_slice()),
        actor_id=actor_id,
        change_request_id=change_request_id,
    )


def get(session: Session, backtest_id: int) -> Backtest | None:
    return session.get(Backtest, backtest_id)


def recent(session: Session, limit: int = 20) -> list[Backtest]:
    return list(session.scalars(select(Backtest).order_by(Backtest.id.desc()).limit(limit)))


def latest_for_change(session: Session, change_request_id: int) -> Backtest | None:
    return session.scalar(
        select(Backtest)
        .where(Backtest.change_request_id == change_request_id)
        .order_by(Backtest.id.desc())
        .limit(1)
    )


def request_cancel(backtest: Backtest) -> None:
    if backtest.status in ("queued", "running"):
        backtest.status = "cancelling"


def bundles_to_compare(session: Session) -> tuple[dict[str, Any], dict[str, Any]]:
    """(published, drafts) bundle bodies; BacktestRefused when there is nothing to compare."""
    current = bundles.current(session)
    if current is None:
        raise BacktestRefused(
            "nothing is published yet; a backtest compares the drafts with the published bundle"
        )
    before = json.loads(current.body)
    plan = publish.prepare(session, which="head")
    errors = [p for p in plan.errors if p.code != "nothing-to-publish"]
    if errors:
        raise BacktestRefused(f"the drafts do not compile: {errors[0].message}")
    after = {**plan.body, "version": before.get("version", 0) + 1}
    return before, after


def slice_rows(session: Session, params: SearchParams) -> Iterator[dict[str, Any]]:
    """The interactions of the slice, oldest first; the sample library when history is empty."""
    has_history = session.scalar(select(Interaction.id).limit(1)) is not None
    if not has_history:  # samples are examples: decide them as if they happened today
        now = datetime.now(UTC)
        for sample in samples.all_samples(session):
            # The preview reads a sample's tone from its text (VADER and the lexicon);
            # the backtest decides the sample as the preview shows it.
            filled, _tone = with_inferred_tone(sample.body)
            yield as_of_today(filled, now)
        return
    where, _problems = conditions(session, params)
    after: list[Any] = []
    while True:  # a page at a time, by (at, id): the job commits between pages
        page = session.execute(
            select(Interaction.at, Interaction.id, Interaction.body)
            .where(*where, *after)
            .order_by(Interaction.at, Interaction.id)
            .limit(CHUNK)
        ).all()
        for row in page:
            yield row.body
        if len(page) < CHUNK:
            return
        last = page[-1]
        after = [
            or_(
                Interaction.at > last.at,
                and_(Interaction.at == last.at, Interaction.id > last.id),
            )
        ]


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def slice_size(session: Session, params: SearchParams) -> int:
    """How many interactions the slice holds (the samples when history is empty)."""
    if session.scalar(select(Interaction.id).limit(1)) is None:
        return len(samples.all_samples(session))
    where, _problems = conditions(session, params)
    return int(session.scalar(select(func.count()).select_from(Interaction).where(*where)) or 0)


def _in_pool(
    pool: ProcessPoolExecutor, chunks: Iterator[list[dict[str, Any]]], ahead: int
) -> Iterator[dict[str, Any]]:
    """Tallies of the chunks decided in `pool`, in order, with at most `ahead` chunks sent
    and not yet answered: the slice is read as the pool goes, so memory stays bounded
    however large it is (`Executor.map` would read every chunk first)."""
    waiting: deque[Future[dict[str, Any]]] = deque()
    for chunk in chunks:
        waiting.append(pool.submit(replay_loaded, chunk))
        if len(waiting) >= ahead:
            yield waiting.popleft().result()
    while waiting:
        yield waiting.popleft().result()


def dask_scheduler() -> str | None:
    """The Dask scheduler backtests run on (`STUDIO_DASK_SCHEDULER`), if any."""
    return os.environ.get("STUDIO_DASK_SCHEDULER") or None


def run(
    session: Session,
    backtest_id: int,
    *,
    processes: int = 1,
    chunk_size: int = CHUNK,
    scheduler: str | None = None,
    partitions_folder: Path | None = None,
) -> Backtest:
    """Replay the backtest's slice; on the Dask cluster at `scheduler` when given."""
    backtest = session.get(Backtest, backtest_id)
    if backtest is None or backtest.status in ("done", "cancelled"):
        return backtest  # type: ignore[return-value]
    backtest.status = "running"
    session.commit()
    try:
        before, after = bundles_to_compare(session)
    except BacktestRefused as refused:
        backtest.status, backtest.message = "failed", str(refused)
        backtest.finished_at = utcnow()
        session.commit()
        return backtest
    params = SearchParams.from_args(backtest.slice or {})
    if scheduler:
        return _run_on_cluster(
            session,
            backtest,
            before,
            after,
            params,
            scheduler,
            partitions_folder or Path(tempfile.mkdtemp(prefix="backtest-")),
        )
    backtest.total = slice_size(session, params)
    session.commit()
    tallies: list[dict[str, Any]] = []
    chunks = _chunks(slice_rows(session, params), chunk_size)
    pool = (
        ProcessPoolExecutor(processes, initializer=load_for_process, initargs=(before, after))
        if processes > 1
        else None
    )
    try:
        results = (
            _in_pool(pool, chunks, ahead=2 * processes)
            if pool is not None
            else (replay_bundles(before, after, c) for c in chunks)
        )
        for tally in results:
            tallies.append(tally)
            backtest.done += tally["decided"] + tally["refused"]
            session.commit()
            session.refresh(backtest, ["status"])
            if backtest.status == "cancelling":
                backtest.status = "cancelled"
                backtest.result = merge(tallies)
                backtest.message = f"Cancelled after {backtest.done:,} interactions."
                backtest.finished_at = utcnow()
                session.commit()
                return backtest
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return _finish(session, backtest, merge(tallies), before, after)


def _run_on_cluster(
    session: Session,
    backtest: Backtest,
    before: dict[str, Any],
    after: dict[str, Any],
    params: SearchParams,
    scheduler: str,
    folder: Path,
) -> Backtest:
    """Write the slice as Parquet partitions, decide them on the Dask workers, reduce."""
    from distributed import Client

    from bundle.replay_cluster import replay_on_cluster, write_partitions

    paths = write_partitions(slice_rows(session, params), folder)
    with Client(scheduler) as client:
        result = replay_on_cluster(client, before, after, paths)
    backtest.total = backtest.done = result["decided"] + result["refused"]
    return _finish(
        session,
        backtest,
        result,
        before,
        after,
        where=f" on the Dask cluster ({len(paths)} partitions)",
    )


def _finish(
    session: Session,
    backtest: Backtest,
    result: dict[str, Any],
    before: dict[str, Any],
    after: dict[str, Any],
    where: str = "",
) -> Backtest:
    has_history = session.scalar(select(Interaction.id).limit(1)) is not None
    if not has_history:  # examples name the sample (its key opens its preview page)
        keys = {
            str(s.body.get("id", "")): s.key
            for s in samples.all_samples(session)
            if isinstance(s.body, dict)
        }
        result["examples"] = [{**e, "key": keys.get(e["id"], e["id"])} for e in result["examples"]]
    backtest.result = {
        **result,
        "source": "history" if has_history else "samples",
        "value": backtest_value.expected_value(session, result, before, after),
    }
    backtest.status = "done"
    backtest.message = (
        f"{result['decided']:,} interactions decided{where}; "
        f"{result['changed']:,} decisions change."
    )
    backtest.finished_at = utcnow()
    session.commit()
    return backtest


def processes_setting() -> int:
    """How many processes a backtest job decides in (`STUDIO_BACKTEST_PROCESSES`, 1-64)."""
    raw = os.environ.get("STUDIO_BACKTEST_PROCESSES", "1")
    return min(64, max(1, int(raw))) if raw.isdigit() else 1


@job("backtests.run")
def backtest_job(session: Session, *, backtest_id: int) -> str:
    return run(
        session, backtest_id, processes=processes_setting(), scheduler=dask_scheduler()
    ).status
