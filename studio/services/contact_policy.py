"""The workspace contact policy, stored as revisions (kind "policy", key "contact").

One per workspace, owned by the service leads, reviewed like a ruleset and shipped in
the bundle as its compiled form (`dsl.policy`). It applies after every ruleset has
proposed its offers: global guards, caps, suppression, arbitration and fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.orm import Session

from dsl.diagnostics import Diagnostic, DSLError
from dsl.policy import compile_policy
from dsl.schema import Schema, default_schema
from studio.errors import FieldError, ValidationFailed
from studio.models import Artifact, Revision
from studio.services import artifacts, workspace

KIND: Final = "policy"
KEY: Final = workspace.POLICY_KEY
NAME: Final = "Contact policy"
MAX_SOURCE: Final = 200_000
STARTER: Final = """# The workspace contact policy: applies after every ruleset has proposed its offers.
# See the rule language reference, "The contact policy".

at most 1 offer per response
"""


@dataclass(frozen=True)
class PolicyState:
    artifact: Artifact | None
    head: Revision | None
    source: str

    @property
    def base_number(self) -> int:
        return self.artifact.head_number if self.artifact else 0


def state(session: Session) -> PolicyState:
    artifact = artifacts.find(session, KIND, KEY)
    if artifact is None:
        return PolicyState(None, None, STARTER)
    head = artifacts.head(session, artifact)
    return PolicyState(artifact, head, str(head.body.get("source", "")))


def _context(session: Session) -> tuple[Schema, list[str]]:
    ws = workspace.snapshot(session, which="head")
    try:
        schema = Schema.from_dict(ws.schema) if ws.schema is not None else default_schema()
    except DSLError:  # a broken schema draft is reported on its own page
        schema = default_schema()
    return schema, sorted(ws.of_kind("offer"))


def check(session: Session, source: str) -> tuple[Diagnostic, ...]:
    """Diagnostics of `source` against the workspace's schema and offers."""
    schema, offers = _context(session)
    return compile_policy(source, schema=schema, offers=offers).diagnostics


def save(
    session: Session, source: str, *, base_number: int, actor_id: int | None, summary: str = ""
) -> Revision | Artifact:
    """Store the source as the next revision; raise ValidationFailed on any error."""
    if len(source) > MAX_SOURCE:
        raise ValidationFailed(
            [FieldError("source", f"The policy is over {MAX_SOURCE:,} characters.")]
        )
    errors = [d for d in check(session, source) if d.is_error]
    if errors:
        raise ValidationFailed(
            [
                FieldError(
                    "source",
                    f"Line {d.line}: {d.code} {d.message}" + (f" ({d.hint})" if d.hint else ""),
                )
                for d in errors
            ]
        )
    body: dict[str, Any] = {"source": source}
    artifact = artifacts.find(session, KIND, KEY)
    if artifact is None:
        return artifacts.create(
            session,
            kind=KIND,
            key=KEY,
            name=NAME,
            body=body,
            actor_id=actor_id,
            summary=summary or "Created",
        )
    return artifacts.save(
        session, artifact, body=body, base_number=base_number, actor_id=actor_id, summary=summary
    )
