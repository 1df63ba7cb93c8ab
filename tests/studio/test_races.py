"""Saving, approving and publishing at the same moment end in a clear answer.

Each round starts threads on their own sessions (as separate requests would) and lets
them go at once. Every outcome is a success or one of the studio's own refusals, never a
database error; a save from the current head is never told someone else changed it; and
however many publishes race for one approval, one bundle comes out of it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from studio.db import get_database
from studio.errors import EditConflict, PublishRefused, StudioError, ValidationFailed
from studio.models import Artifact, Bundle
from studio.services import approvals, artifacts, publish, verdicts
from tests.factories.people import make_user
from tests.factories.reviews import (
    FakeToolchain,
    approved_offer,
    make_offer,
    offer_body,
    ring,
    submit,
)

pytestmark = pytest.mark.committed


def _race(app, actions: list[Callable[[Any], Any]]) -> list[Any]:
    """Run each action on its own session at once; its result or the exception it raised."""
    database = get_database(app)
    start = threading.Barrier(len(actions))
    outcomes: list[Any] = [None] * len(actions)

    def run(index: int) -> None:
        own = database.session()
        try:
            start.wait()
            outcomes[index] = actions[index](own)
            own.commit()
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            own.rollback()
            outcomes[index] = exc
        finally:
            own.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def _refusals_only(outcomes: list[Any]) -> None:
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            assert isinstance(outcome, StudioError), repr(outcome)


def test_five_publishes_of_one_approval_make_one_bundle(app, session) -> None:
    author, reviewer = make_user(session, "marketer"), make_user(session, "reviewer")
    for round_number in range(3):
        approved_offer(session, author, reviewer, f"offer_{round_number}")
        keys = ring(app)

        def publish_it(own, keys=keys):
            actor = own.get(type(reviewer), reviewer.id)
            return publish.publish(own, actor=actor, ring=keys, toolchain=FakeToolchain())

        outcomes = _race(app, [publish_it] * 5)
        _refusals_only(outcomes)
        published = [o for o in outcomes if not isinstance(o, Exception)]
        assert len(published) == 1
        for refused in (o for o in outcomes if isinstance(o, PublishRefused)):
            assert any(p.code == "nothing-to-publish" for p in refused.problems)
        session.expire_all()
        assert session.scalar(select(func.count()).select_from(Bundle)) == round_number + 1


def test_a_save_racing_an_approval_and_a_publish_is_never_a_false_conflict(app, session) -> None:
    author, reviewer = make_user(session, "marketer"), make_user(session, "reviewer")
    keys = ring(app)
    for round_number in range(4):
        offer = make_offer(session, author, f"raced_{round_number}")
        request = submit(session, author, offer, title=f"Round {round_number}")
        seen = approvals.pins_token(request)
        other = approved_offer(session, author, reviewer, f"other_{round_number}")
        assert other.approved_number == 1

        def approve_it(own, request=request, seen=seen):
            return verdicts.review(
                own,
                own.get(type(request), request.id),
                reviewer=own.get(type(reviewer), reviewer.id),
                verdict="approve",
                body="",
                seen=seen,
            )

        def save_it(own, offer=offer):
            target = own.get(Artifact, offer.id)
            return artifacts.save(
                own,
                target,
                body=offer_body(target.key, headline="Edited"),
                base_number=1,
                actor_id=author.id,
            )

        def publish_it(own):
            return publish.publish(
                own,
                actor=own.get(type(reviewer), reviewer.id),
                ring=keys,
                toolchain=FakeToolchain(),
            )

        approved, saved, published = _race(app, [approve_it, save_it, publish_it])
        _refusals_only([approved, saved, published])
        assert not isinstance(saved, EditConflict), "nobody else edited this offer"
        session.expire_all()
        fresh = session.get(Artifact, offer.id)
        assert fresh is not None and fresh.head_number == 2
        if isinstance(approved, Exception):
            # The edit came first: the reviewer is told so, in the studio's own words.
            assert isinstance(approved, ValidationFailed)
            assert [e.field for e in approved.errors] == ["seen"]
