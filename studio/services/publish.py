"""Publishing: compile every approved head into one signed bundle, all or nothing.

One bad change request never blocks the others: `prepare_release` holds back the
approved change requests whose artifacts have errors (their artifacts stay at what is
live) and ships the rest, listing what it held back and why.

`prepare` does all the checking and compiling without writing anything, so the publish
confirmation page can show exactly what would ship and every diagnostic. `publish` runs
the same preparation inside the caller's transaction, refuses with the diagnostics if
anything is an error, and otherwise stores the bundle, moves the "current" mark and
records what went live. Any exception before the caller commits leaves the previous
current bundle untouched: the caller rolls back the one transaction.

Rollback makes an earlier bundle current again by republishing its verified content as
a new, higher version (so downstream caches, which compare versions and ETags, always
move forward); `rollback_of` says which bundle it restores.

The rule language and content libraries are reached through the `Toolchain` seam
(`studio.services.toolchain`), so this module's logic is testable with a fake compiler.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from bundle import format as bundle_format
from content.diagnostics import ContentError
from dsl.diagnostics import DSLError
from dsl.gc_pause import gc_paused
from dsl.policy import compile_policy
from dsl.schema import Schema
from studio import audit
from studio.errors import FieldError, NotAllowed, Problem, PublishRefused, ValidationFailed
from studio.models import Artifact, Bundle, ChangeRequest, Setting, User
from studio.roles import ADMIN, REVIEWER
from studio.services import auto_pause, bundles, notifications, signing, survey_library, workspace
from studio.services.toolchain import Toolchain, default_toolchain
from studio.services.write_lock import take_workspace_lock

PUBLISHERS = frozenset({REVIEWER, ADMIN})


# --- problems, plans, refusals ---------------------------------------------------------


@dataclass(frozen=True)
class HeldBack:
    """An approved change request this publish leaves out, and the errors that say why."""

    request: ChangeRequest
    reasons: list[Problem]


@dataclass(frozen=True)
class Plan:
    """What publishing now would ship, and everything found wrong with it."""

    body: dict[str, Any]
    problems: list[Problem]
    changes: dict[str, list[str]]
    previous_version: int | None
    workspace: workspace.Workspace = field(repr=False)
    held_back: list[HeldBack] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    @property
    def has_changes(self) -> bool:
        return any(self.changes.values())

    @property
    def contents(self) -> str:
        """Everything the bundle would hold, counted: "12 offers, 5 layouts, 5 rulesets,
        2 surveys, the contact policy and the interaction schema"."""
        return contents(self.body)


_COUNTED: Final = (
    ("offers", "offer", "offers"),
    ("layouts", "layout", "layouts"),
    ("rulesets", "ruleset", "rulesets"),
    ("surveys", "survey", "surveys"),
)
#: What a bundle holds one of, named when an approved revision of it is in the bundle.
_SINGLE: Final = (
    ("policy", "the contact policy"),
    ("schema", "the interaction schema"),
    ("lexicon", "the tone lexicon"),
)


def contents(body: Mapping[str, Any]) -> str:
    """What a bundle body holds, every kind counted (the publish page's summary)."""
    parts = []
    for name, one, many in _COUNTED:
        n = len(body.get(name) or ())
        parts.append(f"{n:,} {one if n == 1 else many}")
    kinds = {str(ref).split(":", 1)[0] for ref in body.get("revisions") or {}}
    if body.get("policy") is not None:
        kinds.add("policy")
    parts += [words for kind, words in _SINGLE if kind in kinds]
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def _may_publish(actor: User) -> None:
    if not actor.roles & PUBLISHERS:
        raise NotAllowed("Only reviewers and admins publish bundles.")


def _offer_window_problem(
    ref: str, key: str, body: Mapping[str, Any], today: date, line: int | None, column: int | None
) -> Problem | None:
    try:
        start = date.fromisoformat(str(body.get("valid_from")))
    except ValueError:
        start = None
    end_raw = body.get("valid_to")
    try:
        end = date.fromisoformat(str(end_raw)) if end_raw else None
    except ValueError:
        end = None
    if start is not None and today < start:
        return Problem(
            "warning",
            "offer-not-yet-valid",
            f"offer {key} is not valid until {start.isoformat()}",
            ref,
            line,
            column,
            "the rule will not make this offer before then",
        )
    if end is not None and today > end:
        return Problem(
            "warning",
            "offer-expired",
            f"offer {key} expired on {end.isoformat()}",
            ref,
            line,
            column,
            "extend its validity window or remove the rule",
        )
    return None


def _compile_offers(
    ws: workspace.Workspace, schema: Mapping[str, Any], toolchain: Toolchain
) -> tuple[list[dict[str, Any]], list[Problem]]:
    out: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for key, entry in sorted(ws.of_kind("offer").items()):
        if entry.archived:
            continue
        ref = workspace.ref("offer", key)
        offer = workspace.thaw(entry.body)
        offer["key"] = key
        source = str(offer.get("eligible_when") or "").strip()
        eligibility = None
        if source:
            compiled = toolchain.compile_eligibility(source, schema=schema)
            problems += [Problem.from_diagnostic(ref, d) for d in compiled.diagnostics]
            eligibility = compiled.ir
        offer["eligibility"] = eligibility
        offer["revision"] = entry.number
        out.append(offer)
    return out, problems


def _compile_surveys(ws: workspace.Workspace) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Approved, unarchived surveys as the bundle carries them (`content.surveys` shape)."""
    out: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for key, entry in sorted(ws.of_kind(survey_library.KIND).items()):
        if entry.archived:
            continue
        survey = survey_library.survey_of(key, workspace.thaw(entry.body))
        if survey is None:
            problems.append(
                Problem(
                    "error",
                    "survey-invalid",
                    f"survey {key} is not a valid survey",
                    workspace.ref(survey_library.KIND, key),
                    hint="open the survey and save it again",
                )
            )
            continue
        out.append({**survey.to_dict(), "revision": entry.number})
    return out, problems


def _compile_layouts(
    ws: workspace.Workspace, toolchain: Toolchain
) -> tuple[list[dict[str, Any]], list[Problem]]:
    out: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for key, entry in sorted(ws.of_kind("layout").items()):
        if entry.archived:
            continue
        body = workspace.thaw(entry.body)
        html = body.get("compiled_html")
        if not html and str(body.get("source", "")).lstrip().startswith("<mjml"):
            try:
                html = toolchain.compile_mjml(body["source"])
            except ContentError as failed:
                problems += [
                    Problem.from_diagnostic(f"layout:{key}", d.to_dict())
                    for d in failed.diagnostics
                ]
        if not html:
            problems.append(
                Problem(
                    "error",
                    "layout-not-compiled",
                    f"layout {key} has no compiled HTML",
                    f"layout:{key}",
                    hint="open the layout and save it again",
                )
            )
        out.append(
            {
                "key": key,
                "name": entry.name,
                "channel": body.get("channel", ""),
                "compiled_html": html or "",
                "revision": entry.number,
            }
        )
    return out, problems


def _compile_rulesets(
    ws: workspace.Workspace,
    schema: Mapping[str, Any],
    today: date,
    toolchain: Toolchain,
    surveys: list[str] | None = None,
) -> tuple[list[dict[str, Any]], list[Problem]]:
    offers = ws.of_kind("offer")
    catalog = {
        key: workspace.thaw(e.body) | ({"status": "archived"} if e.archived else {})
        for key, e in offers.items()
    }
    out: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for key, entry in sorted(ws.of_kind("ruleset").items()):
        if entry.archived:
            continue
        ref = workspace.ref("ruleset", key)
        source = str(entry.body.get("source", ""))
        compiled = toolchain.compile_ruleset(
            source, schema=schema, offers=catalog, name=entry.name, surveys=surveys or []
        )
        problems += [Problem.from_diagnostic(ref, d) for d in compiled.diagnostics]
        problems += _reference_problems(ref, source, ws, today, toolchain)
        out.append(
            {
                "key": key,
                "name": entry.name,
                "source": source,
                "ir": compiled.ir,
                "revision": entry.number,
            }
        )
    return out, problems


def _compile_policy(
    ws: workspace.Workspace, schema: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The workspace contact policy's IR (None without a policy), and its problems."""
    body = ws.policy
    if body is None:
        return None, []
    ref = workspace.ref("policy", workspace.POLICY_KEY)
    try:
        checked_schema = Schema.from_dict(schema)
    except DSLError:
        return None, []  # the schema's own problems are reported by the rulesets
    offers = [k for k, e in ws.of_kind("offer").items() if not e.archived]
    compiled = compile_policy(str(body.get("source", "")), schema=checked_schema, offers=offers)
    return compiled.ir, [Problem.from_diagnostic(ref, d.to_dict()) for d in compiled.diagnostics]


def _reference_problems(
    ref: str, source: str, ws: workspace.Workspace, today: date, toolchain: Toolchain
) -> list[Problem]:
    """Offers a ruleset names that will not be live: unapproved is an error; missing,
    archived or outside the validity window is a warning (the rule just will not fire)."""
    offers = ws.of_kind("offer")
    problems: list[Problem] = []
    seen: set[str] = set()
    for found in toolchain.offer_refs(source):
        if found.key in seen:
            continue
        seen.add(found.key)
        entry = offers.get(found.key)
        where = (found.line, found.column)
        if entry is None and workspace.ref("offer", found.key) in ws.unavailable:
            problems.append(
                Problem(
                    "error",
                    "offer-not-approved",
                    f'rule "{found.rule}" offers {found.key}, which has never been approved',
                    ref,
                    *where,
                    "submit the offer for review, or remove it from the rule",
                )
            )
        elif entry is None:
            problems.append(
                Problem(
                    "warning",
                    "offer-missing",
                    f'rule "{found.rule}" offers {found.key}, which does not exist',
                    ref,
                    *where,
                    "the rule will never make this offer",
                )
            )
        elif entry.archived:
            problems.append(
                Problem(
                    "warning",
                    "offer-archived",
                    f'rule "{found.rule}" offers {found.key}, which is archived',
                    ref,
                    *where,
                    "the rule will never make this offer",
                )
            )
        else:
            window = _offer_window_problem(ref, found.key, entry.body, today, *where)
            if window is not None:
                problems.append(window)
    return problems


def prepare(
    session: Session,
    *,
    toolchain: Toolchain | None = None,
    today: date | None = None,
    which: workspace.Which = "approved",
    live_only: Collection[int] = (),
) -> Plan:
    """Check and compile the approved workspace (or, for a backtest, the drafts at their
    head revisions); writes nothing. Artifacts in `live_only` stay at what is live."""
    toolchain = toolchain or default_toolchain()
    today = today or datetime.now(UTC).date()
    ws = workspace.snapshot(session, which=which, live_only=live_only)
    schema = workspace.thaw(ws.schema) if ws.schema is not None else toolchain.default_schema()
    lexicon = workspace.thaw(ws.lexicon) if ws.lexicon is not None else {}
    offers, offer_problems = _compile_offers(ws, schema, toolchain)
    layouts, layout_problems = _compile_layouts(ws, toolchain)
    surveys, survey_problems = _compile_surveys(ws)
    # Compiling tens of thousands of rules builds millions of objects; the cyclic GC would
    # rescan them again and again (a quarter of a 20,000-rule publish), so it waits.
    with gc_paused():
        rulesets, ruleset_problems = _compile_rulesets(
            ws, schema, today, toolchain, [s["key"] for s in surveys]
        )
    policy, policy_problems = _compile_policy(ws, schema)
    problems = (
        offer_problems + layout_problems + survey_problems + ruleset_problems + policy_problems
    )
    paused = {workspace.ref("offer", key) for key in auto_pause.paused_offers(session)}
    offers = [offer for offer in offers if workspace.ref("offer", offer["key"]) not in paused]
    current = bundles.current(session)
    previous = _revisions_of(current)
    revisions = {ref: number for ref, number in ws.revisions.items() if ref not in paused}
    changes = bundles.changes(previous, revisions)
    if current is not None and not any(changes.values()):
        problems.append(
            Problem(
                "error",
                "nothing-to-publish",
                f"nothing was approved since v{current.version}",
                "",
                hint="approve a change request first",
            )
        )
    elif not revisions:
        problems.append(
            Problem(
                "error",
                "nothing-to-publish",
                "nothing has been approved yet",
                "",
                hint="approve a change request first",
            )
        )
    body = {
        "format": bundle_format.FORMAT,
        "schema": schema,
        "lexicon": lexicon,
        "offers": offers,
        "layouts": layouts,
        "default_layouts": default_layouts(session, layouts),
        "rulesets": rulesets,
        "surveys": surveys,
        "revisions": revisions,
    }
    if policy is not None:
        body["policy"] = policy
    return Plan(
        body=body,
        problems=problems,
        changes=changes,
        previous_version=current.version if current else None,
        workspace=ws,
    )


def prepare_release(
    session: Session, *, toolchain: Toolchain | None = None, today: date | None = None
) -> Plan:
    """What publishing now ships: every approved change request that is consistent with
    the rest, and the ones held back with the errors that name their artifacts.

    An error about an artifact in an approved request (a rule naming an offer that is not
    approved, a ruleset that does not compile) holds that request back: its artifacts stay
    at what is live, and the rest is compiled again, until no error names an artifact of a
    request still in. Each round holds back at least one request, so this ends. Errors
    that name no approved request's artifact (nothing to publish, a live ruleset broken
    by the schema) still refuse the publish.
    """
    toolchain = toolchain or default_toolchain()
    today = today or datetime.now(UTC).date()
    candidates = list(
        session.scalars(
            select(ChangeRequest)
            .where(ChangeRequest.status == "approved")
            .order_by(ChangeRequest.id)
        )
    )
    carried = {
        request.id: {workspace.ref(item.artifact.kind, item.artifact.key) for item in request.items}
        for request in candidates
    }
    held: list[HeldBack] = []
    while True:
        held_ids = {h.request.id for h in held}
        live_only = {
            item.artifact_id
            for request in candidates
            if request.id in held_ids
            for item in request.items
        }
        plan = prepare(session, toolchain=toolchain, today=today, live_only=live_only)
        blamed = [
            HeldBack(request, [p for p in plan.errors if p.ref in carried[request.id]])
            for request in candidates
            if request.id not in held_ids
        ]
        blamed = [h for h in blamed if h.reasons]
        if not blamed:
            return replace(plan, problems=_say_all_held(plan.problems, held), held_back=held)
        held += blamed


def _say_all_held(problems: list[Problem], held: list[HeldBack]) -> list[Problem]:
    """A "nothing to publish" error says so when every approved request is held back."""
    if not held:
        return problems
    return [
        replace(
            p,
            message=f"{p.message}: every approved change request is held back",
            hint="fix what the held-back requests list, or approve other changes",
        )
        if p.code == "nothing-to-publish"
        else p
        for p in problems
    ]


def default_layouts(session: Session, layouts: list[dict[str, Any]]) -> dict[str, str]:
    """The layout each channel uses when a decision names none.

    An admin's choice (the `default_layouts` setting) wins where it names a layout that
    is in the bundle; otherwise the first layout ever made for the channel is its default.
    """
    in_bundle = {layout["key"]: layout["channel"] for layout in layouts}
    chosen: dict[str, str] = {}
    setting = session.get(Setting, "default_layouts")
    if setting is not None and isinstance(setting.value, dict):
        for channel, key in setting.value.items():
            if in_bundle.get(key) == channel:
                chosen[channel] = key
    first_made = session.scalars(
        select(Artifact.key)
        .where(Artifact.kind == "layout", Artifact.key.in_(in_bundle))
        .order_by(Artifact.id)
    )
    for key in first_made:
        chosen.setdefault(in_bundle[key], key)
    return chosen


def _revisions_of(bundle: Bundle | None) -> dict[str, int] | None:
    if bundle is None:
        return None
    return dict((bundle.summary or {}).get("revisions") or {})


def publish(
    session: Session,
    *,
    actor: User,
    ring: signing.KeyRing,
    toolchain: Toolchain | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> Bundle:
    """Compile, sign and store the next bundle in the caller's transaction.

    Raises NotAllowed (wrong role) or PublishRefused (with every problem); the caller
    commits on success and rolls back on any exception.
    """
    _may_publish(actor)
    # Serialised: a second publish of the same approval waits, then finds nothing new.
    take_workspace_lock(session)
    plan = prepare_release(session, toolchain=toolchain, today=today)
    if plan.errors:
        raise PublishRefused(plan.problems)
    now = now or datetime.now(UTC)
    version = bundles.latest_version(session) + 1
    body = {
        **plan.body,
        "version": version,
        "published_at": now.isoformat(),
        "rollback_of": None,
        "warnings": [p.to_dict() for p in plan.warnings],
    }
    summary = {
        "changes": plan.changes,
        "revisions": plan.body["revisions"],
        "counts": _counts(body),
        "warnings": len(plan.warnings),
    }
    bundle = bundles.store(session, body, ring=ring, actor_id=actor.id, summary=summary)
    published = _mark_published(session, version, plan.body["revisions"])
    audit.record(
        session,
        "bundle.publish",
        actor_id=actor.id,
        object_type="bundle",
        object_id=version,
        digest=bundle.digest,
        changes=plan.changes,
        change_requests=[cr.id for cr in published],
        held_back=[
            {"change_request": h.request.id, "codes": sorted({p.code for p in h.reasons})}
            for h in plan.held_back
        ],
    )
    for request in published:
        notifications.notify(
            session,
            [request.author],
            kind="published",
            message=f'"{request.title}" is live in bundle v{version}.',
            link=f"/bundles/{version}",
            exclude=actor.id,
        )
    return bundle


def _counts(body: Mapping[str, Any]) -> dict[str, int]:
    return {name: len(body[name]) for name in ("offers", "layouts", "rulesets")}


def _mark_published(
    session: Session, version: int, revisions: Mapping[str, int]
) -> list[ChangeRequest]:
    """Record which revisions went live and close the change requests that carried them.

    Works from the revisions actually in the bundle, not from what is approved now: an
    approval that landed while the bundle was compiling stays approved for the next one.
    """
    live: dict[int, int] = {}
    for artifact in session.scalars(select(Artifact)):
        number = revisions.get(workspace.ref(artifact.kind, artifact.key))
        if number is not None:
            live[artifact.id] = number
            artifact.published_number = number
    requests = [
        request
        for request in session.scalars(
            select(ChangeRequest).where(ChangeRequest.status == "approved")
        )
        if all(live.get(item.artifact_id, -1) >= item.revision_number for item in request.items)
    ]
    for request in requests:
        request.status = "published"
        request.published_version = version
    session.flush()
    return requests


def rollback(
    session: Session,
    *,
    actor: User,
    version: int,
    ring: signing.KeyRing,
    now: datetime | None = None,
) -> Bundle:
    """Make bundle `version` current again, as a new version carrying its content.

    The restored content is verified first, so a tampered bundle is never republished.
    Live artifacts go back to the restored revisions; changes approved but not yet
    published stay approved. An offer paused for complaints (`auto_pause`) is left out.
    """
    if not actor.roles & PUBLISHERS:
        raise NotAllowed("Only reviewers and admins roll back bundles.")
    take_workspace_lock(session)
    target = bundles.get(session, version)
    if target is None:
        raise ValidationFailed([FieldError("version", f"There is no bundle v{version}.")])
    if target.is_current:
        raise ValidationFailed([FieldError("version", f"v{version} is already current.")])
    old = bundles.load_verified(target, ring.public_keys())
    now = now or datetime.now(UTC)
    current = bundles.current(session)
    new_version = bundles.latest_version(session) + 1
    # An offer paused for complaints stays out, as it does from every publish: the pause
    # is undone by its review, not by going back to a bundle from before it.
    paused = auto_pause.paused_offers(session)
    offers = [o for o in old.get("offers") or [] if o.get("key") not in paused]
    body = {
        **old,
        "offers": offers,
        "version": new_version,
        "published_at": now.isoformat(),
        "rollback_of": version,
    }
    left_out = {workspace.ref("offer", key) for key in paused}
    revisions = {
        str(k): int(v) for k, v in (old.get("revisions") or {}).items() if str(k) not in left_out
    }
    if "revisions" in old:
        body["revisions"] = revisions
    changes = bundles.changes(_revisions_of(current), revisions)
    summary = {
        "changes": changes,
        "revisions": revisions,
        "counts": _counts(body),
        "warnings": len(old.get("warnings") or []),
    }
    bundle = bundles.store(
        session, body, ring=ring, actor_id=actor.id, summary=summary, rollback_of=version
    )
    _restore_revisions(session, revisions)
    audit.record(
        session,
        "bundle.rollback",
        actor_id=actor.id,
        object_type="bundle",
        object_id=new_version,
        restores=version,
        replaced=current.version if current else None,
        digest=bundle.digest,
    )
    return bundle


def _restore_revisions(session: Session, revisions: Mapping[str, int]) -> None:
    for artifact in session.scalars(select(Artifact)):
        live = revisions.get(workspace.ref(artifact.kind, artifact.key))
        pending = artifact.approved_number != artifact.published_number
        if not pending and artifact.approved_number != live:
            artifact.approved_number = live
        if artifact.published_number != live:
            artifact.published_number = live
    session.flush()
