"""Areas whose pages are not built yet still get a real, role-checked page.

Each shows an honest empty state that says what will live there. An area moves out of
this list when its own blueprint lands.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from studio import security
from studio.roles import AREAS_BY_KEY

PENDING_AREAS: tuple[str, ...] = (
    "offers", "layouts", "rules", "interactions", "reviews", "bundles", "analytics",
)


def _make(area_key: str) -> Blueprint:
    area = AREAS_BY_KEY[area_key]
    bp = Blueprint(area_key, __name__, url_prefix=f"/{area_key}")

    @bp.get("/")
    @security.requires(area_key)
    def index() -> str:
        return render_template("area_empty.html", area=area)

    return bp


def blueprints(exclude: set[str]) -> list[Blueprint]:
    """Placeholders for the areas that have no blueprint of their own yet."""
    return [_make(key) for key in PENDING_AREAS if key not in exclude]
