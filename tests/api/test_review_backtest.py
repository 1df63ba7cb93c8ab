"""Every change request carries a backtest, shown on its review page."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.models import Artifact, Backtest, User
from studio.services import artifacts
from tests.api.conftest import publish_demo
from tests.factories.web import post, sign_in_as


def test_submitting_a_change_runs_a_backtest_shown_on_the_review_page(
    app: Flask, session: Session, client: FlaskClient
) -> None:
    with app.app_context():
        publish_demo(app, session)
    artifact = artifacts.find(session, "ruleset", "pharmacy")
    source = artifacts.head(session, artifact).body["source"]
    start = source.index('rule "Refill savings')
    end = source.index("rule ", start + 5)
    author = session.scalar(select(User).where(User.email == "sam@demo.studio"))
    artifacts.save(
        session,
        artifact,
        body={"source": source[:start] + source[end:]},
        base_number=artifact.head_number,
        actor_id=author.id,
        summary="no savings",
    )
    session.commit()
    sign_in_as(client, author)
    answer = post(
        client,
        "/reviews/new",
        {"title": "Drop refill savings", "artifact": [str(session.get(Artifact, artifact.id).id)]},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    backtest = session.scalar(select(Backtest).order_by(Backtest.id.desc()))
    assert backtest is not None and backtest.status == "done", backtest and backtest.message
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'id="backtest"' in page and "decisions change" in page
    assert f"backtest #{backtest.id}" in page
    assert "refill_savings" in page  # an example that changes names the offer it loses
