"""Revisions: every save is kept, and concurrent editors never overwrite each other."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm import Session

from studio.db import get_database
from studio.errors import EditConflict
from studio.models import Artifact, AuditEvent, Revision
from studio.services import artifacts
from tests.factories import make_user


def _offer(session: Session, author_id: int) -> Artifact:
    artifact = artifacts.create(
        session,
        kind="offer",
        key="rewards_card",
        name="Rewards card",
        body={"headline": "Earn 2% back"},
        actor_id=author_id,
    )
    session.commit()
    return artifact


def test_each_save_adds_a_revision_and_history_lists_them_newest_first(session) -> None:
    mara = make_user(session, "marketer")
    offer = _offer(session, mara.id)
    artifacts.save(
        session,
        offer,
        body={"headline": "Earn 3% back"},
        base_number=1,
        actor_id=mara.id,
        summary="Better rate",
    )
    session.commit()
    numbers = [(r.number, r.body["headline"]) for r in artifacts.history(session, offer)]
    assert numbers == [(2, "Earn 3% back"), (1, "Earn 2% back")]
    assert session.query(AuditEvent).filter_by(action="offer.edit").count() == 1


def test_save_from_a_stale_revision_is_refused_with_the_other_persons_version(session) -> None:
    mara = make_user(session, "marketer")
    omar = make_user(session, "marketer")
    offer = _offer(session, mara.id)
    artifacts.save(session, offer, body={"headline": "Mara's"}, base_number=1, actor_id=mara.id)
    session.commit()
    with pytest.raises(EditConflict) as conflict:
        artifacts.save(session, offer, body={"headline": "Omar's"}, base_number=1, actor_id=omar.id)
    assert conflict.value.theirs is not None
    assert conflict.value.theirs.body == {"headline": "Mara's"}
    session.rollback()
    assert artifacts.head(session, offer).body == {"headline": "Mara's"}


@pytest.mark.committed
def test_concurrent_editors_never_lose_an_update(app, session) -> None:
    """Threads race to save from the same base: exactly one wins each round."""
    mara = make_user(session, "marketer")
    offer = _offer(session, mara.id)
    database = get_database(app)
    outcomes: list[str] = []
    lock = threading.Lock()

    def editor(n: int, base: int) -> None:
        own = database.session()
        try:
            target = own.get(Artifact, offer.id)
            artifacts.save(
                own, target, body={"headline": f"edit {n}"}, base_number=base, actor_id=mara.id
            )
            own.commit()
            result = "saved"
        except EditConflict:
            own.rollback()
            result = "conflict"
        finally:
            own.close()
        with lock:
            outcomes.append(result)

    for round_base in (1, 2, 3):
        threads = [threading.Thread(target=editor, args=(n, round_base)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert outcomes.count("saved") == 3
    assert outcomes.count("conflict") == 9
    session.expire_all()
    assert session.query(Revision).filter_by(artifact_id=offer.id).count() == 4


def test_listing_searches_by_key_and_name_and_hides_archived(session) -> None:
    mara = make_user(session, "marketer")
    for key, name in [
        ("rewards_card", "Rewards card"),
        ("mobile_alerts", "Mobile alerts"),
        ("retention_discount", "Retention discount"),
    ]:
        artifacts.create(session, kind="offer", key=key, name=name, body={}, actor_id=mara.id)
    session.commit()
    assert [a.key for a in artifacts.listing(session, "offer", query="re").items] == [
        "retention_discount",
        "rewards_card",
    ]
    # `%` and `_` are what the user typed, not wildcards: nothing holds a `%`, and
    # "d_s" is in no key (as a pattern it would match "dis" in Retention discount).
    assert artifacts.listing(session, "offer", query="%").total == 0
    assert artifacts.listing(session, "offer", query="d_s").total == 0
    assert [a.key for a in artifacts.listing(session, "offer", query="e_a").items] == [
        "mobile_alerts"
    ]
    archived = artifacts.find(session, "offer", "mobile_alerts")
    artifacts.set_archived(session, archived, True, actor_id=mara.id)
    session.commit()
    assert artifacts.listing(session, "offer").total == 2
    assert artifacts.listing(session, "offer", archived=True).items == [archived]


def test_diff_shows_the_changed_lines_of_a_ruleset_source() -> None:
    lines = artifacts.unified_diff(
        {"source": "rule a\n  offer x\n"},
        {"source": "rule a\n  offer y\n"},
        before_label="r1",
        after_label="r2",
    )
    assert "-  offer x" in lines and "+  offer y" in lines
