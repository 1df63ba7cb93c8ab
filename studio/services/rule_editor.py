"""What the code editor needs from the server, as plain JSON-ready dicts: diagnostics
with ranges and quick fixes, and the vocabulary (fields, enum values, offers,
keywords) that completion and hover docs are built from.
"""

from __future__ import annotations

import json
import re
import threading
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import dsl
from dsl.fixes import fixes_for
from dsl.live import LiveSource
from dsl.schema import Schema
from studio.models import Artifact, Revision
from studio.services import overlaps, rulesets, survey_library


@cache
def keywords() -> tuple[str, ...]:
    """Every keyword of the rule language, read from the grammar itself."""
    grammar = (Path(dsl.__file__).with_name("grammar.lark")).read_text(encoding="utf-8")
    words: list[str] = []
    for line in grammar.splitlines():
        if re.match(r"^[A-Z]+:\s*\"", line):
            words.extend(re.findall(r"\"([a-z]+)\"", line))
    return tuple(dict.fromkeys(words))


#: While typing, the inline markers and the problems list include overlap warnings only
#: up to this many rules: finding overlaps compiles the draft and runs every ruleset over
#: the sample library (about 0.7 s of CPU at 1,000 rules), which would put each keystroke
#: far past its 100 ms budget. The editor page, as it opens, always includes them.
LIVE_OVERLAP_RULES = 200


def diagnostics(
    session: Session,
    source: str,
    *,
    name: str = "ruleset",
    key: str | None = None,
    all_overlaps: bool = False,
) -> dict[str, Any]:
    """Every diagnostic of `source`, each with its range and one-click fixes.

    The answer is remembered for the last few (source, schema, offer library) triples:
    the editor's inline markers and its problems list ask about the same text. With the
    ruleset's `key`, a source that compiles is also checked for overlaps with the other
    rulesets over the sample library (W410, `overlaps.editor_diagnostics`): always with
    `all_overlaps` (the problems list), else up to `LIVE_OVERLAP_RULES` rules.
    """
    found = _compiled(session, source, name)
    lines = found["rule_lines"]
    answer = {k: v for k, v in found.items() if k != "rule_lines"}
    if key and found["ok"] and (all_overlaps or found["rules"] <= LIVE_OVERLAP_RULES):
        extra = overlaps.editor_diagnostics(session, key, name, source, lines)
        answer["diagnostics"] = [*found["diagnostics"], *extra]
        answer["warnings"] = found["warnings"] + len(extra)
    return answer


def _compiled(session: Session, source: str, name: str) -> dict[str, Any]:
    if len(source) > rulesets.MAX_SOURCE:
        source = source[: rulesets.MAX_SOURCE + 1]
    schema = rulesets.current_schema(session)
    catalog = rulesets.offer_catalog(session)
    offers_key = tuple(sorted((k, v.status) for k, v in catalog.items()))
    schema_key = json.dumps(schema.to_dict(), sort_keys=True)
    _SCHEMAS.setdefault(schema_key, schema)
    if len(_SCHEMAS) > 8:
        _SCHEMAS.pop(next(iter(_SCHEMAS)))
    return _diagnose(source, name, schema_key, offers_key, tuple(survey_library.head_keys(session)))


_SCHEMAS: dict[str, Schema] = {}


@lru_cache(maxsize=16)
def _diagnose(
    source: str,
    name: str,
    schema_key: str,
    offers_key: tuple[tuple[str, str], ...],
    surveys_key: tuple[str, ...] = (),
) -> dict[str, Any]:
    result = _live(name, schema_key, offers_key, surveys_key).check(source)
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    raw_lines = source.split("\n")
    out = [
        {
            **d.to_dict(),
            "fixes": [f.to_dict() for f in fixes_for(lines, d)],
            "excerpt": dsl.render_excerpt(source, d, lines=raw_lines),
        }
        for d in result.diagnostics
    ]
    errors = sum(1 for d in result.diagnostics if d.is_error)
    return {
        "ok": result.ok,
        "errors": errors,
        "warnings": len(out) - errors,
        "rules": result.rules,
        "diagnostics": out,
        "rule_lines": dict(result.rule_lines),
    }


#: Editors' memos of their last answers (`dsl.live.LiveSource`), newest last.
_LIVE: dict[tuple[str, str, tuple[tuple[str, str], ...], tuple[str, ...]], LiveSource] = {}
_LIVE_SIZE = 4
_live_lock = threading.Lock()


def _live(
    name: str,
    schema_key: str,
    offers_key: tuple[tuple[str, str], ...],
    surveys_key: tuple[str, ...],
) -> LiveSource:
    """The memo for one document under one schema, offer library and survey list: a
    keystroke re-checks only the statement it changed (see `dsl.live`)."""
    key = (name, schema_key, offers_key, surveys_key)
    with _live_lock:
        found = _LIVE.pop(key, None)
        if found is None:
            schema = _SCHEMAS.get(schema_key) or Schema.from_dict(json.loads(schema_key))
            offers = {k: dsl.OfferInfo(key=k, status=status) for k, status in offers_key}
            found = LiveSource(schema, offers, surveys_key)
        _LIVE[key] = found
        while len(_LIVE) > _LIVE_SIZE:
            _LIVE.pop(next(iter(_LIVE)))
    return found


def report(
    session: Session,
    source: str,
    *,
    name: str = "ruleset",
    key: str | None = None,
    all_overlaps: bool = False,
) -> rulesets.CheckReport:
    """The same answer as `diagnostics`, shaped for the problems list partial (the page
    as it opens asks with `all_overlaps`; the list refreshed while typing does not)."""
    found = diagnostics(session, source, name=name, key=key, all_overlaps=all_overlaps)
    return rulesets.CheckReport(
        ok=found["ok"],
        diagnostics=found["diagnostics"],
        errors=found["errors"],
        warnings=found["warnings"],
        rules=found["rules"],
    )


def vocabulary(session: Session) -> dict[str, Any]:
    """Fields (type, values, doc), offers (title, owner, status, validity) and keywords."""
    schema = rulesets.current_schema(session)
    fields = [
        {
            "path": spec.path,
            "type": spec.type,
            "values": list(spec.values),
            "doc": spec.doc,
            "describe": spec.describe(),
        }
        for spec in schema.fields
    ]
    by_path = {spec.path: spec for spec in schema.fields}
    for alias, target in schema.aliases:
        spec = by_path.get(target)
        if spec is not None:
            fields.append(
                {
                    "path": alias,
                    "type": spec.type,
                    "values": list(spec.values),
                    "doc": f"Another name for {target}. {spec.doc}".strip(),
                    "describe": spec.describe(),
                }
            )
    rows = session.execute(
        select(Artifact, Revision)
        .join(
            Revision,
            (Revision.artifact_id == Artifact.id) & (Revision.number == Artifact.head_number),
        )
        .where(Artifact.kind == "offer")
        .order_by(Artifact.key)
    ).all()
    offers = []
    for artifact, revision in rows:
        body = revision.body or {}
        offers.append(
            {
                "key": artifact.key,
                "title": artifact.name,
                "owner": str(body.get("owner", "")),
                "status": "archived" if artifact.archived else str(body.get("status", "")),
                "valid_from": str(body.get("valid_from") or ""),
                "valid_to": str(body.get("valid_to") or ""),
                "approved": bool(artifact.approved_number),
            }
        )
    return {
        "keywords": list(keywords()),
        "fields": fields,
        "offers": offers,
        "free_roots": list(schema.free_roots),
    }
