"""The sample-interaction library: customer contacts to preview offers and rules against.

A sample is checked against the interaction schema the rules are written for, so a
preview never runs on something no real system could send; problems come back per
field (`inquiry.category`), never as one opaque error. People write samples either in
a form generated from the schema (so a new schema field shows up without code) or as
raw JSON, and bring many at once as JSON lines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from dsl.schema import FieldSpec, Schema, validate_interaction
from preview.tone import Lexicon, with_inferred_tone
from studio import audit
from studio.errors import FieldError, SampleConflict, ValidationFailed
from studio.models import SampleInteraction, utcnow
from studio.services import artifacts, rulesets
from studio.services.pagination import Page, clamp

KEY_RE: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
TAG_RE: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
RESERVED_KEYS: Final = frozenset({"new", "import", "matrix", "tone"})
MAX_TAGS: Final = 12
MAX_BODY: Final = 64 * 1024
MAX_IMPORT_LINES: Final = 2_000
PER_PAGE: Final = 20
#: Fields whose form input is a multi-line text box.
LONG_TEXT: Final = frozenset({"inquiry.text"})


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleRow:
    """One line of the library list: enough to recognise a contact at a glance."""

    key: str
    name: str
    tags: tuple[str, ...]
    category: str
    intent: str
    channel: str
    tone: str
    text: str
    tone_inferred: bool = False


@dataclass(frozen=True)
class SamplePage(Page[SampleRow]):
    tags: list[str] = field(default_factory=list)


def _part(body: Mapping[str, Any], *path: str) -> str:
    value: Any = body
    for name in path:
        value = value.get(name) if isinstance(value, Mapping) else None
    return "" if value is None else str(value)


def _row(sample: SampleInteraction, lexicon: Lexicon) -> SampleRow:
    body = sample.body if isinstance(sample.body, Mapping) else {}
    _filled, inferred = with_inferred_tone(body, lexicon)
    return SampleRow(
        key=sample.key,
        name=sample.name,
        tags=tuple(sample.tags or ()),
        category=_part(body, "inquiry", "category"),
        intent=_part(body, "inquiry", "intent"),
        channel=_part(body, "inquiry", "channel"),
        tone=inferred.label if inferred else _part(body, "tone", "label"),
        text=_part(body, "inquiry", "text"),
        tone_inferred=inferred is not None,
    )


def listing(
    session: Session, *, query: str = "", tag: str = "", page: int = 1, per_page: int = PER_PAGE
) -> SamplePage:
    """A page of samples matching `query` (name, key, intent, text) and `tag`.

    Tags live in a JSON column that SQLite and PostgreSQL query differently; a sample
    library holds hundreds of contacts, so filtering happens here in one portable pass.
    """
    lexicon = Lexicon.from_dict(_lexicon_body(session))
    rows = [
        _row(s, lexicon)
        for s in session.scalars(
            select(SampleInteraction).order_by(SampleInteraction.name, SampleInteraction.id)
        )
    ]
    tags = sorted({t for row in rows for t in row.tags})
    needle = query.strip().lower()[:100]
    if needle:
        rows = [
            r
            for r in rows
            if any(needle in part.lower() for part in (r.name, r.key, r.intent, r.category, r.text))
        ]
    if tag:
        rows = [r for r in rows if tag in r.tags]
    total = len(rows)
    page = clamp(page, total=total, per_page=per_page)
    return SamplePage(
        rows[(page - 1) * per_page : page * per_page], page, per_page, total, tags=tags
    )


def _lexicon_body(session: Session) -> dict[str, Any] | None:
    artifact = artifacts.find(session, "lexicon", "tone")
    return dict(artifacts.head(session, artifact).body) if artifact is not None else None


def get(session: Session, key: str) -> SampleInteraction | None:
    return session.scalar(select(SampleInteraction).where(SampleInteraction.key == key))


def choices(session: Session) -> list[tuple[str, str]]:
    """(key, name) of every sample, for pickers."""
    return [
        (k, n)
        for k, n in session.execute(
            select(SampleInteraction.key, SampleInteraction.name).order_by(
                SampleInteraction.name, SampleInteraction.id
            )
        )
    ]


def all_samples(session: Session) -> list[SampleInteraction]:
    return list(
        session.scalars(
            select(SampleInteraction).order_by(SampleInteraction.name, SampleInteraction.id)
        )
    )


# --- the schema-driven form ------------------------------------------------------------------


@dataclass(frozen=True)
class FormField:
    """One input of the sample form, made from a schema field."""

    path: str
    label: str
    type: str
    values: tuple[str, ...] = ()
    doc: str = ""

    @property
    def input_id(self) -> str:
        return "f-" + self.path.replace(".", "-")

    @property
    def long(self) -> bool:
        return self.path in LONG_TEXT or self.type == "history"


def form_fields(schema: Schema) -> list[FormField]:
    """The inputs for every field a rule may test, in the schema's order.

    Derived fields (`inquiry.resolved`, computed from the resolution) are left out: a
    sample that sets them could contradict what the runtime derives.
    """
    out = []
    for spec in schema.fields:
        if spec.derive_from is not None:
            continue
        out.append(FormField(spec.path, _label(spec), spec.type, spec.values, spec.doc))
    return out


def _label(spec: FieldSpec) -> str:
    return spec.path.replace("_", " ").replace(".", " › ")


def _get(body: Mapping[str, Any], path: str) -> Any:
    value: Any = body
    for name in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def _set(body: dict[str, Any], path: str, value: Any) -> None:
    names = path.split(".")
    target = body
    for name in names[:-1]:
        child = target.get(name)
        if not isinstance(child, dict):
            child = {}
            target[name] = child
        target = child
    target[names[-1]] = value


def form_from_body(schema: Schema, body: Mapping[str, Any]) -> dict[str, str]:
    """Form values (all text) for a stored interaction."""
    form: dict[str, str] = {}
    for spec in form_fields(schema):
        value = _get(body, spec.path)
        if value is None:
            form[spec.path] = ""
        elif spec.type == "boolean":
            form[spec.path] = "true" if value else "false"
        elif spec.type == "list" and isinstance(value, list):
            form[spec.path] = ", ".join(str(v) for v in value)
        elif spec.type == "history":
            form[spec.path] = json.dumps(value, indent=1) if value else ""
        else:
            form[spec.path] = str(value)
    extra = {k: v for k, v in body.items() if k in schema.free_roots}
    form["_free"] = json.dumps(extra.get("data", {}), indent=2) if extra.get("data") else ""
    return form


def body_from_form(
    schema: Schema, form: Mapping[str, str]
) -> tuple[dict[str, Any], list[FieldError]]:
    """The interaction a form describes; empty inputs leave the field out (null)."""
    body: dict[str, Any] = {}
    errors: list[FieldError] = []
    for spec in form_fields(schema):
        raw = str(form.get(spec.path, "")).strip()
        if not raw:
            continue
        if spec.type == "number":
            try:
                number = float(raw.replace(",", ""))
            except ValueError:
                errors.append(
                    FieldError(
                        spec.path, f"{raw[:40]} is not a number; write it like 0.42 or -0.8."
                    )
                )
                continue
            _set(body, spec.path, int(number) if number.is_integer() and "." not in raw else number)
        elif spec.type == "boolean":
            _set(body, spec.path, raw == "true")
        elif spec.type == "list":
            _set(body, spec.path, [p.strip() for p in raw.split(",") if p.strip()])
        elif spec.type == "history":
            try:
                _set(body, spec.path, json.loads(raw))
            except ValueError as bad:
                errors.append(FieldError(spec.path, f"This is not valid JSON: {bad}."))
        else:
            _set(body, spec.path, raw)
    free = str(form.get("_free", "")).strip()
    if free:
        try:
            data = json.loads(free)
        except ValueError as bad:
            errors.append(FieldError("data", f"This is not valid JSON: {bad}."))
        else:
            if isinstance(data, dict):
                body["data"] = data
            else:
                errors.append(
                    FieldError(
                        "data",
                        'Extra data must be a JSON object, like {"refill": {"savings_pct": 8}}.',
                    )
                )
    return body, errors


# --- validating ----------------------------------------------------------------------------


def parse_json(text: str) -> tuple[dict[str, Any] | None, FieldError | None]:
    """A JSON object from raw text, or an error that says where the text went wrong."""
    if len(text) > MAX_BODY:
        return None, FieldError(
            "json",
            f"The JSON is over {MAX_BODY // 1024} KB; a sample "
            "interaction is one customer contact.",
        )
    try:
        value = json.loads(text)
    except json.JSONDecodeError as bad:
        return None, FieldError(
            "json", f"This is not valid JSON: {bad.msg} at line {bad.lineno}, column {bad.colno}."
        )
    if not isinstance(value, dict):
        return None, FieldError(
            "json", 'A sample interaction is a JSON object: {"inquiry": {...}, "customer": {...}}.'
        )
    return value, None


def schema_errors(schema: Schema, body: Any) -> list[FieldError]:
    """Problems per field path, with the schema's suggestion when there is one."""
    errors = []
    for d in validate_interaction(schema, body):
        path, _, why = d.message.partition(": ")
        hint = f" ({d.hint})" if d.hint else ""
        errors.append(FieldError(path, f"{why or d.message}{hint}"))
    return errors


def clean_tags(text: str | Iterable[str]) -> tuple[list[str], FieldError | None]:
    raw = text.replace(";", ",").split(",") if isinstance(text, str) else list(text)
    tags = list(
        dict.fromkeys(str(t).strip().lower().replace(" ", "-") for t in raw if str(t).strip())
    )
    bad = [t for t in tags if not TAG_RE.match(t)]
    if bad:
        return tags, FieldError(
            "tags", f"“{bad[0][:40]}” is not a tag: use up to 32 lowercase letters, digits, - or _."
        )
    if len(tags) > MAX_TAGS:
        return tags, FieldError("tags", f"Use at most {MAX_TAGS} tags.")
    return tags, None


def slug(name: str) -> str:
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return (text or "sample")[:64]


def _validate(
    session: Session,
    *,
    key: str | None,
    name: str,
    tags: str | Iterable[str],
    body: Any,
    schema: Schema | None = None,
) -> tuple[list[str], list[FieldError]]:
    errors: list[FieldError] = []
    if key is not None:
        if not KEY_RE.match(key):
            errors.append(
                FieldError(
                    "key", "Use up to 64 lowercase letters, digits, - or _, like stolen-card."
                )
            )
        elif key in RESERVED_KEYS:
            errors.append(FieldError("key", f"{key} is a reserved word; choose another key."))
        elif get(session, key) is not None:
            errors.append(FieldError("key", f"A sample with the key {key} already exists."))
    if not name.strip():
        errors.append(
            FieldError(
                "name",
                "Give the sample a name people recognise, like "
                "“Stolen card, customer in distress”.",
            )
        )
    elif len(name) > 200:
        errors.append(FieldError("name", "Keep the name under 200 characters."))
    clean, tag_error = clean_tags(tags)
    if tag_error:
        errors.append(tag_error)
    if len(json.dumps(body, default=str)) > MAX_BODY:
        errors.append(FieldError("json", f"The interaction is over {MAX_BODY // 1024} KB."))
    else:
        errors += schema_errors(schema or rulesets.current_schema(session), body)
    return clean, errors


# --- writing -------------------------------------------------------------------------------


def create(
    session: Session,
    *,
    key: str,
    name: str,
    tags: str | Iterable[str],
    body: dict[str, Any],
    actor_id: int | None,
    schema: Schema | None = None,
) -> SampleInteraction:
    """Store a new sample; raises ValidationFailed (nothing stored)."""
    key = key.strip() or slug(name)
    clean, errors = _validate(session, key=key, name=name, tags=tags, body=body, schema=schema)
    if errors:
        raise ValidationFailed(errors)
    sample = SampleInteraction(
        key=key, name=name.strip(), tags=clean, body=body, created_by=actor_id
    )
    session.add(sample)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ValidationFailed(
            [FieldError("key", f"A sample with the key {key} already exists.")]
        ) from None
    audit.record(session, "sample.create", actor_id=actor_id, object_type="sample", object_id=key)
    return sample


def update(
    session: Session,
    sample: SampleInteraction,
    *,
    name: str,
    tags: str | Iterable[str],
    body: dict[str, Any],
    lock_version: int,
    actor_id: int | None,
) -> SampleInteraction:
    """Save changes; raises ValidationFailed or SampleConflict (someone saved first)."""
    clean, errors = _validate(session, key=None, name=name, tags=tags, body=body)
    if errors:
        raise ValidationFailed(errors)
    if lock_version != sample.lock_version:
        raise SampleConflict(sample)
    sample.name = name.strip()
    sample.tags = clean
    sample.body = body
    sample.updated_at = utcnow()
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        fresh = get(session, sample.key)
        raise SampleConflict(fresh or sample) from None
    audit.record(
        session, "sample.edit", actor_id=actor_id, object_type="sample", object_id=sample.key
    )
    return sample


def duplicate(
    session: Session, sample: SampleInteraction, *, key: str, name: str, actor_id: int | None
) -> SampleInteraction:
    """A copy under another key and name, for trying a variation of a contact."""
    body = json.loads(json.dumps(sample.body))
    try:
        return create(
            session, key=key, name=name, tags=list(sample.tags or ()), body=body, actor_id=actor_id
        )
    except ValidationFailed as failed:
        relevant = [e for e in failed.errors if e.field in ("key", "name")]
        if relevant:
            raise ValidationFailed(relevant) from None
        raise


def delete(session: Session, sample: SampleInteraction, *, actor_id: int | None) -> None:
    audit.record(
        session,
        "sample.delete",
        actor_id=actor_id,
        object_type="sample",
        object_id=sample.key,
        name=sample.name,
    )
    session.delete(sample)
    session.flush()


# --- importing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LineProblem:
    line: int
    message: str


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)


def import_lines(
    session: Session, text: str, *, actor_id: int | None, tags: str = ""
) -> ImportReport:
    """Import JSON lines: one interaction per line, or `{"key", "name", "tags",
    "interaction"}`. Valid lines are stored, samples whose key exists are skipped, and
    every bad line is reported with its number; a bad line never blocks the others.
    """
    report = ImportReport()
    schema = rulesets.current_schema(session)
    extra_tags, tag_error = clean_tags(tags)
    if tag_error:
        report.problems.append(LineProblem(0, tag_error.message))
        return report
    lines = text.splitlines()
    if len(lines) > MAX_IMPORT_LINES:
        report.problems.append(
            LineProblem(
                0,
                f"The file has {len(lines):,} lines; import at "
                f"most {MAX_IMPORT_LINES:,} at a time.",
            )
        )
        return report
    taken = {k for (k,) in session.execute(select(SampleInteraction.key))}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        value, error = parse_json(line)
        if error is not None or value is None:
            report.problems.append(LineProblem(number, error.message if error else "empty"))
            continue
        wrapped = "interaction" in value and isinstance(value.get("interaction"), dict)
        body = value["interaction"] if wrapped else value
        name = str(value.get("name") or "") if wrapped else ""
        name = name or _name_for(body, number)
        key = str(value.get("key") or "") if wrapped else ""
        key = key or slug(str(body.get("id") or name))
        if key in taken:
            report.skipped.append(key)
            continue
        line_tags = (
            list(value.get("tags") or []) if wrapped and isinstance(value.get("tags"), list) else []
        )
        try:
            create(
                session,
                key=key,
                name=name,
                tags=line_tags + extra_tags,
                body=body,
                actor_id=actor_id,
                schema=schema,
            )
        except ValidationFailed as failed:
            first = failed.errors[0]
            more = f" (and {len(failed.errors) - 1} more)" if len(failed.errors) > 1 else ""
            report.problems.append(LineProblem(number, f"{first.field}: {first.message}{more}"))
            continue
        taken.add(key)
        report.created.append(key)
    return report


def _name_for(body: Mapping[str, Any], number: int) -> str:
    intent = _part(body, "inquiry", "intent").replace("_", " ")
    channel = _part(body, "inquiry", "channel")
    if intent:
        return f"{intent.capitalize()}{f' by {channel}' if channel else ''}"[:200]
    return f"Imported interaction {number}"


# --- what an editor submitted ----------------------------------------------------------------

MODES: Final = ("form", "json")


@dataclass(frozen=True)
class Submission:
    """A sample as typed into the editor, in either mode, kept verbatim for re-display."""

    mode: str
    key: str = ""
    name: str = ""
    tags: str = ""
    json_text: str = ""
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EditorSpec:
    """The schema-driven inputs, grouped by what they describe."""

    groups: list[tuple[str, list[FormField]]]
    free_roots: tuple[str, ...]


GROUP_TITLES: Final = {
    "inquiry": "The inquiry",
    "tone": "Tone",
    "customer": "The customer",
    "": "The contact",
}


def editor_spec(session: Session) -> EditorSpec:
    schema = rulesets.current_schema(session)
    groups: dict[str, list[FormField]] = {}
    for spec in form_fields(schema):
        root = spec.path.split(".", 1)[0] if "." in spec.path else ""
        groups.setdefault(root, []).append(spec)
    ordered = sorted(
        groups.items(),
        key=lambda kv: (
            ("", "inquiry", "tone", "customer").index(kv[0])
            if kv[0] in ("", "inquiry", "tone", "customer")
            else 9
        ),
    )
    return EditorSpec(
        [(GROUP_TITLES.get(root, root.capitalize()), fields) for root, fields in ordered],
        schema.free_roots,
    )


def submission(form: Mapping[str, str], mode: str) -> Submission:
    mode = mode if mode in MODES else "form"
    return Submission(
        mode=mode,
        key=str(form.get("key", "")).strip(),
        name=str(form.get("name", "")),
        tags=str(form.get("tags", "")),
        json_text=str(form.get("json", "")),
        values={k: str(v) for k, v in form.items()},
    )


def submission_for(session: Session, sample: SampleInteraction | None, mode: str) -> Submission:
    """The editor's starting values: a stored sample, or an empty one."""
    body = dict(sample.body) if sample is not None and isinstance(sample.body, dict) else {}
    schema = rulesets.current_schema(session)
    return Submission(
        mode=mode if mode in MODES else "form",
        key=sample.key if sample else "",
        name=sample.name if sample else "",
        tags=", ".join(sample.tags or ()) if sample else "",
        json_text=json.dumps(body or STARTER, indent=2, ensure_ascii=False),
        values=form_from_body(schema, body),
    )


STARTER: Final = {
    "inquiry": {
        "category": "transactional",
        "intent": "order_checkbook",
        "channel": "chat",
        "resolution": "confirmed",
        "text": "Please send me a new checkbook.",
    },
    "customer": {"id": "c-1", "authenticated": True, "tier": "silver", "products": []},
}


def _body_of(session: Session, sub: Submission) -> tuple[dict[str, Any] | None, list[FieldError]]:
    if sub.mode == "json":
        body, error = parse_json(sub.json_text)
        return body, [error] if error else []
    body, errors = body_from_form(rulesets.current_schema(session), sub.values)
    return (None if errors else body), errors


def create_from(session: Session, sub: Submission, *, actor_id: int | None) -> SampleInteraction:
    body, errors = _body_of(session, sub)
    if body is None:
        raise ValidationFailed(errors)
    return create(session, key=sub.key, name=sub.name, tags=sub.tags, body=body, actor_id=actor_id)


def update_from(
    session: Session,
    sample: SampleInteraction,
    sub: Submission,
    *,
    lock_version: int,
    actor_id: int | None,
) -> SampleInteraction:
    body, errors = _body_of(session, sub)
    if body is None:
        raise ValidationFailed(errors)
    return update(
        session,
        sample,
        name=sub.name,
        tags=sub.tags,
        body=body,
        lock_version=lock_version,
        actor_id=actor_id,
    )
