"""The editor flow every authored artifact shares: save with a conflict check, archive,
restore, and the conflict box that keeps what the person typed.

Offers, layouts, rulesets, the schema and the tone lexicon all save the same way: the
form carries the revision it started from (`base_number`); the service refuses a save
with `ValidationFailed` (422: the editor is drawn again with the errors next to the
fields and the same base, so a later save still notices someone else's edit) or with
`EditConflict` (409: the editor is drawn again with the person's input, the shared
`_conflict.html` box showing theirs, yours and the difference, and the new head as the
base, so saving again builds on their revision). Each area keeps its own routes and
templates and hands the drawing to a `redraw` callback.

The box lets the person take either side without retyping: field by field for a form
(offers: `fields_of` turns a body into the form's fields), hunk by hunk for a single
source (rulesets, layouts: `source_field` names the textarea). The page's script copies
the chosen side into the form; without it, the box still shows both and the merge is by
hand. The starting choice is three-way (studio/services/merges.py).

Nothing here commits: a refusal is a 4xx answer, so the request's unit of work rolls it
back (studio/db.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from studio.db import db_session
from studio.errors import EditConflict, FieldError, ValidationFailed
from studio.models import Artifact, Revision, SampleInteraction
from studio.services import artifacts
from studio.services.diffs import DiffLine, diff_lines
from studio.services.merges import FieldChoice, Hunk, field_choices, hunks
from studio.web import actor_id, artifact_or_404, int_arg

#: Turns a revision body into the editor form's fields, flat ("blocks.headline" -> text).
FieldsOf = Callable[[Artifact, Mapping[str, Any]], Mapping[str, str]]


@dataclass(frozen=True)
class ConflictBox:
    """What the shared conflict box shows: who saved, when, theirs, yours, the diff."""

    message: str
    who: str
    when: datetime | None
    theirs_label: str
    base_label: str
    theirs: str
    mine: str
    lines: list[DiffLine]
    fields: list[FieldChoice] = field(default_factory=list)
    hunks: list[Hunk] = field(default_factory=list)
    source_field: str = ""

    def choices(self) -> dict[str, Any]:
        """What the page's script needs to apply a choice (JSON in the page)."""
        return {
            "fields": {
                f.name: {"id": form_field_id(f.name), "theirs": f.theirs, "mine": f.mine}
                for f in self.fields
            },
            "source": form_field_id(self.source_field) if self.source_field else "",
            "hunks": [{"same": h.same, "theirs": h.theirs, "mine": h.mine} for h in self.hunks],
        }


def form_field_id(name: str) -> str:
    """The id the editor forms give a field (`fid` in offers/_fields.html); a single
    source's textarea is its own name (`source`)."""
    if name == "source":
        return name
    return "f-" + name.replace(".", "-").replace("[", "-").replace("]", "")


def conflict_box(
    conflict: EditConflict,
    *,
    mine: str,
    text_of: Callable[[Mapping[str, Any]], str] = artifacts.body_text,
    mine_fields: Mapping[str, str] | None = None,
    fields_of: FieldsOf | None = None,
    labels: Mapping[str, str] | None = None,
    source_field: str = "",
) -> ConflictBox:
    """The box for an artifact someone else saved; `mine` is the text the person tried
    to save, `text_of` turns a revision body into comparable text. With `fields_of` and
    `mine_fields` it offers a choice per differing field; with `source_field`, per hunk."""
    theirs = conflict.theirs
    theirs_text = text_of(theirs.body) if theirs is not None else ""
    base = artifacts.revision(db_session(), conflict.artifact, conflict.base_number)
    choices: list[FieldChoice] = []
    if fields_of is not None and mine_fields is not None and theirs is not None:
        choices = field_choices(
            fields_of(conflict.artifact, base.body) if base is not None else None,
            fields_of(conflict.artifact, theirs.body),
            mine_fields,
            labels or {},
        )
    pieces: list[Hunk] = []
    if source_field:
        pieces = hunks(text_of(base.body) if base is not None else None, theirs_text, mine)
    return ConflictBox(
        message=str(conflict),
        who=theirs.author.name if theirs is not None and theirs.author else "Someone",
        when=theirs.created_at if theirs is not None else None,
        theirs_label=f"revision {conflict.artifact.head_number}",
        base_label=f"revision {conflict.base_number}",
        theirs=theirs_text,
        mine=mine,
        lines=diff_lines(theirs_text, mine),
        fields=choices,
        hunks=pieces,
        source_field=source_field,
    )


def sample_conflict_box(
    fresh: SampleInteraction, *, message: str, base_version: int, mine: str, theirs: str
) -> ConflictBox:
    """The same box for a sample interaction (versions instead of revisions)."""
    return ConflictBox(
        message=message,
        who="Someone",
        when=fresh.updated_at,
        theirs_label=f"version {fresh.lock_version}",
        base_label=f"version {base_version}",
        theirs=theirs,
        mine=mine,
        lines=diff_lines(theirs, mine),
    )


@dataclass(frozen=True)
class Refused:
    """A save that stored nothing, for the editor to draw again with the person's input.

    `base_number` is what the redrawn form must carry: the one the person started from
    after invalid input, the new head after a conflict.
    """

    status: int
    artifact: Artifact | None
    base_number: int
    errors: list[FieldError]
    conflict: ConflictBox | None = None

    def by_field(self) -> dict[str, str]:
        return {error.field: error.message for error in self.errors}

    def messages(self) -> list[str]:
        return [error.message for error in self.errors]


#: Draws the editor again for a refused save (the area's own template and status).
Redraw = Callable[[Refused], ResponseReturnValue]
#: The flash message and its category for what a successful save returned.
Saved = Callable[[Any], tuple[str, str]]


def saved_revision(stored: Revision | Artifact) -> tuple[str, str]:
    """The usual success message; the first save of the schema or lexicon creates the
    artifact, which is then at revision 1."""
    number = stored.number if isinstance(stored, Revision) else stored.head_number
    return f"Saved revision {number}.", "success"


class ArtifactEditor:
    """The save, archive and restore flow of one kind of artifact.

    `page` is the endpoint that shows one artifact (called with its `key`), `index` the
    area's list, `confirm_archive` the template that asks before archiving; `text_of`
    turns a revision body into the text the conflict box compares; `fields_of` and
    `labels` (a form) or `source_field` (a single source) let it offer choices.
    """

    def __init__(
        self,
        kind: str,
        *,
        page: str = "",
        index: str = "",
        confirm_archive: str = "",
        text_of: Callable[[Mapping[str, Any]], str] = artifacts.body_text,
        fields_of: FieldsOf | None = None,
        labels: Mapping[str, str] | None = None,
        source_field: str = "",
    ) -> None:
        self.fields_of = fields_of
        self.labels = labels
        self.source_field = source_field
        self.kind = kind
        self.page = page
        self.index = index
        self.confirm_archive = confirm_archive
        self.text_of = text_of

    @staticmethod
    def base_number(default: int = -1) -> int:
        """The revision the submitted form started from."""
        return int_arg(request.form.get("base_number"), default)

    def save(
        self,
        artifact: Artifact | None,
        attempt: Callable[[int], Any],
        *,
        mine: str,
        redraw: Redraw,
        then: str,
        saved: Saved = saved_revision,
        base: int | None = None,
        mine_fields: Mapping[str, str] | None = None,
    ) -> ResponseReturnValue:
        """Run `attempt(base_number)`. Stored: flash `saved(result)` and go to `then`.
        Refused: hand `redraw` what it needs to draw the editor again; `mine_fields` is
        the submitted form, flat, for a choice per field."""
        base = self.base_number() if base is None else base
        try:
            stored = attempt(base)
        except ValidationFailed as failed:
            return redraw(Refused(422, artifact, base, failed.errors))
        except EditConflict as conflict:
            return redraw(
                Refused(
                    409,
                    conflict.artifact,
                    conflict.artifact.head_number,
                    [],
                    conflict_box(
                        conflict,
                        mine=mine,
                        text_of=self.text_of,
                        mine_fields=mine_fields,
                        fields_of=self.fields_of,
                        labels=self.labels,
                        source_field=self.source_field,
                    ),
                )
            )
        flash(*saved(stored))
        return redirect(then)

    def archive(self, key: str) -> ResponseReturnValue:
        """GET asks for confirmation; POST archives as a new revision (reviewed like any)."""
        session = db_session()
        artifact = artifact_or_404(session, self.kind, key)
        if request.method == "GET":
            return render_template(self.confirm_archive, artifact=artifact)
        artifacts.set_archived(session, artifact, True, actor_id=actor_id())
        flash(f"{artifact.name} is archived. It stays in history and can be restored.", "success")
        return redirect(url_for(self.index))

    def restore(self, key: str) -> Response:
        session = db_session()
        artifact = artifact_or_404(session, self.kind, key)
        artifacts.set_archived(session, artifact, False, actor_id=actor_id())
        flash(f"{artifact.name} is restored.", "success")
        return redirect(url_for(self.page, key=key))
