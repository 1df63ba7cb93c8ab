"""Test data for previews: the demo workspace as plain data, and a small studio workspace.

`demo_workspace()` reads the demo offers, layouts (compiled once per run) and rulesets
straight from their files, for the pure `preview` tests. `seed_preview_workspace`
stores a few of them as artifacts, with the white paper's samples, without the cost of
seeding the whole demo (people with hashed passwords, images, review history).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from content.layouts import build_layout
from preview import Workspace
from studio.demo.rules import DEMO_RULESETS
from studio.demo.samples import demo_samples
from studio.models import SampleInteraction, User
from studio.services import artifacts

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "studio" / "demo"
RULESETS = {key: (name, path) for key, name, path in DEMO_RULESETS}


def demo_offers() -> dict[str, dict[str, Any]]:
    return {o["key"]: o for o in json.loads((DEMO / "offers.json").read_text())}


@functools.lru_cache(maxsize=1)
def _demo_layouts() -> str:
    out = {}
    for spec in json.loads((DEMO / "layouts" / "layouts.json").read_text()):
        source = (DEMO / "layouts" / spec["file"]).read_text()
        layout = build_layout(spec["key"], spec["name"], spec["channel"], source)
        out[spec["key"]] = {
            "name": spec["name"],
            "channel": spec["channel"],
            "source": source,
            "compiled_html": layout.compiled_html,
        }
    return json.dumps(out)


def demo_layouts() -> dict[str, dict[str, Any]]:
    return json.loads(_demo_layouts())


def demo_rulesets() -> dict[str, dict[str, Any]]:
    return {
        key: {"name": name, "source": path.read_text()} for key, (name, path) in RULESETS.items()
    }


def demo_policy() -> dict[str, Any]:
    return {"source": (DEMO / "contact_policy.policy").read_text()}


def demo_workspace(**changes: Any) -> Workspace:
    """The demo workspace, its contact policy included (pass `policy=None` to leave it out)."""
    parts: dict[str, Any] = {
        "offers": demo_offers(),
        "layouts": demo_layouts(),
        "rulesets": demo_rulesets(),
        "policy": demo_policy(),
    }
    parts.update(changes)
    return Workspace(**parts)


def sample_body(key: str) -> dict[str, Any]:
    return next(s["interaction"] for s in demo_samples() if s["key"] == key)


def seed_preview_workspace(
    session: Session,
    author: User,
    *,
    offers: tuple[str, ...] = (
        "overdraft_protection",
        "card_protection_plan",
        "realtime_contact",
        "check_in",
        "extended_warranty",
        "mobile_alerts",
    ),
    rulesets: tuple[str, ...] = ("retail_banking",),
    samples: bool = True,
) -> None:
    library = demo_offers()
    for key in offers:
        artifacts.create(
            session,
            kind="offer",
            key=key,
            name=library[key]["name"],
            body=library[key],
            actor_id=author.id,
        )
    for key, body in demo_layouts().items():
        artifacts.create(
            session, kind="layout", key=key, name=body.pop("name"), body=body, actor_id=author.id
        )
    for key in rulesets:
        name, path = RULESETS[key]
        artifacts.create(
            session,
            kind="ruleset",
            key=key,
            name=name,
            body={"source": path.read_text()},
            actor_id=author.id,
        )
    if samples:
        for entry in demo_samples():
            session.add(
                SampleInteraction(
                    key=entry["key"],
                    name=entry["name"],
                    tags=entry["tags"],
                    body=entry["interaction"],
                )
            )
    session.commit()
