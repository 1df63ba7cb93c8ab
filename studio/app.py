"""The application factory: configuration, database, security, blueprints, error pages."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from studio import db, security
from studio.config import flask_config, load_settings
from studio.roles import ROLE_LABELS, areas_for
from studio.services import accounts

DEFAULT_INSTANCE = Path(os.environ.get("STUDIO_INSTANCE_PATH", Path.cwd() / "instance"))


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build a studio app. `overrides` may set DATABASE_URL, SECRET_KEY, DEV_MODE, INSTANCE_PATH,
    TESTING, and (test apps only) PASSWORD_HASH_METHOD."""
    overrides = overrides or {}
    instance_path = Path(overrides.get("INSTANCE_PATH", DEFAULT_INSTANCE)).resolve()
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=True)
    settings = load_settings(instance_path, overrides)
    app.config.update(flask_config(settings))
    app.config["STUDIO_SETTINGS"] = settings
    app.config["TESTING"] = bool(overrides.get("TESTING", False))
    accounts.use_password_hash(settings.password_hash_method)

    db.init_app(app, settings.database_url)
    security.init_app(app)
    app.url_map.converters["int"] = DatabaseInt
    _register_blueprints(app)
    _register_error_pages(app)
    _register_template_helpers(app)
    return app


class DatabaseInt(IntegerConverter):
    """`<int:...>` that only matches ids a database column can hold, so an absurd id in
    the address is a 404 instead of an overflow deep in the driver."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = 2**31 - 1, signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def _register_blueprints(app: Flask) -> None:
    """Register `bp` from every module in studio.views (one module per area)."""
    from studio import views

    for module in views.modules():
        blueprint = getattr(module, "bp", None)
        if blueprint is not None:
            app.register_blueprint(blueprint)


def _register_error_pages(app: Flask) -> None:
    titles = {
        400: "That request could not be used",
        403: "You do not have access to this page",
        404: "Page not found",
        405: "That action is not allowed here",
        413: "That upload is too large",
        500: "Something went wrong on our side",
    }

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        template = "_error.html" if request.headers.get("HX-Request") else "error.html"
        return render_template(
            template,
            code=code,
            title=titles.get(code, error.name),
            description=error.description if code != 404 else
            "The page you asked for does not exist. Check the address, or start from home.",
        ), code

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        app.logger.exception("Unhandled error", exc_info=error)
        return render_template(
            "error.html",
            code=500,
            title=titles[500],
            description="The error has been logged. Your last change may not have been saved; "
            "reload the page to check.",
        ), 500


def _register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals["role_labels"] = ROLE_LABELS

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        user = security.current_user()
        return {
            "nav_areas": areas_for(user.roles) if user else [],
        }
