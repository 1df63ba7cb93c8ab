"""An edit voids the verdicts on it in every studio process, whatever that process imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy.orm import Session

from studio import migrate
from studio.db import Database
from studio.models import Artifact, ChangeRequest, ChangeRequestItem, Review, User
from studio.services import artifacts

ROOT = Path(__file__).resolve().parents[2]

#: Modules that hold the review workflow; the script below must run without any of them.
REVIEW_MODULES = (
    "submission",
    "verdicts",
    "review_settings",
    "review_reading",
    "rendered_impact",
    "permissions",
    "publish",
)

# Builds an approved change request from plain rows, edits its offer through the
# artifacts service, and reports what became of the verdict.
SCRIPT = textwrap.dedent("""
    import json, sys

    from studio import migrate
    from studio.db import Database
    from studio.models import Artifact, ChangeRequest, ChangeRequestItem, Review, User
    from studio.services import artifacts

    url = sys.argv[1]
    migrate.upgrade(url)
    database = Database(url)
    with database.session() as session:
        author = User(email="mara@example.com", name="Mara", password_hash="x")
        reviewer = User(email="rita@example.com", name="Rita", password_hash="x")
        session.add_all([author, reviewer])
        session.flush()
        offer = artifacts.create(session, kind="offer", key="card_protection",
                                 name="Card protection", body={"headline": "Stay safe"},
                                 actor_id=author.id)
        request = ChangeRequest(title="New offer", author_id=author.id, status="approved")
        request.items.append(ChangeRequestItem(artifact_id=offer.id, revision_number=1))
        session.add(request)
        session.flush()
        offer.approved_number = 1
        session.add(Review(change_request_id=request.id, reviewer_id=reviewer.id,
                           verdict="approve", pinned={"offer:card_protection": 1}))
        session.commit()

        artifacts.save(session, offer, body={"headline": "Stay safer"}, base_number=1,
                       actor_id=author.id)
        session.commit()

        verdict = session.query(Review).one()
        item = session.query(ChangeRequestItem).one()
        print(json.dumps({
            "voided": verdict.voided,
            "status": session.get(ChangeRequest, request.id).status,
            "pinned_revision": item.revision_number,
            "approved_number": session.get(Artifact, offer.id).approved_number,
            "modules": sorted(name for name in sys.modules if name.startswith("studio.")),
        }))
""")


def test_editing_voids_a_verdict_in_a_process_that_never_imported_the_review_workflow(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, url],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["voided"] is True
    assert report["status"] == "in_review"
    assert report["pinned_revision"] == 2
    assert report["approved_number"] is None
    imported = {name.rsplit(".", 1)[-1] for name in report["modules"]}
    assert not imported & set(REVIEW_MODULES), report["modules"]


def test_a_session_outside_the_studio_sessionmaker_is_not_touched(tmp_path: Path) -> None:
    """The rule is attached to the studio's sessionmaker, not to SQLAlchemy globally."""
    url = f"sqlite:///{tmp_path / 'plain.sqlite3'}"
    migrate.upgrade(url)
    database = Database(url)
    try:
        with Session(database.engine) as plain:
            author = User(email="sam@example.com", name="Sam", password_hash="x")
            plain.add(author)
            plain.flush()
            rules = artifacts.create(
                plain,
                kind="ruleset",
                key="banking",
                name="Banking",
                body={"source": ""},
                actor_id=author.id,
            )
            request = ChangeRequest(title="Rules", author_id=author.id, status="in_review")
            request.items.append(ChangeRequestItem(artifact_id=rules.id, revision_number=1))
            plain.add(request)
            plain.flush()
            plain.add(
                Review(
                    change_request_id=request.id,
                    reviewer_id=author.id,
                    verdict="request_changes",
                    pinned={"ruleset:banking": 1},
                )
            )
            plain.commit()
            artifacts.save(plain, rules, body={"source": "# v2"}, base_number=1, actor_id=author.id)
            plain.commit()
            assert plain.query(Review).one().voided is False
            assert plain.query(ChangeRequestItem).one().revision_number == 1
            assert plain.get(Artifact, rules.id).head_number == 2
    finally:
        database.engine.dispose()
