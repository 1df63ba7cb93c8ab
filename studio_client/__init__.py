"""The studio's downstream client: verified bundles, local decisions, feedback events.

    from studio_client import StudioClient
    client = StudioClient(url, token, trusted_keys, cache_dir)
    decision = client.decide(interaction)

Needs only the standard library, `cryptography`, and the project's pure `dsl` and
`content` libraries; see docs/api.md.
"""

from __future__ import annotations

from studio_client.client import ClientError, NoBundle, StudioClient, StudioUnavailable
from studio_client.runtime import BundleLoadError, BundleRuntime
from studio_client.verify import BundleRejected, verify_bundle

__all__ = [
    "BundleLoadError",
    "BundleRejected",
    "BundleRuntime",
    "ClientError",
    "NoBundle",
    "StudioClient",
    "StudioUnavailable",
    "verify_bundle",
]
