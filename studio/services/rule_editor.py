"""What the code editor needs from the server, as plain JSON-ready dicts: diagnostics
with ranges and quick fixes, and the vocabulary (fields, enum values, offers,
keywords) that completion and hover docs are built from.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import dsl
from dsl.fixes import fixes_for
from studio.models import Artifact, Revision
from studio.services import rulesets


@cache
def keywords() -> tuple[str, ...]:
    """Every keyword of the rule language, read from the grammar itself."""
    grammar = (Path(dsl.__file__).with_name("grammar.lark")).read_text(encoding="utf-8")
    words: list[str] = []
    for line in grammar.splitlines():
        if re.match(r"^[A-Z]+:\s*\"", line):
            words.extend(re.findall(r"\"([a-z]+)\"", line))
    return tuple(dict.fromkeys(words))


def diagnostics(session: Session, source: str, *, name: str = "ruleset") -> dict[str, Any]:
    """Every diagnostic of `source`, each with its range and one-click fixes."""
    report = rulesets.check(session, source, name=name)
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out = []
    for item in report.diagnostics:
        diag = dsl.Diagnostic(**{k: item[k] for k in (
            "code", "severity", "message", "line", "column", "end_line", "end_column", "hint")})
        out.append({**diag.to_dict(), "fixes": [f.to_dict() for f in fixes_for(lines, diag)]})
    return {"ok": report.ok, "errors": report.errors, "warnings": report.warnings,
            "rules": report.rules, "diagnostics": out}


def vocabulary(session: Session) -> dict[str, Any]:
    """Fields (type, values, doc), offers (title, owner, status, validity) and keywords."""
    schema = rulesets.current_schema(session)
    fields = [{"path": spec.path, "type": spec.type, "values": list(spec.values),
               "doc": spec.doc, "describe": spec.describe()} for spec in schema.fields]
    by_path = {spec.path: spec for spec in schema.fields}
    for alias, target in schema.aliases:
        spec = by_path.get(target)
        if spec is not None:
            fields.append({"path": alias, "type": spec.type, "values": list(spec.values),
                           "doc": f"Another name for {target}. {spec.doc}".strip(),
                           "describe": spec.describe()})
    rows = session.execute(
        select(Artifact, Revision)
        .join(Revision, (Revision.artifact_id == Artifact.id)
              & (Revision.number == Artifact.head_number))
        .where(Artifact.kind == "offer").order_by(Artifact.key)
    ).all()
    offers = []
    for artifact, revision in rows:
        body = revision.body or {}
        offers.append({
            "key": artifact.key, "title": artifact.name, "owner": str(body.get("owner", "")),
            "status": "archived" if artifact.archived else str(body.get("status", "")),
            "valid_from": str(body.get("valid_from") or ""),
            "valid_to": str(body.get("valid_to") or ""),
            "approved": bool(artifact.approved_number),
        })
    return {"keywords": list(keywords()), "fields": fields, "offers": offers,
            "free_roots": list(schema.free_roots)}
