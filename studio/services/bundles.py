"""Published bundles: canonical bytes, content address, signature, and verified loading.

A bundle row keeps the canonical JSON text exactly as it was hashed and signed, so the
bytes a client downloads are the bytes that were signed: the digest (sha256 hex of those
bytes) is the strong ETag, and the Ed25519 signature is detached. Loading re-checks both,
so one changed byte in storage is refused instead of served.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.models import Bundle
from studio.services import signing

FORMAT = "pos-studio-bundle/1"


class BundleTampered(Exception):
    """A stored bundle no longer matches its digest or signature: it must not be served."""

    def __init__(self, version: int, reason: str) -> None:
        super().__init__(f"bundle v{version} failed verification: {reason}")
        self.version = version
        self.reason = reason


def canonical_json(obj: Any) -> bytes:
    """The one byte form of a JSON value that is hashed and signed (RFC 8785-like:
    sorted keys, no spaces, UTF-8 without escapes)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def current(session: Session) -> Bundle | None:
    """The bundle downstream systems should use now."""
    return session.scalar(select(Bundle).where(Bundle.is_current.is_(True))
                          .order_by(Bundle.version.desc()).limit(1))


def get(session: Session, version: int) -> Bundle | None:
    return session.scalar(select(Bundle).where(Bundle.version == version))


def latest_version(session: Session) -> int:
    return session.scalar(select(func.max(Bundle.version))) or 0


@dataclass(frozen=True)
class BundlePage:
    items: list[Bundle]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def listing(session: Session, *, page: int = 1, per_page: int = 20) -> BundlePage:
    """Bundles newest first, a page at a time."""
    total = session.scalar(select(func.count(Bundle.id))) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = list(session.scalars(select(Bundle).order_by(Bundle.version.desc())
                                 .offset((page - 1) * per_page).limit(per_page)))
    return BundlePage(items=items, page=page, per_page=per_page, total=total)


def store(session: Session, body: dict[str, Any], *, ring: signing.KeyRing,
          actor_id: int | None, summary: dict[str, Any],
          rollback_of: int | None = None) -> Bundle:
    """Sign and add a new bundle and make it the only current one (flushed, not committed)."""
    data = canonical_json(body)
    key_id, signature = ring.sign(data)
    for previous in session.scalars(select(Bundle).where(Bundle.is_current.is_(True))):
        previous.is_current = False
    bundle = Bundle(version=body["version"], digest=digest(data), signature=signature,
                    key_id=key_id, body=data.decode("utf-8"), summary=summary,
                    published_by=actor_id, is_current=True, rollback_of=rollback_of)
    session.add(bundle)
    session.flush()
    return bundle


def load_verified(bundle: Bundle, public_keys: Iterable[Mapping[str, str]]) -> dict[str, Any]:
    """The bundle's JSON, after checking its digest and signature; raises BundleTampered."""
    data = bundle.body.encode("utf-8")
    if digest(data) != bundle.digest:
        raise BundleTampered(bundle.version, "its content does not match its digest")
    if not signing.verify(data, bundle.key_id, bundle.signature, public_keys):
        raise BundleTampered(bundle.version, "its signature does not verify")
    try:
        body = json.loads(data)
    except ValueError as exc:
        raise BundleTampered(bundle.version, "its content is not JSON") from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT \
            or body.get("version") != bundle.version:
        raise BundleTampered(bundle.version, "its content is not this bundle")
    return body


def key_ring(session: Session, instance_path: str | os.PathLike[str]) -> signing.KeyRing:
    """The signing keys to publish with: a first key is made only for a first bundle.

    Once bundles exist, a missing key folder raises `signing.KeysMissing` instead of
    minting a key that could not verify anything stored (a restored database without
    its keys, a lost volume).
    """
    return signing.load_or_create_keys(instance_path, create=latest_version(session) == 0)


def changes(before: Mapping[str, int] | None, after: Mapping[str, int]) -> dict[str, list[str]]:
    """What changed between two bundles' revision maps ("offer:key" -> number)."""
    before = before or {}
    return {
        "added": sorted(k for k in after if k not in before),
        "changed": sorted(k for k in after if k in before and before[k] != after[k]),
        "removed": sorted(k for k in before if k not in after),
    }
