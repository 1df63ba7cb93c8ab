"""The demo offer library: its images, layouts and offers, owned by Mara the marketer.

Images go through the same checks as an upload, and each offer's `/demo/assets/...`
image address is pointed at the library copy, so the demo shows the asset library in use.
Offers and layouts go through the same services as the editor: a demo file the content
library refuses is skipped with a warning rather than stored broken.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from studio.errors import ValidationFailed
from studio.models import User
from studio.services import artifacts, assets, layouts, offers

DEMO = Path(__file__).parent
MARKETER_EMAIL = "mara@demo.studio"
log = logging.getLogger(__name__)


def _seed_assets(session: Session, actor_id: int | None) -> tuple[dict[str, str], list[str]]:
    """Store the demo images; map each `/demo/assets/<name>` address to its library URL."""
    urls: dict[str, str] = {}
    created: list[str] = []
    for path in sorted((DEMO / "assets").glob("*")):
        try:
            stored = assets.store(
                session, filename=path.name, data=path.read_bytes(), actor_id=actor_id
            )
        except ValidationFailed as refused:
            log.warning("demo asset %s skipped: %s", path.name, refused)
            continue
        urls[f"/demo/assets/{path.name}"] = assets.url_for_asset(stored.asset)
        if not stored.existing:
            created.append(f"asset {path.name}")
    return urls, created


def _seed_layouts(session: Session, actor_id: int | None) -> list[str]:
    created = []
    for entry in json.loads((DEMO / "layouts" / "layouts.json").read_text(encoding="utf-8")):
        if artifacts.find(session, "layout", entry["key"]) is not None:
            continue
        source = (DEMO / "layouts" / entry["file"]).read_text(encoding="utf-8")
        try:
            layouts.create(
                session,
                key=entry["key"],
                name=entry["name"],
                channel=entry["channel"],
                source=source,
                actor_id=actor_id,
            )
        except ValidationFailed as refused:
            log.warning("demo layout %s skipped: %s", entry["key"], refused)
            continue
        created.append(f"layout {entry['key']}")
    return created


def _seed_offers(session: Session, actor_id: int | None, urls: dict[str, str]) -> list[str]:
    created = []
    for entry in json.loads((DEMO / "offers.json").read_text(encoding="utf-8")):
        if artifacts.find(session, "offer", entry["key"]) is not None:
            continue
        body: dict[str, Any] = {**entry, "blocks": dict(entry.get("blocks") or {})}
        image = body["blocks"].get("image_url", "")
        body["blocks"]["image_url"] = urls.get(image, image)
        try:
            offers.create(session, body, actor_id=actor_id, summary="Demo offer")
        except ValidationFailed as refused:
            log.warning("demo offer %s skipped: %s", body["key"], refused)
            continue
        created.append(f"offer {body['key']}")
    return created


def seed(session: Session, people: dict[str, User]) -> list[str]:
    """Add the demo images, layouts and offers that are missing; return what was added."""
    marketer = people.get(MARKETER_EMAIL)
    actor_id = marketer.id if marketer else None
    urls, created = _seed_assets(session, actor_id)
    created += _seed_layouts(session, actor_id)
    created += _seed_offers(session, actor_id, urls)
    return created
