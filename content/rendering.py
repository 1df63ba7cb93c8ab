"""Rendering an offer for an interaction: the one path every caller takes.

The offer page, a review's rendered impact, the preview, `/api/v1/decide` and the
Python client all show an offer the same way: the offer, the layout chosen for each
layout channel, and the interaction it is for go in; the rendered variants come out.
Which layouts are chosen is the caller's policy (a review shows every channel's first
layout, a decision the bundle's defaults); how the three are combined is decided here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from content.channels import RenderContext, Variant, render_variants
from content.model import Layout, Offer


def render_offer(
    offer: Offer,
    layouts: Mapping[str, Layout | None],
    interaction: Mapping[str, Any] | RenderContext,
    channels: Iterable[str] | None = None,
) -> dict[str, Variant]:
    """Render `offer` into the variants named in `channels` (all six by default).

    `layouts` maps a layout channel to the chosen layout; a channel mapped to None has
    none (its variant says so in its diagnostics). `interaction` is the interaction as
    plain data, or the `RenderContext` already made from one with
    `RenderContext.from_interaction`, which a caller rendering several offers for one
    interaction builds once, with its own link builders. Never raises for a template
    problem; raises `ContentError` for an unknown variant or data that is not plain.
    """
    context = (
        interaction
        if isinstance(interaction, RenderContext)
        else RenderContext.from_interaction(interaction)
    )
    chosen = {channel: layout for channel, layout in layouts.items() if layout is not None}
    return render_variants(offer, chosen, context, channels)
