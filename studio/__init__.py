"""The studio web application (Flask). See `studio.app.create_app`."""

from __future__ import annotations

from studio.app import create_app

__all__ = ["create_app"]
