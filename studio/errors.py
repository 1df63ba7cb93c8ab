"""Errors as values: every refusal the studio makes, in one place.

Services raise a `StudioError` when a rule of the studio refuses an action; each carries
a stable `code` (what programs and tests match on), a plain `message` (what a person
reads), and where it helps a `location` (the field or object at fault) and a `hint`
(what to do about it). The web layer turns them into pages and the API into JSON: a
service never knows which.

`Refusal` is the same idea as a value rather than an exception, for checks that report
many independent problems (one per event in a batch) or that a caller inspects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from studio.models import Artifact, Revision, SampleInteraction


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    hint: str | None = None


class StudioError(Exception):
    """The base of every refusal a studio service raises."""

    code: str = "refused"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        location: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.location = location
        self.hint = hint


class ValidationFailed(StudioError):
    """Raised by services when input is refused; nothing has been stored."""

    code = "validation_failed"

    def __init__(self, errors: list[FieldError]) -> None:
        first = errors[0] if errors else None
        super().__init__(
            "; ".join(f"{e.field}: {e.message}" for e in errors),
            location=first.field if first else None,
            hint=first.hint if first else None,
        )
        self.errors = errors

    def by_field(self) -> dict[str, str]:
        return {error.field: error.message for error in self.errors}


class NotAllowed(StudioError):
    """The person's roles or relation to the change forbid the action (a 403, not a 400)."""

    code = "not_allowed"


class EditConflict(StudioError):
    """Somebody saved the artifact after the editor loaded it."""

    code = "edit_conflict"

    def __init__(self, artifact: Artifact, base_number: int, theirs: Revision | None) -> None:
        super().__init__(
            f"{artifact.name} was changed by someone else (revision {artifact.head_number}) "
            f"after you started editing revision {base_number}.",
            location=f"{artifact.kind}:{artifact.key}",
            hint="compare the two versions, merge by hand, then save again",
        )
        self.artifact = artifact
        self.base_number = base_number
        self.theirs = theirs


class SampleConflict(StudioError):
    """Somebody saved the sample after the editor loaded it."""

    code = "sample_conflict"

    def __init__(self, sample: SampleInteraction) -> None:
        super().__init__(
            f"{sample.name} was changed by someone else after you opened it.",
            location=f"sample:{sample.key}",
            hint="open their version, merge by hand, and save again",
        )
        self.sample = sample


@dataclass(frozen=True)
class Problem:
    """One diagnostic about one artifact, as the publish page shows it."""

    severity: str
    code: str
    message: str
    ref: str
    line: int | None = None
    column: int | None = None
    hint: str | None = None

    @classmethod
    def from_diagnostic(cls, ref: str, d: Mapping[str, Any]) -> Problem:
        return cls(
            severity=str(d.get("severity", "error")),
            code=str(d.get("code", "")),
            message=str(d.get("message", "")),
            ref=ref,
            line=d.get("line"),
            column=d.get("column"),
            hint=d.get("hint"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "ref": self.ref,
            "line": self.line,
            "column": self.column,
            "hint": self.hint,
        }


class PublishRefused(StudioError):
    """Something does not compile or is not approved; nothing was stored."""

    code = "publish_refused"

    def __init__(self, problems: Sequence[Problem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        first = errors[0] if errors else None
        super().__init__(
            f"publishing refused: {len(errors)} error(s)",
            location=first.ref if first else None,
            hint=first.hint if first else None,
        )
        self.problems = list(problems)


class BundleTampered(StudioError):
    """A stored bundle no longer matches its digest or signature: it must not be served."""

    code = "bundle_tampered"

    def __init__(self, version: int, reason: str) -> None:
        super().__init__(
            f"bundle v{version} failed verification: {reason}",
            location=f"bundle:{version}",
            hint="republish, or roll back to a bundle that verifies",
        )
        self.version = version
        self.reason = reason


class HeaderInjection(StudioError, ValueError):
    """A mail header value contained CR or LF."""

    code = "header_injection"


RefusalKind = Literal["invalid", "too_large", "not_found", "unavailable"]


@dataclass(frozen=True)
class Refusal:
    """Input or a request refused, as a value: `kind` says what sort of failure it is
    (the API picks the status from it), `field` is a dotted path such as
    ``events[3].type`` when one part is at fault."""

    code: str
    message: str
    field: str | None = None
    kind: RefusalKind = "invalid"
