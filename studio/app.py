"""The application factory: configuration, database, security, blueprints, error pages."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from content.formatting import format_date
from studio import db, jobs, keep_work, loop_jobs, security  # noqa: F401 (loop_jobs registers jobs)
from studio.api import revalidation
from studio.config import flask_config, load_settings
from studio.errors import NotAllowed, ValidationFailed
from studio.outages import database_unavailable, install_repeat_filter
from studio.roles import ROLE_LABELS, areas_for, may_use
from studio.services import accounts
from studio.web import is_htmx, page_arg

DEFAULT_INSTANCE = Path(os.environ.get("STUDIO_INSTANCE_PATH", Path.cwd() / "instance"))


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build a studio app. `overrides` may set DATABASE_URL, SECRET_KEY, DEV_MODE, INSTANCE_PATH,
    TESTING, and (test apps only) PASSWORD_HASH_METHOD."""
    overrides = overrides or {}
    instance_path = Path(overrides.get("INSTANCE_PATH", DEFAULT_INSTANCE)).resolve()
    app = StudioApp(__name__, instance_path=str(instance_path), instance_relative_config=True)
    settings = load_settings(instance_path, overrides)
    app.config.update(flask_config(settings))
    app.config["STUDIO_SETTINGS"] = settings
    app.config["TESTING"] = bool(overrides.get("TESTING", False))
    accounts.use_password_hash(settings.password_hash_method)

    db.init_app(app, settings.database_url)
    from studio.services import history_jobs  # noqa: F401  (registers its jobs: needed

    #                                            before the queue is built, not at import)
    jobs.init_app(app, overrides)
    security.init_app(app)
    app.url_map.converters["int"] = DatabaseInt
    _register_blueprints(app)
    _register_error_pages(app)
    _register_template_helpers(app)
    revalidation.install(app)  # the bundle 304 answered before Flask's stack
    for name in (app.logger.name, "studio.api.auth", "studio.services.bundle_cache"):
        install_repeat_filter(logging.getLogger(name))
    return app


class StudioApp(Flask):
    """Flask with one unit of work per request: the view's answer decides the commit."""

    def dispatch_request(self) -> Response:
        """Run the view, then commit its work if it answered below 400, else roll back.

        Committing here, inside the dispatch, means a failed commit is handled like any
        error a view raises (the error page, with every security header), and a view's
        exception never reaches a commit at all.
        """
        response = self.make_response(super().dispatch_request())
        db.end_unit_of_work(response.status_code)
        return response


class DatabaseInt(IntegerConverter):
    """`<int:...>` that only matches ids a database column can hold, so an absurd id in
    the address is a 404 instead of an overflow deep in the driver."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,  # noqa: A002
        max: int | None = 2**31 - 1,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def _register_blueprints(app: Flask) -> None:
    """Register `bp` from every module in studio.views (one module per area)."""
    from studio import customer, views

    for module in views.modules():
        blueprint = getattr(module, "bp", None)
        if blueprint is not None:
            app.register_blueprint(blueprint)
    app.register_blueprint(customer.bp)


def _register_error_pages(app: Flask) -> None:
    """Error pages, and the refusals services raise, answered once for every view.

    Each handler first rolls back the request's unit of work, so nothing of a refused
    request is stored and the page is drawn from what is. The API blueprint answers the
    same refusals in JSON (its own handlers in studio/views/api.py take precedence).
    """
    titles = {
        400: "That request could not be used",
        403: "You do not have access to this page",
        404: "Page not found",
        405: "That action is not allowed here",
        413: "That upload is too large",
        422: "That could not be saved",
        500: "Something went wrong on our side",
    }

    def page(
        code: int, description: str | None, *, title: str | None = None, **context: Any
    ) -> tuple[str, int]:
        template = "_error.html" if is_htmx() else "error.html"
        return render_template(
            template,
            code=code,
            title=title or titles.get(code, "Error"),
            description=description,
            **context,
        ), code

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[str, int]:
        db.roll_back_request()
        code = error.code or 500
        description = error.description
        if code == 404 and description == type(error).description:
            # Werkzeug's own words ("The requested URL was not found on the server..."),
            # not a view's: a view's abort(404, description=...) says what is missing.
            description = (
                "The page you asked for does not exist. Check the address, or start from home."
            )
        return page(code, description, title=titles.get(code, error.name))

    @app.errorhandler(NotAllowed)
    def _not_allowed(refused: NotAllowed) -> tuple[str, int]:
        db.roll_back_request()
        return page(403, str(refused))

    @app.errorhandler(ValidationFailed)
    def _invalid(failed: ValidationFailed) -> tuple[str, int]:
        db.roll_back_request()
        return page(
            422,
            "Nothing was saved. Go back, fix what is listed, and try again.",
            problems=failed.errors,
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int, dict[str, str]] | tuple[str, int]:
        _roll_back_quietly()
        if database_unavailable(error):
            app.logger.error("Database unavailable: %s", type(error).__name__)
            # The full page needs the database (who is signed in, the menu): this one not.
            return (
                _standalone_page(
                    app,
                    code=503,
                    title="The studio's database is unreachable",
                    description="Nothing this request changed was saved. The studio will be "
                    "back as soon as its database is; try again in a moment.",
                ),
                503,
                {"Retry-After": "5"},
            )
        app.logger.exception("Unhandled error", exc_info=error)
        description = (
            "The error has been logged, and nothing this request changed was "
            "saved. Reload the page to check, then try again."
        )
        try:
            return render_template(
                "error.html", code=500, title=titles[500], description=description
            ), 500
        except Exception:  # noqa: BLE001 - the error page itself must never fail
            _roll_back_quietly()
            return _standalone_page(app, code=500, title=titles[500], description=description), 500


def _standalone_page(app: Flask, **context: Any) -> str:
    """The error page without the context processors, which need the database."""
    return app.jinja_env.get_template("error_standalone.html").render(**context)


def _roll_back_quietly() -> None:
    """Roll the request back; with the database gone the rollback itself may fail."""
    try:
        db.roll_back_request()
    except Exception as exc:  # noqa: BLE001 - the error page comes first
        logging.getLogger(__name__).warning("rollback failed: %s", type(exc).__name__)


def _register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals["role_labels"] = ROLE_LABELS
    # Dates a customer reads are written the way offers write them ("January 2, 2027").
    app.jinja_env.filters["long_date"] = format_date
    # The page a list was asked for (the pager says when it is past the last one).
    app.jinja_env.globals["asked_page"] = page_arg
    keep_work.register(app)

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        user = security.current_user()
        roles = user.roles if user else frozenset()
        # Pages link only to what the person may open: a link to a 403 is a dead end.
        return {
            "nav_areas": areas_for(roles) if user else [],
            "may_open": lambda area: may_use(roles, area),
            "may_read_kind": lambda kind: _may_read_kind(roles, kind),
        }


def _may_read_kind(roles: frozenset[str], kind: str) -> bool:
    """Whether the history of this kind of work opens for these roles (as the history
    page decides). Imported here, not at the top: the app does not load the review
    workflow until a page needs it."""
    from studio.services import permissions

    return permissions.may_view_kind(roles, kind) or kind not in permissions.KIND_EDITORS
