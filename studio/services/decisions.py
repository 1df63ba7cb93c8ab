"""Decisions for downstream systems, made on published bundles only.

A decision served to customers must come from what reviewers approved and the studio
signed, never from drafts, so `/decide` loads a stored bundle, verifies it, and runs the
very runtime the Python client runs locally (`bundle.runtime`). Verification and
compilation happen once per version per worker (`studio.services.bundle_cache`); a
decision then costs only the rules and the rendering. Refusals are `Refusal` values; the
API turns them into its JSON errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.orm import Session

import dsl
from bundle.decision_record import new_decision_id
from bundle.runtime import BundleLoadError, BundleRuntime
from content.channels import VARIANTS, RenderContext
from content.model import LAYOUT_CHANNELS
from content.templates import MAX_DATA_DEPTH
from studio.errors import BundleTampered, Refusal
from studio.services.bundle_cache import BundleCache, ServedBundle
from studio.services.contact_history import DatabaseHistory
from studio.services.json_shape import check_object, expect_types, is_int

MAX_VERSION: Final = 2**31 - 1
REQUEST_FIELDS: Final = ("interaction", "channels", "explain", "version", "layouts")


@dataclass(frozen=True)
class DecideRequest:
    interaction: dict[str, Any]
    channels: tuple[str, ...] | None
    explain: bool
    version: int | None
    layouts: dict[str, str]


def parse_request(body: Any) -> DecideRequest | Refusal:
    """Check the request's shape; the interaction itself is checked against the bundle."""
    problem = check_object(
        body, "", allowed=REQUEST_FIELDS, required=("interaction",)
    ) or expect_types(
        body,
        "",
        {
            "interaction": (dict,),
            "channels": (list,),
            "explain": (bool,),
            "version": (int,),
            "layouts": (dict,),
        },
    )
    if problem is not None:
        return problem
    if body["interaction"] is None:
        return Refusal("invalid_type", "'interaction' must be an object.", field="interaction")
    # Templates see `interaction.data` (and its siblings) as their own top level.
    too_deep = _deeper_than(body["interaction"], MAX_DATA_DEPTH + 1, "interaction", 0)
    if too_deep is not None:
        return Refusal(
            "too_deep",
            f"The interaction nests more than {MAX_DATA_DEPTH} levels "
            "deep; templates cannot use data that deep.",
            field=too_deep,
        )
    channels = body.get("channels")
    if channels is not None:
        for index, channel in enumerate(channels):
            if channel not in VARIANTS:
                return Refusal(
                    "unknown_channel",
                    f"{channel!r} is not a variant; use one of {', '.join(VARIANTS)}.",
                    field=f"channels[{index}]",
                )
        channels = tuple(dict.fromkeys(channels))
    version = body.get("version")
    if version is not None and (not is_int(version) or not 1 <= version <= MAX_VERSION):
        return Refusal(
            "invalid_version",
            f"'version' must be a bundle version (1 to {MAX_VERSION}).",
            field="version",
        )
    layouts = body.get("layouts") or {}
    for channel, key in layouts.items():
        if channel not in LAYOUT_CHANNELS:
            return Refusal(
                "unknown_layout_channel",
                f"{channel!r} has no layouts; layouts exist for {', '.join(LAYOUT_CHANNELS)}.",
                field=f"layouts.{channel}",
            )
        if not isinstance(key, str):
            return Refusal(
                "invalid_type", "A layout is named by its key (text).", field=f"layouts.{channel}"
            )
    return DecideRequest(
        interaction=body["interaction"],
        channels=channels,
        explain=bool(body.get("explain", False)),
        version=version,
        layouts=dict(layouts),
    )


def _deeper_than(value: Any, limit: int, path: str, depth: int) -> str | None:
    """The path of the first container nested deeper than `limit`, if any."""
    if isinstance(value, dict):
        items: Any = ((f"{path}.{k}", v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    if depth > limit:
        return path
    for where, item in items:
        found = _deeper_than(item, limit, where, depth + 1)
        if found is not None:
            return found
    return None


def served_bundle(
    session: Callable[[], Session], cache: BundleCache, version: int | None
) -> ServedBundle | Refusal:
    """The verified bundle for `version` (the current one when None)."""
    if version is None:
        pointer = cache.current(session)
        if pointer is None:
            return Refusal(
                "no_bundle",
                "Nothing has been published yet: publish a bundle in the studio first.",
                kind="not_found",
            )
        version = pointer.version
    try:
        served = cache.served(session, version)
    except BundleTampered as exc:
        return Refusal(
            "bundle_unverifiable",
            f"Bundle v{exc.version} failed verification ({exc.reason}) and is "
            "not served; republish or roll back in the studio.",
            kind="unavailable",
        )
    if served is None:
        return Refusal(
            "unknown_version", f"There is no bundle v{version}.", field="version", kind="not_found"
        )
    return served


def runtime_for(
    session: Callable[[], Session], cache: BundleCache, version: int | None
) -> BundleRuntime | Refusal:
    served = served_bundle(session, cache, version)
    if isinstance(served, Refusal):
        return served
    try:
        return cache.runtime(served)
    except BundleLoadError as exc:
        return Refusal(
            "bundle_unloadable",
            f"Bundle v{served.pointer.version} cannot be loaded for deciding: {exc}.",
            kind="unavailable",
        )


def decide(
    session: Callable[[], Session],
    cache: BundleCache,
    request: DecideRequest,
    *,
    context: RenderContext | None = None,
    commit_visit: bool = False,
) -> dict[str, Any] | Refusal:
    """The decision for one interaction, with the rendered variants of each offer.

    `context` carries the customer's own links when a message is opened with the
    decision; without it the variants carry the bundle's placeholder links.
    `commit_visit`: commit the contact history's check-and-record at once on SQLite,
    where its lock is the whole database's (`DatabaseHistory`); only for a request
    that has written nothing before it (`/api/v1/decide`)."""
    runtime = runtime_for(session, cache, request.version)
    if isinstance(runtime, Refusal):
        return runtime
    problems = runtime.check_interaction(request.interaction)
    if problems:
        first = problems[0]
        hint = f" ({first.hint})" if first.hint else ""
        more = (
            f" {len(problems) - 1} more field(s) do not fit the schema either: "
            + ", ".join(p.field for p in problems[1:6])
            + "."
            if len(problems) > 1
            else ""
        )
        return Refusal(
            "invalid_interaction", f"{first.field}: {first.message}{hint}.{more}", field=first.field
        )
    for channel, message in runtime.unknown_layouts(request.layouts):
        return Refusal("unknown_layout", message, field=f"layouts.{channel}")
    # One id for the decision from the start: the contact history records the offers
    # and a gated offer its scheduling decision under it, and the decision log keeps it.
    decision_id = new_decision_id()
    try:
        answer = runtime.decide(
            request.interaction,
            channels=request.channels,
            explain=request.explain,
            layouts=request.layouts,
            context=context,
            history=DatabaseHistory(session(), commit_visits=commit_visit),
            decision_id=decision_id,
        )
    except dsl.DSLError as exc:
        return Refusal("invalid_interaction", _first_message(exc), field="interaction")
    answer["decision_id"] = decision_id
    return answer


def _first_message(exc: Any) -> str:
    diagnostics = getattr(exc, "diagnostics", None) or []
    return str(diagnostics[0].message) if diagnostics else str(exc)
