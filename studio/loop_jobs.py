"""The closed loop's background jobs: webhook deliveries and complaint-driven pauses.

The services (`webhooks`, `auto_pause`) know nothing of the queue; they note the jobs
a change calls for on its session (`webhooks.intend`), and `enqueue_after_commit` hands
them to huey once the request commits (never for a change that rolled back). Periodic
sweeps every minute redo whatever a lost job or a restart left undone: due webhook
deliveries, and offers over their complaint threshold.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from studio.db import after_commit
from studio.jobs import get_jobs, job
from studio.services import auto_pause, bundles, scale_up, webhooks


def enqueue_after_commit(session: Session) -> None:
    """Enqueue the jobs noted on `session` once this request commits."""
    intents = webhooks.take_intents(session)
    if not intents:
        return
    jobs = get_jobs()

    def enqueue() -> None:
        for name, kwargs in intents:
            jobs.enqueue(name, **kwargs)

    after_commit(enqueue)


def _ring(session: Session):  # type: ignore[no-untyped-def]
    return bundles.key_ring(session, current_app.instance_path)


@job("loop.webhook_deliver")
def deliver_webhook(session: Session, *, delivery_id: int) -> str:
    return webhooks.deliver(session, delivery_id)


@job("loop.webhook_sweep", periodic="*/1 * * * *")
def sweep_webhooks(session: Session) -> int:
    sent = 0
    for delivery_id in webhooks.due(session):
        webhooks.deliver(session, delivery_id)
        session.commit()
        sent += 1
    return sent


@job("loop.pause_check", retries=3, retry_delay=5)
def check_pause(session: Session, *, offer_key: str) -> bool:
    paused = auto_pause.check(session, offer_key, _ring(session))
    _enqueue_reports(session)
    return paused is not None


@job("loop.pause_sweep", periodic="*/1 * * * *")
def sweep_pauses(session: Session) -> int:
    paused = auto_pause.sweep(session, _ring(session))
    _enqueue_reports(session)
    return len(paused)


def _enqueue_reports(session: Session) -> None:
    """A pause queues a webhook report; send it once the job's session has committed."""
    intents = webhooks.take_intents(session)
    session.commit()
    jobs = get_jobs()
    for name, kwargs in intents:
        jobs.enqueue(name, **kwargs)


@job("loop.scale_up", periodic="7 * * * *")
def flag_scale_up(session: Session) -> int:
    return len(scale_up.flag(session))
