"""One unit of work per request: the view's answer decides whether its writes are kept.

The probe views below write a real row through the request's session and then answer
in different ways; each test reads the database from a separate session afterwards.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Blueprint, Flask, flash, redirect
from flask.testing import FlaskClient
from flask.typing import RouteCallable
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from studio import audit, security
from studio.db import after_commit, db_session, get_database, keep_refused_changes
from studio.errors import FieldError, NotAllowed, ValidationFailed
from studio.models import AuditEvent, User
from tests.factories import make_user

# The probe views are added to the app, so each test needs an app of its own.
pytestmark = pytest.mark.own_app


def _write(marker: str) -> None:
    audit.record(db_session(), "probe.write", actor_id=None, object_type="probe", object_id=marker)


def _probe_app(app: Flask, calls: list[str]) -> Flask:
    probe = Blueprint("probe", __name__, url_prefix="/probe")

    def route(rule: str) -> Callable[[RouteCallable], RouteCallable]:
        """A public GET probe (GET needs no CSRF token; the unit of work ignores methods)."""
        return lambda view: probe.get(rule)(security.public(view))

    @route("/ok")
    def ok() -> str:
        _write("ok")
        return "stored"

    @route("/redirect")
    def moved() -> Response:
        _write("redirect")
        return redirect("/sign-in")

    @route("/refused")
    def refused() -> tuple[str, int]:
        _write("refused")
        return "form shown again with its errors", 422

    @route("/raises")
    def raises() -> str:
        _write("raises")
        db_session().flush()
        raise RuntimeError("a bug half-way through")

    @route("/not-allowed")
    def not_allowed() -> str:
        _write("not-allowed")
        raise NotAllowed("Nobody approves their own change.")

    @route("/invalid")
    def invalid() -> str:
        _write("invalid")
        raise ValidationFailed(
            [FieldError("title", "Give the change a title.", hint="Reviewers see it first.")]
        )

    @route("/kept")
    def kept() -> tuple[str, int]:
        _write("kept")
        keep_refused_changes()
        return "refused, but the attempt counts", 401

    @route("/kept-then-raises")
    def kept_then_raises() -> str:
        _write("kept-then-raises")
        keep_refused_changes()
        raise RuntimeError("still a bug")

    @route("/after-commit")
    def after() -> str:
        _write("after-commit")
        after_commit(lambda: calls.append(f"ran, stored={_stored_elsewhere(app)}"))
        return "stored"

    @route("/after-commit-refused")
    def after_refused() -> tuple[str, int]:
        after_commit(lambda: calls.append("must not run"))
        return "refused", 409

    @route("/commit-fails")
    def commit_fails() -> Response:
        # Two people with one email: the unique key refuses the row at commit time.
        session = db_session()
        taken = session.scalars(select(User)).first()
        assert taken is not None
        session.add(
            User(email=taken.email, name="Copy", password_hash="x", active=True, failed_logins=0)
        )
        flash("Saved.", "success")
        return redirect("/probe/ok")

    app.register_blueprint(probe)
    return app


def _stored_elsewhere(app: Flask) -> bool:
    with get_database(app).session() as other:
        return (
            other.scalar(
                select(AuditEvent).where(
                    AuditEvent.action == "probe.write", AuditEvent.object_id == "after-commit"
                )
            )
            is not None
        )


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
def probe(app: Flask, calls: list[str]) -> FlaskClient:
    return _probe_app(app, calls).test_client()


def _markers(session: Session) -> list[str]:
    session.expire_all()
    return sorted(
        session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "probe.write"))
    )


@pytest.mark.parametrize(("path", "status"), [("/probe/ok", 200), ("/probe/redirect", 302)])
def test_an_answer_below_400_commits_what_the_view_wrote(
    probe: FlaskClient, session: Session, path: str, status: int
) -> None:
    assert probe.get(path).status_code == status
    assert _markers(session) == [path.rsplit("/", 1)[1]]


def test_a_refusal_the_view_chose_stores_none_of_its_half_made_changes(
    probe: FlaskClient, session: Session
) -> None:
    assert probe.get("/probe/refused").status_code == 422
    assert _markers(session) == []


def test_a_view_that_raises_half_way_leaves_no_partial_rows(
    probe: FlaskClient, session: Session
) -> None:
    response = probe.get("/probe/raises")
    assert response.status_code == 500
    assert "nothing this request changed was saved" in response.get_data(as_text=True)
    assert _markers(session) == []


def test_not_allowed_from_any_view_is_the_403_page_with_the_reason(
    probe: FlaskClient, session: Session
) -> None:
    response = probe.get("/probe/not-allowed")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "You do not have access to this page" in html
    assert "Nobody approves their own change." in html and "<html" in html
    assert _markers(session) == []


def test_not_allowed_for_htmx_is_the_error_partial(probe: FlaskClient) -> None:
    response = probe.get("/probe/not-allowed", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Nobody approves their own change." in html and "<html" not in html


def test_an_uncaught_validation_failure_is_a_422_page_listing_the_problems(
    probe: FlaskClient, session: Session
) -> None:
    response = probe.get("/probe/invalid")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Give the change a title." in html and "Reviewers see it first." in html
    assert "Nothing was saved" in html
    assert _markers(session) == []


def test_a_refusal_marked_to_keep_its_changes_commits_them(
    probe: FlaskClient, session: Session
) -> None:
    assert probe.get("/probe/kept").status_code == 401
    assert _markers(session) == ["kept"]


def test_keeping_refused_changes_never_keeps_those_of_an_exception(
    probe: FlaskClient, session: Session
) -> None:
    assert probe.get("/probe/kept-then-raises").status_code == 500
    assert _markers(session) == []


def test_after_commit_actions_run_once_the_changes_are_stored(
    probe: FlaskClient, calls: list[str]
) -> None:
    assert probe.get("/probe/after-commit").status_code == 200
    assert calls == ["ran, stored=True"]


def test_after_commit_actions_never_run_for_a_refusal(probe: FlaskClient, calls: list[str]) -> None:
    assert probe.get("/probe/after-commit-refused").status_code == 409
    assert calls == []


def test_a_commit_that_fails_shows_the_error_page_and_drops_the_success_message(
    probe: FlaskClient, session: Session
) -> None:
    make_user(session, "marketer")
    response = probe.get("/probe/commit-fails")
    assert response.status_code == 500
    assert "Content-Security-Policy" in response.headers
    assert "Saved." not in response.get_data(as_text=True)
    assert "Saved." not in probe.get("/sign-in").get_data(as_text=True)
    assert session.scalar(select(User).where(User.name == "Copy")) is None
