"""The studio's downstream client: verified bundles, local decisions, feedback events.

    from studio_client import StudioClient
    client = StudioClient(url, token, trusted_keys, cache_dir)
    decision = client.decide(interaction)

Needs only the standard library, `cryptography`, and the project's pure `bundle`,
`dsl` and `content` libraries (its own distribution, `pos-studio-client`, carries a
copy of them); see docs/api.md.
"""

from __future__ import annotations

from bundle.runtime import BundleLoadError, BundleRuntime, InteractionProblem, InvalidInteraction
from bundle.verify import BundleRejected, verify_bundle
from studio_client.client import ClientError, NoBundle, StudioClient, StudioUnavailable

__all__ = [
    "BundleLoadError",
    "BundleRejected",
    "BundleRuntime",
    "ClientError",
    "InteractionProblem",
    "InvalidInteraction",
    "NoBundle",
    "StudioClient",
    "StudioUnavailable",
    "verify_bundle",
]
