"""Decisions for downstream systems, made on published bundles only.

A decision served to customers must come from what reviewers approved and the studio
signed, never from drafts, so `/decide` loads a stored bundle, verifies it, and runs the
very runtime the Python client runs locally (`studio_client.runtime`). Verification and
compilation happen once per version per worker (`studio.api.bundle_cache`); a decision
then costs only the rules and the rendering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.orm import Session

import dsl
from content.channels import VARIANTS
from content.model import LAYOUT_CHANNELS
from studio.api.body import check_object, expect_types, is_int
from studio.api.bundle_cache import BundleCache, ServedBundle
from studio.api.errors import ApiError
from studio.services.bundles import BundleTampered
from studio_client.runtime import BundleLoadError, BundleRuntime

REQUEST_FIELDS: Final = ("interaction", "channels", "explain", "version", "layouts")


@dataclass(frozen=True)
class DecideRequest:
    interaction: dict[str, Any]
    channels: tuple[str, ...] | None
    explain: bool
    version: int | None
    layouts: dict[str, str]


def parse_request(body: Any) -> DecideRequest | ApiError:
    """Check the request's shape; the interaction itself is checked against the bundle."""
    problem = check_object(body, "", allowed=REQUEST_FIELDS, required=("interaction",)) \
        or expect_types(body, "", {"interaction": (dict,), "channels": (list,),
                                   "explain": (bool,), "version": (int,), "layouts": (dict,)})
    if problem is not None:
        return problem
    if body["interaction"] is None:
        return ApiError(400, "invalid_type", "'interaction' must be an object.",
                        field="interaction")
    channels = body.get("channels")
    if channels is not None:
        for index, channel in enumerate(channels):
            if channel not in VARIANTS:
                return ApiError(400, "unknown_channel",
                                f"{channel!r} is not a variant; use one of "
                                f"{', '.join(VARIANTS)}.", field=f"channels[{index}]")
        channels = tuple(dict.fromkeys(channels))
    version = body.get("version")
    if version is not None and (not is_int(version) or version < 1):
        return ApiError(400, "invalid_version", "'version' must be a bundle version (1 or more).",
                        field="version")
    layouts = body.get("layouts") or {}
    for channel, key in layouts.items():
        if channel not in LAYOUT_CHANNELS:
            return ApiError(400, "unknown_layout_channel",
                            f"{channel!r} has no layouts; layouts exist for "
                            f"{', '.join(LAYOUT_CHANNELS)}.", field=f"layouts.{channel}")
        if not isinstance(key, str):
            return ApiError(400, "invalid_type", "A layout is named by its key (text).",
                            field=f"layouts.{channel}")
    return DecideRequest(interaction=body["interaction"], channels=channels,
                         explain=bool(body.get("explain", False)), version=version,
                         layouts=dict(layouts))


def served_bundle(session: Callable[[], Session], cache: BundleCache,
                  version: int | None) -> ServedBundle | ApiError:
    """The verified bundle for `version` (the current one when None)."""
    if version is None:
        pointer = cache.current(session)
        if pointer is None:
            return ApiError(404, "no_bundle", "Nothing has been published yet: publish a "
                            "bundle in the studio first.")
        version = pointer.version
    try:
        served = cache.served(session, version)
    except BundleTampered as exc:
        return ApiError(503, "bundle_unverifiable",
                        f"Bundle v{exc.version} failed verification ({exc.reason}) and is "
                        "not served; republish or roll back in the studio.")
    if served is None:
        return ApiError(404, "unknown_version", f"There is no bundle v{version}.",
                        field="version")
    return served


def runtime_for(session: Callable[[], Session], cache: BundleCache,
                version: int | None) -> BundleRuntime | ApiError:
    served = served_bundle(session, cache, version)
    if isinstance(served, ApiError):
        return served
    try:
        return cache.runtime(served)
    except BundleLoadError as exc:
        return ApiError(503, "bundle_unloadable",
                        f"Bundle v{served.pointer.version} cannot be loaded for deciding: {exc}.")


def decide(session: Callable[[], Session], cache: BundleCache,
           request: DecideRequest) -> dict[str, Any] | ApiError:
    """The decision for one interaction, with the rendered variants of each offer."""
    runtime = runtime_for(session, cache, request.version)
    if isinstance(runtime, ApiError):
        return runtime
    problems = runtime.check_interaction(request.interaction)
    if problems:
        first = problems[0]
        hint = f" ({first.hint})" if first.hint else ""
        return ApiError(400, "invalid_interaction", f"{first.message}{hint}", field=first.field)
    for channel, message in runtime.unknown_layouts(request.layouts):
        return ApiError(400, "unknown_layout", message, field=f"layouts.{channel}")
    try:
        return runtime.decide(request.interaction, channels=request.channels,
                              explain=request.explain, layouts=request.layouts)
    except dsl.DSLError as exc:
        return ApiError(400, "invalid_interaction", _first_message(exc), field="interaction")


def _first_message(exc: Any) -> str:
    diagnostics = getattr(exc, "diagnostics", None) or []
    return str(diagnostics[0].message) if diagnostics else str(exc)

