"""A published bundle turned into something that decides: one code path for everyone.

The studio's `POST /api/v1/decide` and the Python client's local `decide` both build a
`BundleRuntime` from the same verified bundle JSON and call the same `decide`, so a
downstream system that decides locally gets exactly the answer the studio would give.
Offers are rendered by `content.rendering.render_offer`, the path the studio's own pages
take. Nothing here knows Flask, HTTP or a database: a bundle dict goes in, plain
JSON-ready dicts come out.

Loading is the expensive part (every ruleset's IR becomes generated code, every offer
and layout is parsed once), so callers load once per bundle version and keep the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Final

import dsl
from bundle import gating
from bundle.decision_record import new_decision_id
from bundle.disposal import OnUnavailable, dispose, moment_of
from bundle.format import FORMAT
from bundle.history import HistoryStore
from content.channels import VARIANTS, RenderContext, Variant
from content.diagnostics import ContentError
from content.model import LAYOUT_CHANNELS, Layout, Offer
from content.rendering import render_offer
from content.surveys import Survey
from dsl.interaction import (
    InteractionProblem,
    InvalidInteraction,
    PreparedInteraction,
    prepare_interaction,
)
from dsl.policy import Policy, compile_policy, load_policy
from dsl.schema import Schema, default_schema
from dsl.tone import distress_terms

#: Which variants an interaction's channel is answered in when the caller names none.
CHANNEL_VARIANTS: Final[Mapping[str, tuple[str, ...]]] = {
    "email": ("email_html", "email_text"),
    "chat": ("chat",),
    "social": ("chat",),
    "sms": ("sms",),
    "phone": ("agent",),
    "web": ("message_center",),
}


class BundleLoadError(Exception):
    """The bundle is well signed but cannot be turned into a runtime (e.g. a newer format).

    `where` names the part of the bundle at fault, such as ``offers[3]`` or
    ``rulesets[retail_banking].ir``.
    """

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


__all__ = [
    "CHANNEL_VARIANTS",
    "BundleLoadError",
    "BundleRuntime",
    "InteractionProblem",
    "InvalidInteraction",
    "LoadedRuleset",
    "variant_to_dict",
]


@dataclass(frozen=True)
class LoadedRuleset:
    key: str
    name: str
    runtime: Any


@dataclass(frozen=True)
class BundleRuntime:
    """Everything a decision needs from one bundle, parsed and compiled once."""

    version: int
    digest: str
    schema: Schema
    rulesets: tuple[LoadedRuleset, ...]
    offer_infos: Mapping[str, Any]
    offers: Mapping[str, Offer]
    layouts: Mapping[str, Layout]
    default_layouts: Mapping[str, str]
    #: The bundle's distress lexicon: decide-time tone inference (`dsl.tone`).
    distress_terms: tuple[str, ...] = ()
    #: The workspace contact policy (`dsl.policy`), applied after every ruleset.
    policy: Policy | None = None
    surveys: Mapping[str, Survey] = field(default_factory=dict)
    #: Priority of each (ruleset, rule) with a resolution-gated follow-up (`bundle.gating`).
    gated: Mapping[tuple[str, str], int] = field(default_factory=dict)

    @cached_property
    def _values(self) -> _Values:
        """The offers' business values, as the contact policy's fallback reads them."""
        return _Values(self.offer_infos)

    @classmethod
    def from_bundle(cls, bundle: Mapping[str, Any], *, digest: str = "") -> BundleRuntime:
        """Compile a verified bundle; raise `BundleLoadError` naming the part that failed."""
        if bundle.get("format") != FORMAT:
            raise BundleLoadError("format", f"expected {FORMAT!r}, got {bundle.get('format')!r}")
        version = bundle.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise BundleLoadError("version", "expected a whole number")
        schema = _load_schema(bundle.get("schema"))
        offer_dicts = _offer_dicts(bundle.get("offers"))
        offer_infos: dict[str, Any] = {}
        offers: dict[str, Offer] = {}
        for where, item in offer_dicts:
            try:
                offer_infos[item["key"]] = dsl.OfferInfo.from_dict(_rule_view(item))
                offers[item["key"]] = Offer.from_dict(_content_fields(item))
            except (dsl.DSLError, ContentError, KeyError, TypeError, ValueError) as exc:
                raise BundleLoadError(where, str(exc)) from exc
        layouts, defaults = _load_layouts(bundle.get("layouts"), bundle.get("default_layouts"))
        rulesets = []
        for index, item in enumerate(_as_list(bundle.get("rulesets"), "rulesets")):
            key = str(item.get("key") or index) if isinstance(item, Mapping) else str(index)
            where = f"rulesets[{key}]"
            if not isinstance(item, Mapping):
                raise BundleLoadError(where, "expected an object")
            try:
                runtime = dsl.load_ruleset(item.get("ir"))
            except dsl.DSLError as exc:
                raise BundleLoadError(f"{where}.ir", str(exc)) from exc
            rulesets.append(LoadedRuleset(key, str(item.get("name") or key), runtime))
        return cls(
            version=version,
            digest=digest,
            schema=schema,
            rulesets=tuple(rulesets),
            offer_infos=offer_infos,
            offers=offers,
            layouts=layouts,
            default_layouts=defaults,
            distress_terms=distress_terms(bundle.get("lexicon")),
            policy=_load_policy(bundle.get("policy")),
            surveys=_load_surveys(bundle.get("surveys")),
            gated=gating.gated_rules(rulesets),
        )

    def prepare(self, interaction: Any) -> PreparedInteraction:
        """The interaction as every decider reads it (`dsl.interaction`)."""
        return prepare_interaction(self.schema, interaction, self.distress_terms)

    def check_interaction(self, interaction: Any) -> list[InteractionProblem]:
        """Why an interaction does not fit this bundle's schema; empty when it does.

        Shorthands the schema allows (``"tone": "distressed"``) are not problems.
        """
        return list(self.prepare(interaction).problems)

    def variants_for(self, interaction: Mapping[str, Any]) -> tuple[str, ...]:
        """The variants an interaction is answered in, from `inquiry.channel`."""
        inquiry = interaction.get("inquiry")
        channel = inquiry.get("channel") if isinstance(inquiry, Mapping) else None
        return CHANNEL_VARIANTS.get(str(channel), ())

    def decide(
        self,
        interaction: Mapping[str, Any],
        *,
        channels: Iterable[str] | None = None,
        explain: bool = False,
        layouts: Mapping[str, str] | None = None,
        context: RenderContext | None = None,
        allow_invalid: bool = False,
        history: HistoryStore | None = None,
        now: float | None = None,
        decision_id: str | None = None,
        on_unavailable: OnUnavailable = "deny",
        fresh_decision_id: bool = False,
    ) -> dict[str, Any]:
        """Decide every ruleset against `interaction` and render each immediate offer.

        The interaction is prepared first (`prepare`): an interaction that does not fit
        the bundle's schema raises `InvalidInteraction` listing every field at fault,
        unless `allow_invalid` is true; then the decision is made on what fits and its
        ``interaction`` entry records the problems and ``"allowed_invalid": true``.

        With a contact policy in the bundle (or a `history` store), the rulesets'
        offers are disposed of by the policy (`bundle.disposal`): the decision's
        ``offers`` are what it kept, ``policy`` lists what it removed and why, and the
        kept offers are recorded in `history` (checked again atomically). `now` is the
        moment when the interaction has no `at`; `on_unavailable` is what to do when
        the store is down ("deny" or "ignore"). A `decision_id` given is recorded with
        a marker, so a retry under it records nothing twice, unless `fresh_decision_id`
        says the caller made it for this decision just now.

        Each ruleset is decided independently (its guards and limits are its own); the
        offers they make are listed together, each with the ruleset and rule that made
        it and its rendered variants: those named in `channels`, or by default the ones
        the interaction's channel is answered in. `layouts` picks a layout per layout
        channel (``{"email_html": "promotional_email"}``), else the bundle's default.
        """
        prepared = self.prepare(interaction)
        if prepared.problems and not allow_invalid:
            raise InvalidInteraction(prepared.problems)
        interaction = prepared.interaction
        interaction, at_source = with_moment(interaction)
        wanted = tuple(channels) if channels is not None else self.variants_for(interaction)
        unknown = [c for c in wanted if c not in VARIANTS]
        if unknown:
            raise ValueError(f"'{unknown[0]}' is not a variant; variants: {', '.join(VARIANTS)}")
        chosen_layouts = self._layouts_for(layouts or {})
        render_context = context or (
            RenderContext.from_interaction(interaction) if wanted else None
        )
        proposed: list[dict[str, Any]] = []
        follow_ups: list[dict[str, Any]] = []
        per_ruleset: list[dict[str, Any]] = []
        stopped = False
        surveys: list[dict[str, Any]] = []
        results = [
            (loaded, dict(loaded.runtime.decide(interaction, self.offer_infos, explain=explain)))
            for loaded in self.rulesets
        ]
        for loaded, result in results:
            asked = {s["survey"] for s in surveys}
            surveys.extend(
                {**s, "ruleset": loaded.key}
                for s in _entries(result.get("surveys"))
                if s.get("survey") in self.surveys and s["survey"] not in asked
            )
        if render_context is not None and render_context.message is not None and surveys:
            # The customer's links know which surveys were asked, so `survey_url()` in a
            # variant leads to the survey this decision asks.
            render_context = replace(
                render_context,
                message=replace(
                    render_context.message, surveys=tuple(s["survey"] for s in surveys)
                ),
            )
        for loaded, result in results:
            per_ruleset.append({"key": loaded.key, "name": loaded.name, **result})
            stopped = stopped or bool(result.get("guards"))
            proposed.extend(
                {**made, "ruleset": loaded.key} for made in _entries(result.get("offers"))
            )
            follow_ups.extend(
                {**f, "ruleset": loaded.key} for f in _entries(result.get("follow_ups"))
            )
        fresh = decision_id is None or fresh_decision_id
        gate: gating.Gating | None = None
        if self.gated:
            gate, decision_id = self._settle_gates(
                results, interaction, proposed, history, now, decision_id
            )
        policy_entry: dict[str, Any] | None = None
        policy = (
            self.policy
            if self.policy is not None
            else (_EMPTY_POLICY if history is not None else None)
        )
        if policy is not None:
            proposed, policy_entry = dispose(
                policy,
                self.schema,
                interaction,
                proposed,
                stopped_by_rulesets=stopped,
                values=self._values,
                store=history,
                now=now,
                decision_id=decision_id,
                on_unavailable=on_unavailable,
                new_id=fresh,
            )
        if gate is not None:
            self._schedule_gates(gate, interaction, proposed, follow_ups, history, now, decision_id)
        offers: list[dict[str, Any]] = []
        for made in proposed:
            key = _offer_key(made)
            offer = self.offers.get(key) if key else None
            variants = (
                render_offer(offer, chosen_layouts, render_context, wanted)
                if offer is not None and wanted and render_context is not None
                else {}
            )
            offers.append(
                {**made, "variants": {c: variant_to_dict(v) for c, v in variants.items()}}
            )
        decision = {
            "bundle": {"version": self.version, "digest": self.digest},
            "channels": list(wanted),
            "offers": offers,
            "follow_ups": follow_ups,
            "surveys": surveys,
            "rulesets": per_ruleset,
            "at": {"value": interaction["at"], "source": at_source},
            "interaction": prepared.record(allowed_invalid=allow_invalid),
        }
        if policy_entry is not None:
            decision["policy"] = policy_entry
        if gate:
            decision["gating"] = gate.to_dict()
        return decision

    def _settle_gates(
        self,
        results: list[tuple[LoadedRuleset, dict[str, Any]]],
        interaction: Mapping[str, Any],
        proposed: list[dict[str, Any]],
        history: HistoryStore | None,
        now: float | None,
        decision_id: str | None,
    ) -> tuple[gating.Gating, str]:
        """Release the customer's gated offers this interaction settles, as proposals."""
        decision_id = decision_id or new_decision_id()
        gate = gating.Gating(history.name if history is not None else None)
        if history is not None:
            moment = moment_of(self.schema, interaction, now)
            gating.settle(gate, history, self.schema, interaction, moment, decision_id)
            by_key = {loaded.key: (loaded.runtime, result) for loaded, result in results}
            proposed.extend(
                gating.candidates(
                    gate, gate.released, by_key, self.offer_infos, interaction, self.gated
                )
            )
        return gate, decision_id

    def _schedule_gates(
        self,
        gate: gating.Gating,
        interaction: Mapping[str, Any],
        kept: list[dict[str, Any]],
        follow_ups: list[dict[str, Any]],
        history: HistoryStore | None,
        now: float | None,
        decision_id: str | None,
    ) -> None:
        """Note which released offers the policy kept; record the new gated follow-ups."""
        offered = {m["gated"]["scheduled_by"] + m["offer"] for m in kept if "gated" in m}
        for note in gate.settled:
            if note["outcome"] == "released" and "stopped" not in note:
                if note["scheduled_by"] + note["offer"] in offered:
                    note["offered"] = True
                else:
                    note["stopped"] = "removed by the contact policy (see `policy.removed`)"
        moment = moment_of(self.schema, interaction, now)
        gating.schedule(
            gate, history, self.schema, interaction, follow_ups, moment, decision_id or ""
        )

    def _layouts_for(self, asked: Mapping[str, str]) -> dict[str, Layout]:
        out: dict[str, Layout] = {}
        for channel in LAYOUT_CHANNELS:
            key = asked.get(channel) or self.default_layouts.get(channel)
            layout = self.layouts.get(key) if key else None
            if layout is not None and layout.channel == channel:
                out[channel] = layout
        return out

    def unknown_layouts(self, asked: Mapping[str, str]) -> list[tuple[str, str]]:
        """(channel, message) for each asked layout the bundle cannot supply."""
        out = []
        for channel, key in asked.items():
            layout = self.layouts.get(key)
            if layout is None:
                out.append((channel, f"the bundle has no layout '{key}'"))
            elif layout.channel != channel:
                out.append((channel, f"layout '{key}' is for {layout.channel}, not {channel}"))
        return out


def variant_to_dict(variant: Variant) -> dict[str, Any]:
    """A rendered variant as JSON-ready data (no dataclasses, no Markup)."""
    out: dict[str, Any] = {"channel": variant.channel, "ok": variant.ok}
    if variant.html is not None:
        out["html"] = str(variant.html)
    if variant.text is not None:
        out["text"] = variant.text
    if variant.buttons:
        out["buttons"] = [b.to_dict() for b in variant.buttons]
    if variant.sms is not None:
        out["sms"] = {
            "encoding": variant.sms.encoding,
            "characters": variant.sms.characters,
            "segments": variant.sms.segments,
        }
    out["diagnostics"] = [d.to_dict() for d in variant.diagnostics]
    return out


def _load_policy(value: Any) -> Policy | None:
    if value is None:
        return None
    try:
        return load_policy(value)
    except dsl.DSLError as exc:
        raise BundleLoadError("policy", str(exc.diagnostics[0].message)) from exc


_EMPTY_POLICY: Final = load_policy(compile_policy("").ir)


class _Values(Mapping[str, float]):
    """Offers' business values, read only for the one offer a fallback needs."""

    def __init__(self, infos: Mapping[str, Any]) -> None:
        self._infos = infos

    def __getitem__(self, key: str) -> float:
        return float(self._infos[key].value)

    def get(self, key: str, default: Any = None) -> Any:  # Mapping.get, without a raise
        info = self._infos.get(key)
        return default if info is None else float(info.value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._infos)

    def __len__(self) -> int:
        return len(self._infos)


def _entries(value: Any) -> list[dict[str, Any]]:
    return [dict(v) for v in value or () if isinstance(v, Mapping)]


def _offer_key(made: Mapping[str, Any]) -> str | None:
    key = made.get("offer", made.get("key"))
    return key if isinstance(key, str) else None


def _as_list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, list):
        return value
    raise BundleLoadError(where, "expected a list")


def _load_schema(value: Any) -> Schema:
    if value is None:
        return default_schema()
    try:
        return Schema.from_dict(value)
    except dsl.DSLError as exc:
        raise BundleLoadError("schema", str(exc)) from exc


def _offer_dicts(value: Any) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for index, item in enumerate(_as_list(value, "offers")):
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
            raise BundleLoadError(f"offers[{index}]", "expected an offer object with a key")
        out.append((f"offers[{item['key']}]", dict(item)))
    return out


_OFFER_FIELDS: Final = frozenset(
    {
        "key",
        "name",
        "description",
        "owner",
        "valid_from",
        "valid_to",
        "value",
        "eligible_when",
        "status",
        "blocks",
        "overrides",
        "feedback_note",
    }
)


def _rule_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """The offer as the rules see it: compiled eligibility when the bundle carries it."""
    status = item.get("status") or "active"
    return {
        **item,
        "eligible_when": item.get("eligibility") or item.get("eligible_when") or None,
        "status": "retired" if status == "archived" else status,
    }


def _content_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """The offer as the content library knows it (the compiled eligibility is dsl's)."""
    return {k: v for k, v in item.items() if k in _OFFER_FIELDS}


def _load_surveys(value: Any) -> dict[str, Survey]:
    """The bundle's narrow-cast surveys by key (bundles before surveys carry none)."""
    surveys: dict[str, Survey] = {}
    for index, item in enumerate(_as_list(value, "surveys")):
        key = item.get("key") if isinstance(item, Mapping) else None
        where = f"surveys[{key if isinstance(key, str) else index}]"
        try:
            survey = Survey.from_dict(item)
        except ContentError as exc:
            raise BundleLoadError(where, str(exc)) from exc
        surveys[survey.key] = survey
    return surveys


def _load_layouts(value: Any, defaults: Any) -> tuple[dict[str, Layout], dict[str, str]]:
    layouts: dict[str, Layout] = {}
    first: dict[str, str] = {}
    for index, item in enumerate(_as_list(value, "layouts")):
        where = f"layouts[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
            raise BundleLoadError(where, "expected a layout object with a key")
        channel = item.get("channel")
        if channel not in LAYOUT_CHANNELS:
            raise BundleLoadError(
                f"layouts[{item['key']}].channel", f"expected one of {', '.join(LAYOUT_CHANNELS)}"
            )
        html = item.get("compiled_html", item.get("html"))
        if not isinstance(html, str):
            raise BundleLoadError(f"layouts[{item['key']}]", "has no compiled HTML")
        layouts[item["key"]] = Layout.from_dict({**item, "compiled_html": html})
        first.setdefault(channel, item["key"])
    chosen = dict(first)
    if isinstance(defaults, Mapping):
        chosen.update(
            {
                c: k
                for c, k in defaults.items()
                if isinstance(k, str) and k in layouts and layouts[k].channel == c
            }
        )
    return layouts, chosen


def with_moment(interaction: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    """The interaction with its moment: its own `at`, else this machine's time (and which).

    An interaction without `at` is decided now, so offer validity windows and limits are
    judged at a real date instead of as if the interaction had none.
    """
    if interaction.get("at") not in (None, ""):
        return interaction, "interaction"
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {**interaction, "at": now}, "server"
