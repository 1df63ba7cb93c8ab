"""The workspace as plain files: export for review or moving, import as drafts.

`export` writes every offer, layout, ruleset, the interaction schema, the tone lexicon
and the contact policy
at their head (or approved) revision into a folder a person can read and diff:

    workspace.json            format, time, state, and each artifact's kind, key, name
    offers/<key>.json         the offer as stored (blocks, channels, eligibility, ...)
    layouts/<key>.json        the layout's name and channel
    layouts/<key>.mjml|.html  its source (MJML for email layouts, HTML otherwise)
    rulesets/<key>.rules      the rule source
    schema.json               the interaction schema
    lexicon.txt               the distress terms, one per line
    policy.policy             the workspace contact policy

`import_folder` reads such a folder back through the same services the editors use, so
every file is validated exactly as a save in the studio would be. A changed artifact
becomes a new draft revision (an unknown one is created); nothing is published or
approved, so the drafts go through review like any other edit. The import is all or
nothing: one refused file stores nothing and the report names every problem with its
file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy.orm import Session

from studio.errors import EditConflict, FieldError, StudioError, ValidationFailed
from studio.services import (
    artifacts,
    contact_policy,
    layouts,
    lexicon,
    offers,
    rulesets,
    workspace,
)

FORMAT: Final = "pos-studio-workspace/1"
MANIFEST: Final = "workspace.json"
MAX_FILE_BYTES: Final = 16 * 1024 * 1024
_KINDS: Final = ("offer", "layout", "ruleset", "schema", "lexicon", "policy")


class WorkspaceFilesError(StudioError):
    """A folder that cannot be exported to or imported from; nothing was changed."""

    code = "workspace_files"


@dataclass(frozen=True)
class ExportReport:
    folder: Path
    which: str
    counts: dict[str, int]


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[FieldError] = field(default_factory=list)


def export(session: Session, folder: Path, *, which: workspace.Which = "head") -> ExportReport:
    """Write the workspace into `folder` (created; existing files of the same names are
    replaced, others are left alone)."""
    snap = workspace.snapshot(session, which=which)
    folder.mkdir(parents=True, exist_ok=True)
    listed: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for entry in snap.entries.values():
        if entry.kind not in _KINDS:
            continue
        body = workspace.thaw(entry.body)
        _write_entry(folder, entry.kind, entry.key, body)
        listed.append(
            {
                "kind": entry.kind,
                "key": entry.key,
                "name": entry.name,
                "revision": entry.number,
                "archived": entry.archived,
            }
        )
        counts[entry.kind] = counts.get(entry.kind, 0) + 1
    manifest = {
        "format": FORMAT,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "state": which,
        "artifacts": listed,
    }
    (folder / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return ExportReport(folder=folder, which=which, counts=counts)


def _write_entry(folder: Path, kind: str, key: str, body: dict[str, Any]) -> None:
    if kind == "offer":
        _write(folder / "offers" / f"{key}.json", _json(body))
    elif kind == "layout":
        meta = {"channel": body.get("channel", "")}
        _write(folder / "layouts" / f"{key}.json", _json(meta))
        _write(folder / "layouts" / f"{key}{_layout_suffix(body)}", str(body.get("source", "")))
    elif kind == "ruleset":
        _write(folder / "rulesets" / f"{key}.rules", str(body.get("source", "")))
    elif kind == "schema":
        _write(folder / "schema.json", _json(body))
    elif kind == "lexicon":
        terms = body.get("distress") or []
        _write(folder / "lexicon.txt", "".join(f"{term}\n" for term in terms))
    elif kind == "policy":
        _write(folder / "policy.policy", str(body.get("source", "")))


def _layout_suffix(body: Mapping[str, Any]) -> str:
    return ".mjml" if str(body.get("source", "")).lstrip().startswith("<mjml") else ".html"


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def import_folder(session: Session, folder: Path, *, actor_id: int | None) -> ImportReport:
    """Store every changed file of an exported folder as a draft (flushed, not committed).

    Raises `WorkspaceFilesError` for a folder that is not an export; otherwise returns a
    report whose `problems` list every refused file (the caller rolls back when any).
    """
    manifest = _manifest(folder)
    report = ImportReport()
    for item in manifest["artifacts"]:
        kind, key, name = item["kind"], item["key"], item["name"]
        where = f"{kind}:{key}"
        try:
            outcome = _import_one(session, folder, kind, key, name, actor_id=actor_id)
        except ValidationFailed as refused:
            report.problems += [
                FieldError(f"{_file_of(kind, key)}: {e.field}", e.message, e.hint)
                for e in refused.errors
            ]
            continue
        except (EditConflict, OSError, UnicodeDecodeError, ValueError) as failed:
            report.problems.append(FieldError(_file_of(kind, key), str(failed)))
            continue
        {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}[
            outcome
        ].append(where)
    return report


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest = json.loads(_read(path))
    except (OSError, ValueError) as exc:
        raise WorkspaceFilesError(
            f"{path} is not a readable workspace export: {exc}",
            hint="export one with `studio workspace export DIR`",
        ) from exc
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or not isinstance(manifest.get("artifacts"), list)
    ):
        raise WorkspaceFilesError(f"{path} is not a workspace export ({FORMAT})")
    for item in manifest["artifacts"]:
        if (
            not isinstance(item, dict)
            or item.get("kind") not in _KINDS
            or not isinstance(item.get("key"), str)
            or not isinstance(item.get("name"), str)
        ):
            raise WorkspaceFilesError(
                f"{path} lists an entry this studio cannot import: {str(item)[:200]}",
                hint=f"kinds: {', '.join(_KINDS)}; each with a key and a name",
            )
        if "/" in item["key"] or "\\" in item["key"] or item["key"].startswith("."):
            raise WorkspaceFilesError(f"{path}: the key {item['key']!r} is not a file name")
    return manifest


def _read(path: Path) -> str:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{path.name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return path.read_text(encoding="utf-8")


def _file_of(kind: str, key: str) -> str:
    return {
        "offer": f"offers/{key}.json",
        "layout": f"layouts/{key}",
        "ruleset": f"rulesets/{key}.rules",
        "schema": "schema.json",
        "lexicon": "lexicon.txt",
        "policy": "policy.policy",
    }[kind]


def _import_one(
    session: Session, folder: Path, kind: str, key: str, name: str, *, actor_id: int | None
) -> str:
    existing = artifacts.find(session, kind, key)
    head = artifacts.head(session, existing).body if existing is not None else None
    summary = "Imported from files"
    if kind == "offer":
        body = json.loads(_read(folder / "offers" / f"{key}.json"))
        if not isinstance(body, dict):
            raise ValueError("an offer file holds one JSON object")
        body = {**body, "key": key, "name": body.get("name", name)}
        if existing is None:
            offers.create(session, body, actor_id=actor_id, summary=summary)
            return "created"
        if _same(head, body, ignore=("key",)) and existing.name == body["name"]:
            return "unchanged"
        offers.save(
            session,
            existing,
            body,
            base_number=existing.head_number,
            actor_id=actor_id,
            summary=summary,
        )
        return "updated"
    if kind == "layout":
        meta = json.loads(_read(folder / "layouts" / f"{key}.json"))
        source_path = next(
            (
                p
                for p in (folder / "layouts" / f"{key}.mjml", folder / "layouts" / f"{key}.html")
                if p.exists()
            ),
            None,
        )
        if source_path is None or not isinstance(meta, dict):
            raise ValueError(f"layouts/{key}.json and layouts/{key}.mjml or .html are needed")
        source = _read(source_path)
        if existing is None:
            layouts.create(
                session,
                key=key,
                name=name,
                channel=str(meta.get("channel", "")),
                source=source,
                actor_id=actor_id,
            )
            return "created"
        if head is not None and head.get("source") == source and existing.name == name:
            return "unchanged"
        layouts.save(
            session,
            existing,
            name=name,
            source=source,
            base_number=existing.head_number,
            actor_id=actor_id,
            summary=summary,
        )
        return "updated"
    if kind == "ruleset":
        source = _read(folder / "rulesets" / f"{key}.rules")
        if existing is None:
            rulesets.create(session, key=key, name=name, source=source, actor_id=actor_id)
            return "created"
        if head is not None and head.get("source") == source and existing.name == name:
            return "unchanged"
        rulesets.save(
            session,
            existing,
            name=name,
            source=source,
            base_number=existing.head_number,
            actor_id=actor_id,
            summary=summary,
        )
        return "updated"
    if kind == "schema":
        body = json.loads(_read(folder / "schema.json"))
        if not isinstance(body, dict):
            raise ValueError("schema.json holds one JSON object")
        if existing is not None and _same(head, body):
            return "unchanged"
        rulesets.save_schema(
            session, body, actor_id=actor_id, base_number=existing.head_number if existing else None
        )
        return "updated" if existing is not None else "created"
    if kind == "policy":
        source = _read(folder / "policy.policy")
        if existing is not None and head is not None and head.get("source") == source:
            return "unchanged"
        contact_policy.save(
            session,
            source,
            base_number=existing.head_number if existing else 0,
            actor_id=actor_id,
            summary=summary,
        )
        return "updated" if existing is not None else "created"
    text = _read(folder / "lexicon.txt")
    if (
        existing is not None
        and head is not None
        and [t for t in text.splitlines() if t.strip()] == list(head.get("distress") or [])
    ):
        return "unchanged"
    lexicon.save(
        session,
        text,
        base_number=existing.head_number if existing else 0,
        actor_id=actor_id,
        summary=summary,
    )
    return "updated" if existing is not None else "created"


def _same(
    head: Mapping[str, Any] | None, body: Mapping[str, Any], *, ignore: tuple[str, ...] = ()
) -> bool:
    if head is None:
        return False
    keys = (set(head) | set(body)) - set(ignore)
    return all(head.get(k) == body.get(k) for k in keys)
