"""The running app's bundle cache (`studio.services.bundle_cache`), made on first use."""

from __future__ import annotations

from typing import Final

from flask import Flask, current_app

from studio.services.bundle_cache import DEFAULT_TTL_SECONDS, BundleCache

_EXTENSION: Final = "studio.api.bundle_cache"


def bundle_cache() -> BundleCache:
    cache = current_app.extensions.get(_EXTENSION)
    if cache is None:
        ttl = float(current_app.config.get("API_BUNDLE_POINTER_TTL_SECONDS", DEFAULT_TTL_SECONDS))
        cache = current_app.extensions.setdefault(
            _EXTENSION, BundleCache(ttl, instance_path=current_app.instance_path)
        )
    return cache


def existing_bundle_cache(app: Flask) -> BundleCache | None:
    """`app`'s cache if a request has made it yet (no app context needed)."""
    return app.extensions.get(_EXTENSION)
