"""Rulesets: the service team's when-to-offer rules, checked against the current schema
and the offer library as people type, and stored as revisions.

A draft may be saved with errors (nothing a person typed is ever thrown away), but it
shows its diagnostics everywhere and cannot be published until they are fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import dsl
from dsl.schema import Schema, default_schema
from studio.errors import FieldError, ValidationFailed
from studio.models import Artifact, Revision
from studio.services import artifacts, survey_library

#: Longest ruleset source, in characters: a 50,000-rule ruleset is 7-9 million. Checking
#: and compiling are linear in the source (benchmarks/ruleset_limits_speed.py), and the
#: rule language's own caps (`dsl.parser.MAX_SOURCE_CHARS`, `MAX_TOKENS`) sit above it.
MAX_SOURCE = 10_000_000
#: Largest request body for the endpoints that carry a ruleset source (a form or JSON
#: encoding of `MAX_SOURCE` characters); every other request keeps the app's cap.
MAX_SOURCE_BODY = 24 * 1024 * 1024
SCHEMA_KEY = "interaction"
RESERVED_KEYS = frozenset({"new", "check", "format", "schema", "lexicon"})

STARTER_SOURCE = """# When to offer. Lines starting with # are comments.

never offer when tone is distressed

limit offers to 1 per customer per 7 days
at most 1 offer per response

rule "Describe the moment"
  when inquiry.category is transactional
   and inquiry.resolved
  offer OFFER_KEY
"""


@dataclass(frozen=True)
class CheckReport:
    """What the editor shows next to the source."""

    ok: bool
    diagnostics: list[dict[str, Any]]
    errors: int
    warnings: int
    rules: int


def current_schema(session: Session) -> Schema:
    """The interaction schema at its head revision, or the built-in default."""
    artifact = artifacts.find(session, "schema", SCHEMA_KEY)
    if artifact is None:
        return default_schema()
    return Schema.from_dict(artifacts.head(session, artifact).body)


def offer_catalog(session: Session) -> dict[str, dsl.OfferInfo]:
    """Offer keys a rule may name, from the offer library's head revisions.

    Reads plain columns, not ORM objects: the editor asks on every keystroke."""
    rows = session.execute(
        select(Artifact.key, Artifact.archived, Revision.body)
        .join(
            Revision,
            (Revision.artifact_id == Artifact.id) & (Revision.number == Artifact.head_number),
        )
        .where(Artifact.kind == "offer")
    ).all()
    catalog: dict[str, dsl.OfferInfo] = {}
    for key, archived, revision_body in rows:
        body = {**(revision_body or {}), "key": key}
        if archived:
            body["status"] = "archived"
        try:
            catalog[key] = dsl.OfferInfo.from_dict(body)
        except dsl.DSLError:
            catalog[key] = dsl.OfferInfo.from_dict({"key": key, "value": 0})
    return catalog


def check(session: Session, source: str, *, name: str = "ruleset") -> CheckReport:
    """Compile `source` against the schema and offer library; never raises."""
    if len(source) > MAX_SOURCE:
        source = source[: MAX_SOURCE + 1]
    result = dsl.compile_ruleset(
        source,
        schema=current_schema(session),
        offers=offer_catalog(session),
        name=name,
        surveys=survey_library.head_keys(session),
    )
    lines = source.split("\n")  # once: one split per diagnostic is quadratic
    diagnostics = [
        {**d.to_dict(), "excerpt": dsl.render_excerpt(source, d, lines=lines)}
        for d in result.diagnostics
    ]
    errors = sum(1 for d in result.diagnostics if d.severity == "error")
    rules = len(result.ir.get("rules", [])) if result.ir else 0
    return CheckReport(
        ok=result.ok,
        diagnostics=diagnostics,
        errors=errors,
        warnings=len(diagnostics) - errors,
        rules=rules,
    )


def _validate(key: str | None, name: str, source: str) -> list[FieldError]:
    errors = artifacts.key_and_name_errors(
        key, name, noun="ruleset", example="retail_banking", reserved=RESERVED_KEYS
    )
    if len(source) > MAX_SOURCE:
        errors.append(
            FieldError(
                "source",
                f"The source is over {MAX_SOURCE:,} characters; split it into several rulesets.",
            )
        )
    return errors


def create(session: Session, *, key: str, name: str, source: str, actor_id: int | None) -> Artifact:
    key = key.strip()
    errors = _validate(key, name, source)
    if not errors and artifacts.find(session, "ruleset", key) is not None:
        errors.append(FieldError("key", f"A ruleset with the key {key} already exists."))
    if errors:
        raise ValidationFailed(errors)
    return artifacts.create(
        session,
        kind="ruleset",
        key=key,
        name=name.strip(),
        body={"source": source},
        actor_id=actor_id,
    )


def save(
    session: Session,
    artifact: Artifact,
    *,
    name: str,
    source: str,
    base_number: int,
    actor_id: int | None,
    summary: str = "",
) -> Revision:
    """Save a new revision; raises ValidationFailed or EditConflict."""
    errors = _validate(None, name, source)
    if errors:
        raise ValidationFailed(errors)
    return artifacts.save(
        session,
        artifact,
        body={"source": source},
        base_number=base_number,
        actor_id=actor_id,
        name=name.strip(),
        summary=summary,
    )


def format_source(source: str) -> str | None:
    """The canonical layout, or None when the source does not parse."""
    try:
        return dsl.format_source(source)
    except dsl.DSLError:
        return None


def save_schema(
    session: Session, text_body: dict[str, Any], *, base_number: int | None, actor_id: int | None
) -> Revision | Artifact:
    """Validate and store the interaction schema (the first save creates it)."""
    try:
        schema = Schema.from_dict(text_body)
    except dsl.DSLError as failed:
        raise ValidationFailed(
            [FieldError("schema", d.message) for d in failed.diagnostics]
        ) from failed
    body = schema.to_dict()
    artifact = artifacts.find(session, "schema", SCHEMA_KEY)
    if artifact is None:
        return artifacts.create(
            session,
            kind="schema",
            key=SCHEMA_KEY,
            name="Interaction schema",
            body=body,
            actor_id=actor_id,
        )
    return artifacts.save(
        session, artifact, body=body, base_number=base_number or 0, actor_id=actor_id
    )
