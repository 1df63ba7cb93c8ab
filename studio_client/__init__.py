"""The studio's downstream client: verified bundles, local decisions, feedback events.

    from studio_client import StudioClient
    client = StudioClient(url, token, trusted_keys, cache_dir)
    decision = client.decide(interaction)
    client.send_events([{"type": "shown", "offer_key": "...", "customer_id": "..."}])

Needs only the standard library, `cryptography`, and the project's pure `bundle`,
`dsl` and `content` libraries (its own distribution, `pos-studio-client`, carries a
copy of them); see docs/api.md.
"""

from __future__ import annotations

from bundle.runtime import BundleLoadError, BundleRuntime, InteractionProblem, InvalidInteraction
from bundle.verify import BundleRejected, verify_bundle
from studio_client.client import ClientError, NoBundle, StudioClient, StudioUnavailable
from studio_client.outbox import OutboxFull, Rejection

__all__ = [
    "BundleLoadError",
    "BundleRejected",
    "BundleRuntime",
    "ClientError",
    "InteractionProblem",
    "InvalidInteraction",
    "NoBundle",
    "OutboxFull",
    "Rejection",
    "StudioClient",
    "StudioUnavailable",
    "verify_bundle",
]
