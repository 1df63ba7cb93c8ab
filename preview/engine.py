"""Preview: what one interaction would get, and how it would look, before anything is saved.

The studio hands over a plain `Workspace` (offers, layouts, rulesets, schema and tone
lexicon at their head revisions), one interaction, and optionally the artifact being
edited with its unsaved text (`Draft`). `preview` then

1. fills in the tone from the text when the interaction has none (`preview.tone`),
2. checks the interaction against the schema (problems are shown, never fatal: the
   rule language reads a missing or mistyped field as null),
3. compiles the draft; if it does not compile, the result carries its diagnostics as
   `blocking` and nothing else, so an editor never shows a stale preview as current,
4. decides every ruleset with a trace (the edited ruleset's text in place; its trace
   alone when a ruleset is the focus),
5. lets the contact policy dispose of every ruleset's candidates (`preview.disposal`,
   the bundle runtime's own step; the draft policy when that is being edited),
6. renders every variant of the offers the customer gets, of the follow-ups, and of
   the offer or layout being edited.

Compiling is memoized by source text (`preview.cache`), so a keystroke costs one
compile of the edited artifact plus the decision and the rendering. Nothing here
raises for any text a person can type.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

import dsl
from content.channels import LinkBuilder, RenderContext, Variant
from content.diagnostics import ContentError
from content.diagnostics import Diagnostic as ContentDiagnostic
from content.layouts import build_layout
from content.model import LAYOUT_CHANNELS, Layout, Offer, validate_offer
from content.rendering import render_offer
from dsl import codegen
from dsl.interaction import expand_shorthands
from dsl.live import LiveSource
from dsl.policy import Policy, compile_policy, load_policy
from dsl.schema import Schema, default_schema, validate_interaction
from preview.cache import Memo
from preview.disposal import FinalDecision, finalize
from preview.tone import Lexicon, Tone, with_inferred_tone

Kind = Literal["offer", "layout", "ruleset", "policy"]
OfferRole = Literal["offered", "follow_up", "focus", "stand_in"]
KINDS: Final = ("offer", "layout", "ruleset", "policy")
MAX_RENDERED: Final = 4
#: dsl statuses for the content library's offer statuses.
RULE_STATUS: Final = {
    "active": "active",
    "draft": "draft",
    "paused": "paused",
    "archived": "retired",
}
MESSAGE_CENTER: Final = LinkBuilder("/m", "preview")


@dataclass(frozen=True)
class Workspace:
    """Everything authored, as plain data.

    `offers` maps key to the content library's offer dict; `layouts` maps key to
    `{"name", "channel", "source", "compiled_html"}`; `rulesets` maps key to
    `{"name", "source"}`; `schema` and `lexicon` are their stored bodies, or None
    for the built-in defaults; `policy` is the contact policy's body (`{"source"}`),
    or None when the workspace has none.
    """

    offers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    layouts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    rulesets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    schema: Mapping[str, Any] | None = None
    lexicon: Mapping[str, Any] | None = None
    policy: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Draft:
    """The artifact a person is editing, with the text they have typed so far.

    `body` is an offer dict, `{"name", "channel", "source"}` for a layout,
    `{"name", "source"}` for a ruleset, or `{"source"}` for the contact policy. A
    Draft with `body=None` only names the focus: the saved artifact is previewed.
    `typed` marks text still being typed in an editor: a ruleset's next keystroke is
    then compiled from its unchanged statements (`Compiler.ruleset`'s `typed_key`), which pays
    off from the second text on; a text compiled once (a review's revision) is not.
    """

    kind: Kind
    key: str
    body: Mapping[str, Any] | None = None
    typed: bool = False


@dataclass(frozen=True)
class Problem:
    """A diagnostic from any library, in the one shape the studio shows."""

    severity: str
    message: str
    code: str = ""
    where: str = ""
    hint: str | None = None
    excerpt: str = ""
    line: int = 0
    column: int = 0

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class TraceRow:
    """One rule: matched, or the first condition that failed with the actual values."""

    rule: str
    line: int
    matched: bool
    failed: str = ""
    actual: Mapping[str, Any] = field(default_factory=dict)
    skipped_by: str = ""


#: How many trace rows of rules that did not match the preview shows unless asked for all.
TRACE_ROWS = 100


@dataclass(frozen=True)
class RulesetOutcome:
    key: str
    name: str
    problems: tuple[Problem, ...] = ()
    decision: Mapping[str, Any] | None = None
    trace: tuple[TraceRow, ...] = ()
    guards: tuple[Mapping[str, Any], ...] = ()
    notes: tuple[Mapping[str, Any], ...] = ()
    #: How many rules matched (known even when the trace rows were not built).
    matched: int = 0
    #: The ruleset being edited (or run in the matrix): its trace is the one shown.
    focus: bool = False

    @property
    def compiled(self) -> bool:
        return self.decision is not None

    def trace_rows(self, limit: int | None = TRACE_ROWS) -> tuple[TraceRow, ...]:
        """The rows to show: every rule that matched, and up to `limit` of the others in
        line order (`None`: all of them). A thousand "no match" rows help nobody read
        why and cost the page a quarter of a megabyte."""
        if limit is None or len(self.trace) <= limit:
            return self.trace
        kept = [row for row in self.trace if not row.matched][:limit]
        shown = {id(row) for row in kept}
        return tuple(row for row in self.trace if row.matched or id(row) in shown)


@dataclass(frozen=True)
class RenderedOffer:
    """One offer in every channel, and why it is shown."""

    key: str
    name: str
    role: OfferRole
    note: str
    variants: Mapping[str, Variant] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Preview:
    interaction: Mapping[str, Any]
    tone: Tone | None = None
    interaction_problems: tuple[Problem, ...] = ()
    blocking: tuple[Problem, ...] = ()
    blocking_title: str = ""
    rulesets: tuple[RulesetOutcome, ...] = ()
    #: What the customer gets: the offers the contact policy kept (`final.offers`).
    offers: tuple[Mapping[str, Any], ...] = ()
    follow_ups: tuple[Mapping[str, Any], ...] = ()
    guards: tuple[Mapping[str, Any], ...] = ()
    holdouts: tuple[Mapping[str, Any], ...] = ()
    limits: tuple[Mapping[str, Any], ...] = ()
    rendered: tuple[RenderedOffer, ...] = ()
    layouts: Mapping[str, str] = field(default_factory=dict)
    #: What the customer gets after the workspace contact policy (`preview.disposal`).
    final: FinalDecision | None = None
    #: When the tone is VADER's guess (positive, negative, neutral), the offers the live
    #: deciders make instead: they infer only a distressed tone and leave the others
    #: unknown. None when they decide the same (or the tone was not guessed).
    live_offers: tuple[str, ...] | None = None

    @property
    def blocked(self) -> bool:
        return bool(self.blocking)


# --- compiling, memoized by text ---------------------------------------------------------


def _json_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class CompiledRuleset:
    problems: tuple[Problem, ...]
    runtime: dsl.Ruleset | None


@dataclass(frozen=True)
class CompiledPolicy:
    problems: tuple[Problem, ...]
    policy: Policy | None


@dataclass(frozen=True)
class CompiledOffer:
    problems: tuple[Problem, ...]
    offer: Offer | None
    info: dsl.OfferInfo | None


class Compiler:
    """Compiles schemas, offers, layouts and rulesets once per distinct text."""

    def __init__(self, size: int = 512) -> None:
        self.schemas: Memo[tuple[Schema | None, tuple[Problem, ...]]] = Memo(16)
        self.offers: Memo[CompiledOffer] = Memo(size)
        self.layouts: Memo[tuple[Layout | None, tuple[Problem, ...]]] = Memo(size // 4)
        self.rulesets: Memo[CompiledRuleset] = Memo(size // 4)
        #: Per ruleset being edited: the statements of its last texts, so the preview of
        #: the next keystroke parses and checks only what changed (`dsl.live`).
        self.live: Memo[LiveSource] = Memo(32)
        self.policies: Memo[CompiledPolicy] = Memo(16)

    def schema(self, data: Mapping[str, Any] | None) -> tuple[Schema, str, tuple[Problem, ...]]:
        if data is None:
            return default_schema(), "default", ()
        key = _json_key(data)

        def make() -> tuple[Schema | None, tuple[Problem, ...]]:
            try:
                return Schema.from_dict(data), ()
            except dsl.DSLError as failed:
                return None, tuple(_dsl_problem(d) for d in failed.diagnostics)

        schema, problems = self.schemas.get(key, make)
        if schema is None:
            return default_schema(), "default", problems
        return schema, key, problems

    def offer(
        self, key: str, body: Mapping[str, Any], schema: Schema, schema_key: str
    ) -> CompiledOffer:
        data = {**body, "key": key}
        return self.offers.get((schema_key, _json_key(data)), lambda: _compile_offer(data, schema))

    def layout(
        self, key: str, body: Mapping[str, Any], *, draft: bool
    ) -> tuple[Layout | None, tuple[Problem, ...]]:
        """A stored layout carries its compiled HTML; a draft is built (MJML) first."""
        name = str(body.get("name") or key)
        channel = str(body.get("channel") or "")
        source = str(body.get("source") or "")
        if not draft and channel in LAYOUT_CHANNELS and isinstance(body.get("compiled_html"), str):
            return Layout.from_dict({**body, "key": key}), ()
        return self.layouts.get(
            (key, channel, source), lambda: _build_layout(key, name, channel, source)
        )

    def ruleset(
        self,
        name: str,
        source: str,
        schema: Schema,
        schema_key: str,
        catalog: Mapping[str, dsl.OfferInfo],
        *,
        typed_key: str | None = None,
    ) -> CompiledRuleset:
        """The compiled ruleset, once per distinct text. With `typed_key` (the ruleset
        being typed in an editor: a new text each keystroke), the text is compiled by
        that ruleset's `LiveSource`, which reuses the statements that did not change."""
        statuses = tuple(sorted((k, info.status) for k, info in catalog.items()))
        if typed_key is None:
            make = lambda: _compile_ruleset(name, source, schema, catalog)  # noqa: E731
        else:
            live = self.live.get(
                (typed_key, schema_key, statuses), lambda: LiveSource(schema, catalog, None)
            )
            make = lambda: _load_ruleset(live.compile(source, name), source)  # noqa: E731
        return self.rulesets.get((name, source, schema_key, statuses), make)

    def policy(
        self, source: str, schema: Schema, schema_key: str, offers: Iterable[str]
    ) -> CompiledPolicy:
        keys = tuple(sorted(offers))
        return self.policies.get(
            (source, schema_key, keys), lambda: _compile_policy(source, schema, keys)
        )


def _compile_policy(source: str, schema: Schema, offers: tuple[str, ...]) -> CompiledPolicy:
    result = compile_policy(source, schema=schema, offers=offers)
    lines = source.split("\n")
    problems = tuple(_dsl_problem(d, source, lines=lines) for d in result.diagnostics)
    if result.ir is None:
        return CompiledPolicy(problems, None)
    try:
        return CompiledPolicy(problems, load_policy(result.ir))
    except dsl.DSLError as failed:
        return CompiledPolicy(problems + tuple(_dsl_problem(d) for d in failed.diagnostics), None)


def _compile_offer(data: Mapping[str, Any], schema: Schema) -> CompiledOffer:
    problems = [_content_problem(d) for d in validate_offer(data)]
    eligible = str(data.get("eligible_when") or "").strip()
    if eligible:
        result = dsl.check_expression(eligible, schema=schema)
        problems += [_dsl_problem(d, eligible, where="eligible_when") for d in result.diagnostics]
    if any(p.is_error for p in problems):
        return CompiledOffer(tuple(problems), None, None)
    try:
        offer = Offer.from_dict(data)
        info = dsl.OfferInfo.from_dict(
            {
                "key": offer.key,
                "value": offer.value,
                "eligible_when": eligible or None,
                "valid_from": offer.valid_from.isoformat(),
                "valid_to": offer.valid_to.isoformat() if offer.valid_to else None,
                "status": RULE_STATUS.get(offer.status, "draft"),
            }
        )
    except ContentError as failed:
        return CompiledOffer(
            tuple(problems + [_content_problem(d) for d in failed.diagnostics]), None, None
        )
    except dsl.DSLError as failed:
        return CompiledOffer(
            tuple(problems + [_dsl_problem(d) for d in failed.diagnostics]), None, None
        )
    return CompiledOffer(tuple(problems), offer, info)


def _build_layout(
    key: str, name: str, channel: str, source: str
) -> tuple[Layout | None, tuple[Problem, ...]]:
    try:
        layout = build_layout(key, name, channel, source)
    except ContentError as failed:
        return None, tuple(_content_problem(d, source) for d in failed.diagnostics)
    return layout, tuple(_content_problem(d, source) for d in layout.warnings)


def _compile_ruleset(
    name: str, source: str, schema: Schema, catalog: Mapping[str, dsl.OfferInfo]
) -> CompiledRuleset:
    return _load_ruleset(
        dsl.compile_ruleset(source, schema=schema, offers=catalog, name=name), source
    )


def _load_ruleset(result: dsl.CompileResult, source: str) -> CompiledRuleset:
    lines = source.split("\n")
    problems = tuple(_dsl_problem(d, source, lines=lines) for d in result.diagnostics)
    if not result.ok or result.ir is None:
        return CompiledRuleset(problems, None)
    try:
        return CompiledRuleset(problems, dsl.load_ruleset(result.ir))
    except dsl.DSLError as failed:
        return CompiledRuleset(problems + tuple(_dsl_problem(d) for d in failed.diagnostics), None)


def _dsl_problem(
    d: dsl.Diagnostic, source: str = "", *, where: str = "", lines: list[str] | None = None
) -> Problem:
    """`lines` is `source` split at newlines, for a caller making many problems of one
    source (splitting it once per problem is quadratic: minutes for a large ruleset)."""
    location = f"line {d.line}, column {d.column}" if d.line else where
    if where and d.line:
        location = f"{where}, column {d.column}"
    return Problem(
        severity=d.severity,
        message=d.message,
        code=d.code,
        where=location,
        hint=d.hint,
        excerpt=dsl.render_excerpt(source, d, lines=lines) if source and d.line else "",
        line=d.line,
        column=d.column,
    )


def _content_problem(d: ContentDiagnostic, source: str = "") -> Problem:
    parts = [d.field or ""]
    if d.line:
        parts.append(f"line {d.line}" + (f", column {d.column}" if d.column else ""))
    return Problem(
        severity=d.severity,
        message=d.message,
        code=d.code,
        where=", ".join(p for p in parts if p),
        hint=d.hint,
        excerpt=_excerpt(source, d.line, d.column) if source else "",
        line=d.line or 0,
        column=d.column or 0,
    )


def _excerpt(source: str, line: int | None, column: int | None) -> str:
    lines = source.splitlines()
    if not line or not 0 < line <= len(lines):
        return ""
    text = lines[line - 1].rstrip()[:200]
    gutter = f"{line:>4} | "
    caret = f"\n{' ' * (len(gutter) + column - 1)}^" if column and column <= len(text) + 1 else ""
    return f"{gutter}{text}{caret}"


# --- the preview -------------------------------------------------------------------------


DEFAULT_COMPILER: Final = Compiler()


@dataclass
class _Catalog:
    offers: dict[str, Offer]
    infos: dict[str, dsl.OfferInfo]
    names: dict[str, str]


def _catalog(
    workspace: Workspace, draft: Draft | None, schema: Schema, schema_key: str, compiler: Compiler
) -> tuple[_Catalog, tuple[Problem, ...] | None]:
    """Offers by key; the second value holds the draft offer's problems when it fails."""
    bodies = dict(workspace.offers)
    if draft is not None and draft.kind == "offer" and draft.body is not None:
        bodies[draft.key] = draft.body
    catalog = _Catalog({}, {}, {})
    blocking: tuple[Problem, ...] | None = None
    for key, body in bodies.items():
        compiled = compiler.offer(key, body, schema, schema_key)
        catalog.names[key] = str(body.get("name") or key)
        if compiled.offer is None or compiled.info is None:
            if draft is not None and draft.kind == "offer" and key == draft.key:
                blocking = tuple(p for p in compiled.problems if p.is_error)
            continue
        catalog.offers[key] = compiled.offer
        catalog.infos[key] = compiled.info
    return catalog, blocking


def _layouts(
    workspace: Workspace, draft: Draft | None, email_layout: str | None, compiler: Compiler
) -> tuple[dict[str, Layout], tuple[Problem, ...] | None]:
    """The layout per layout channel: the draft's, the one asked for, else the first."""
    chosen: dict[str, Layout] = {}
    blocking: tuple[Problem, ...] | None = None
    if draft is not None and draft.kind == "layout":
        body = draft.body if draft.body is not None else workspace.layouts.get(draft.key)
        if body is not None:
            layout, problems = compiler.layout(draft.key, body, draft=draft.body is not None)
            if layout is None:
                blocking = tuple(p for p in problems if p.is_error)
            else:
                chosen[layout.channel] = layout
    ordered = sorted(
        workspace.layouts.items(), key=lambda kv: (str(kv[1].get("name") or kv[0]), kv[0])
    )
    for channel in LAYOUT_CHANNELS:
        if channel in chosen:
            continue
        wanted = email_layout if channel == "email_html" else None
        candidates = [(k, b) for k, b in ordered if b.get("channel") == channel]
        pick = next(((k, b) for k, b in candidates if k == wanted), None) or (
            candidates[0] if candidates else None
        )
        if pick is not None:
            layout, _problems = compiler.layout(pick[0], pick[1], draft=False)
            if layout is not None:
                chosen[channel] = layout
    return chosen, blocking


def _rulesets(workspace: Workspace, draft: Draft | None) -> list[tuple[str, str, str]]:
    """(key, name, source) of every ruleset, by key as a bundle orders them, with the
    draft's text in place of its saved one (a new ruleset joins them)."""
    bodies = dict(workspace.rulesets)
    if draft is not None and draft.kind == "ruleset":
        bodies[draft.key] = (
            draft.body if draft.body is not None else workspace.rulesets.get(draft.key, {})
        )
    return [
        (key, str(body.get("name") or key), str(body.get("source") or ""))
        for key, body in sorted(bodies.items())
    ]


def _index_condition(rule: Mapping[str, Any], field_path: str) -> str:
    """The condition of `rule` that tests `field_path`, which the runtime's index skipped."""
    for part in codegen.conjuncts(rule["when"]):
        text = part.get("text")
        if field_path in codegen.expr_fields(part, []) and isinstance(text, str):
            return text
    return f"{field_path} is the value this rule tests"


def _trace_rows(runtime: dsl.Ruleset, trace: Mapping[str, Any]) -> tuple[TraceRow, ...]:
    by_name = {rule["name"]: rule for rule in runtime.rules}
    lines = {name: rule.get("line", 0) for name, rule in by_name.items()}
    rows = [
        TraceRow(
            rule=entry["rule"],
            line=entry.get("line", 0),
            matched=entry["matched"],
            failed=entry.get("failed", ""),
            actual=entry.get("actual", {}),
        )
        for entry in trace.get("rules", [])
    ]
    seen = {row.rule for row in rows}
    for skip in trace.get("skipped", []):
        for name in skip.get("rules", []):
            if name in seen:
                continue
            seen.add(name)
            rows.append(
                TraceRow(
                    rule=name,
                    line=lines.get(name, 0),
                    matched=False,
                    failed=_index_condition(by_name[name], skip["field"])
                    if name in by_name
                    else skip["field"],
                    actual={skip["field"]: skip.get("actual")},
                    skipped_by=skip["field"],
                )
            )
    return tuple(sorted(rows, key=lambda r: (r.line, r.rule)))


def decide(
    workspace: Workspace,
    interaction: Mapping[str, Any],
    *,
    draft: Draft | None = None,
    compiler: Compiler = DEFAULT_COMPILER,
    explain: bool = True,
    rows: bool = True,
) -> tuple[list[RulesetOutcome], _Catalog, tuple[Problem, ...] | None, str]:
    """Decide every ruleset, the draft ruleset's text in place; the matrix uses this.

    Returns the outcomes (the draft ruleset's first, marked `focus`, then the others by
    key), the offer catalog, the draft's blocking problems (or None) and a title for
    them. `rows=False` keeps the runtime's notes on every offer but skips building a
    trace row per rule, which only the preview pane shows (the matrix grid of 500
    samples x 1,000 rules would otherwise build half a million of them); the pane builds
    them only for the focus ruleset when there is one.
    """
    schema, schema_key, _ = compiler.schema(workspace.schema)
    catalog, offer_blocking = _catalog(workspace, draft, schema, schema_key, compiler)
    if offer_blocking is not None:
        return [], catalog, offer_blocking, "This offer does not validate yet"
    focus = draft.key if draft is not None and draft.kind == "ruleset" else None
    outcomes: list[RulesetOutcome] = []
    for key, name, source in _rulesets(workspace, draft):
        typed = key == focus and draft is not None and draft.typed
        compiled = compiler.ruleset(
            name, source, schema, schema_key, catalog.infos, typed_key=key if typed else None
        )
        if compiled.runtime is None:
            if key == focus:
                errors = tuple(p for p in compiled.problems if p.is_error)
                return [], catalog, errors, "This ruleset does not compile yet"
            outcomes.append(RulesetOutcome(key, name, problems=compiled.problems))
            continue
        decision = compiled.runtime.decide(dict(interaction), catalog.infos, explain=explain)
        trace = decision.get("trace", {})
        outcomes.append(
            RulesetOutcome(
                key,
                name,
                problems=compiled.problems,
                decision=decision,
                trace=_trace_rows(compiled.runtime, trace)
                if explain and rows and focus in (None, key)
                else (),
                guards=tuple(trace.get("guards", ())),
                notes=tuple(trace.get("offers", ())),
                matched=sum(1 for entry in trace.get("rules", ()) if entry["matched"]),
                focus=key == focus,
            )
        )
    outcomes.sort(key=lambda outcome: not outcome.focus)
    return outcomes, catalog, None, ""


def render_context(interaction: Mapping[str, Any]) -> RenderContext:
    """What the content library's templates may read of an interaction, as plain data,
    with message-center links that lead to the preview's stand-in page."""
    return RenderContext.from_interaction(interaction, message_center_url=MESSAGE_CENTER)


def why_not(key: str, outcomes: Iterable[RulesetOutcome], final: FinalDecision | None) -> str:
    """Why an offer is not made: the contact policy line that removed it, else the
    runtime's notes on it."""
    for removed in final.removed if final is not None else ():
        if removed.get("offer") == key:
            return removed_text(removed)
    for outcome in outcomes:
        for note in outcome.notes:
            if (
                note.get("offer") == key
                and note.get("kind") == "offer"
                and note.get("outcome") != "offered"
            ):
                return f"{note['outcome']} (rule “{note['rule']}”, {outcome.name})"
    return "no rule offers it for this interaction"


def removed_text(removed: Mapping[str, Any]) -> str:
    """A candidate the contact policy removed, in words: reason, line, who proposed it."""
    where = (
        f"contact policy line {removed['line']}: {removed.get('text')}"
        if removed.get("line")
        else "the contact policy"
    )
    who = (
        f"; proposed by {removed.get('ruleset_name') or removed.get('ruleset')}"
        + (f" (rule “{removed['rule']}”)" if removed.get("rule") else "")
        if removed.get("ruleset")
        else ""
    )
    return f"removed by {where} ({removed.get('reason')}){who}"


def _interaction_problems(schema: Schema, interaction: Mapping[str, Any]) -> tuple[Problem, ...]:
    out = []
    for d in validate_interaction(schema, interaction):
        path, _, why = d.message.partition(": ")
        out.append(
            Problem(
                severity="warning", message=why or d.message, code=d.code, where=path, hint=d.hint
            )
        )
    return tuple(out)


def _live_offers(
    workspace: Workspace,
    interaction: Mapping[str, Any],
    tone: Tone | None,
    offers: Sequence[Mapping[str, Any]],
    draft: Draft | None,
    compiler: Compiler,
) -> tuple[str, ...] | None:
    """The offers `/api/v1/decide` and the client make for `interaction` (its tone left
    as they leave it), when the preview decided on a tone only it guessed and the live
    offers differ; else None. A preview must not promise what a customer never gets."""
    if tone is None or tone.label == "distressed":
        return None  # no guess: the live deciders infer a distressed tone the same way
    outcomes, _catalog, blocking, _title = decide(
        workspace, interaction, draft=draft, compiler=compiler, explain=False, rows=False
    )
    if blocking is not None:
        return None
    live = finalize(workspace, interaction, outcomes, compiler=compiler, draft=draft)
    made = tuple(str(o.get("offer")) for o in live.offers)
    return made if made != tuple(str(o.get("offer")) for o in offers) else None


def preview(
    workspace: Workspace,
    interaction: Mapping[str, Any],
    *,
    draft: Draft | None = None,
    email_layout: str | None = None,
    compiler: Compiler = DEFAULT_COMPILER,
) -> Preview:
    """The decision with its trace and every variant, for one interaction."""
    if not isinstance(interaction, Mapping):
        interaction = {}
    schema, _, _ = compiler.schema(workspace.schema)
    expanded, _ = expand_shorthands(schema, interaction)
    filled, tone = with_inferred_tone(expanded, Lexicon.from_dict(workspace.lexicon))
    problems = _interaction_problems(schema, filled)
    if problems:
        # Every decider refuses an interaction that does not fit the schema (a guard
        # must never read a malformed field as null), so the preview does not decide.
        return Preview(
            filled,
            tone,
            problems,
            blocking=tuple(replace(p, severity="error") for p in problems),
            blocking_title="This interaction does not fit the schema",
        )
    layouts, layout_blocking = _layouts(workspace, draft, email_layout, compiler)
    if layout_blocking is not None:
        return Preview(
            filled,
            tone,
            problems,
            blocking=layout_blocking,
            blocking_title="This layout does not compile yet",
        )
    outcomes, catalog, blocking, title = decide(workspace, filled, draft=draft, compiler=compiler)
    if blocking is not None:
        return Preview(filled, tone, problems, blocking=blocking, blocking_title=title)
    final = finalize(workspace, filled, outcomes, compiler=compiler, draft=draft)
    if draft is not None and draft.kind == "policy" and final.problems:
        return Preview(
            filled,
            tone,
            problems,
            blocking=final.problems,
            blocking_title="This contact policy does not compile yet",
        )
    follow_ups, guards, holdouts, limits = [], [], [], []
    for outcome in outcomes:
        if outcome.decision is None:
            continue
        tag = {"ruleset": outcome.key, "ruleset_name": outcome.name}
        follow_ups += [
            {**f, **tag, "after_text": _duration(f.get("after", "")), **_gate_text(f)}
            for f in outcome.decision["follow_ups"]
        ]
        guards += [{**g, **tag} for g in outcome.decision["guards"]]
        holdouts += [{**h, **tag} for h in outcome.decision["holdouts"]]
        limits += [{**x, **tag} for x in outcome.decision["limits"]]
    offers = [dict(o) for o in final.offers]
    rendered = _render(catalog, layouts, filled, draft, offers, follow_ups, outcomes, final)
    live_offers = _live_offers(workspace, expanded, tone, offers, draft, compiler)
    return Preview(
        interaction=filled,
        tone=tone,
        interaction_problems=problems,
        rulesets=tuple(outcomes),
        offers=tuple(offers),
        follow_ups=tuple(follow_ups),
        guards=tuple(guards),
        holdouts=tuple(holdouts),
        limits=tuple(limits),
        live_offers=live_offers,
        rendered=tuple(rendered),
        layouts={c: lay.key for c, lay in layouts.items()},
        final=final,
    )


def _offered_note(entry: Mapping[str, Any]) -> str:
    if entry.get("fallback"):
        return f"the contact policy's fallback (policy line {entry.get('policy_line')})"
    return f"offered by rule “{entry['rule']}” ({entry['ruleset_name']})"


def _render(
    catalog: _Catalog,
    layouts: Mapping[str, Layout],
    interaction: Mapping[str, Any],
    draft: Draft | None,
    offers: list[dict[str, Any]],
    follow_ups: list[dict[str, Any]],
    outcomes: list[RulesetOutcome],
    final: FinalDecision,
) -> list[RenderedOffer]:
    wanted: list[tuple[str, OfferRole, str]] = []
    made = {o["offer"] for o in offers}
    if draft is not None and draft.kind == "offer":
        note = (
            "offered to this interaction"
            if draft.key in made
            else f"not offered: {why_not(draft.key, outcomes, final)}"
        )
        wanted.append((draft.key, "focus", note))
    for entry in offers:
        wanted.append((entry["offer"], "offered", _offered_note(entry)))
    for entry in follow_ups:
        wanted.append(
            (
                entry["offer"],
                "follow_up",
                f"follow-up after {_duration(entry.get('after', ''))}, "
                f"rule “{entry['rule']}” ({entry['ruleset_name']})",
            )
        )
    if not wanted and draft is not None and draft.kind == "layout":
        stand_in = next(
            (k for k in sorted(catalog.offers) if catalog.offers[k].status == "active"), None
        ) or next(iter(sorted(catalog.offers)), None)
        if stand_in is not None:
            wanted.append(
                (
                    stand_in,
                    "stand_in",
                    "no offer is made for this interaction; a sample offer fills the layout",
                )
            )
    context = render_context(interaction)
    out: list[RenderedOffer] = []
    seen: set[str] = set()
    for key, role, note in wanted:
        if key in seen or len(out) >= MAX_RENDERED:
            continue
        seen.add(key)
        offer = catalog.offers.get(key)
        if offer is None:
            out.append(
                RenderedOffer(
                    key,
                    catalog.names.get(key, key),
                    role,
                    note,
                    problems=(
                        Problem(
                            "error",
                            "this offer is not in the library, or cannot be rendered",
                            code="unknown-offer",
                        ),
                    ),
                )
            )
            continue
        out.append(
            RenderedOffer(
                key, offer.name, role, note, variants=render_offer(offer, layouts, context)
            )
        )
    return out


def _gate_text(follow: Mapping[str, Any]) -> dict[str, str]:
    """How a gated follow-up's offer is released, in words (`bundle.gating`)."""
    gate = follow.get("gate")
    if not isinstance(gate, Mapping):
        return {}
    when = "when resolution is confirmed"
    window = _duration(str(gate.get("window", "")))
    when += f" or not reopened within {window}" if gate.get("infer") else f" within {window}"
    return {"gate_offer": str(gate.get("offer")), "gate_text": when}


def _duration(iso: str) -> str:
    """`P7D` as `7 days`; the rule language writes follow-up delays as ISO durations."""
    text = str(iso)
    if text.startswith("P") and text.endswith("D") and text[1:-1].isdigit():
        days = int(text[1:-1])
        return f"{days} day{'s' if days != 1 else ''}"
    if text.startswith("P") and text.endswith("W") and text[1:-1].isdigit():
        weeks = int(text[1:-1])
        return f"{weeks} week{'s' if weeks != 1 else ''}"
    if text.startswith("PT") and text.endswith("H") and text[2:-1].isdigit():
        hours = int(text[2:-1])
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return text or "a while"
