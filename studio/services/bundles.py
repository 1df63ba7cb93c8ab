"""Published bundles in the database: storing, listing and verified loading.

A bundle row keeps the canonical JSON text exactly as it was hashed and signed, so the
bytes a client downloads are the bytes that were signed: the digest (sha256 hex of those
bytes) is the strong ETag, and the Ed25519 signature is detached. The format itself
(canonical bytes, digest, signature checks) is the neutral `bundle` package's, the one
the client verifies with. Loading re-checks everything, so one changed byte in storage
is refused instead of served.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bundle.format import Signature, canonical_json, digest
from bundle.verify import BundleRejected, verify_bundle
from studio.errors import BundleTampered
from studio.models import Bundle
from studio.services import signing
from studio.services.pagination import Page, clamp

#: How a stored bundle that fails verification is described, by `BundleRejected.code`.
_TAMPERED: Final = {
    "digest-mismatch": "its content does not match its digest",
    "not-json": "its content is not JSON",
    "not-a-bundle": "its content is not this bundle",
}


def current(session: Session) -> Bundle | None:
    """The bundle downstream systems should use now."""
    return session.scalar(
        select(Bundle).where(Bundle.is_current.is_(True)).order_by(Bundle.version.desc()).limit(1)
    )


def get(session: Session, version: int) -> Bundle | None:
    return session.scalar(select(Bundle).where(Bundle.version == version))


def latest_version(session: Session) -> int:
    return session.scalar(select(func.max(Bundle.version))) or 0


def listing(session: Session, *, page: int = 1, per_page: int = 20) -> Page[Bundle]:
    """Bundles newest first, a page at a time."""
    total = session.scalar(select(func.count(Bundle.id))) or 0
    page = clamp(page, total=total, per_page=per_page)
    items = list(
        session.scalars(
            select(Bundle)
            .order_by(Bundle.version.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return Page(items=items, page=page, per_page=per_page, total=total)


def store(
    session: Session,
    body: dict[str, Any],
    *,
    ring: signing.KeyRing,
    actor_id: int | None,
    summary: dict[str, Any],
    rollback_of: int | None = None,
) -> Bundle:
    """Sign and add a new bundle and make it the only current one (flushed, not committed)."""
    data = canonical_json(body)
    key_id, signature = ring.sign(data)
    for previous in session.scalars(select(Bundle).where(Bundle.is_current.is_(True))):
        previous.is_current = False
    bundle = Bundle(
        version=body["version"],
        digest=digest(data),
        signature=signature,
        key_id=key_id,
        body=data.decode("utf-8"),
        summary=summary,
        published_by=actor_id,
        is_current=True,
        rollback_of=rollback_of,
    )
    session.add(bundle)
    session.flush()
    return bundle


def load_verified(bundle: Bundle, public_keys: Iterable[Mapping[str, str]]) -> dict[str, Any]:
    """The bundle's JSON, after checking its digest and signature; raises BundleTampered."""
    try:
        verified = verify_bundle(
            bundle.body.encode("utf-8"),
            Signature(bundle.key_id, bundle.signature),
            public_keys,
            expected_digest=bundle.digest,
        )
    except BundleRejected as rejected:
        reason = _TAMPERED.get(rejected.code, "its signature does not verify")
        raise BundleTampered(bundle.version, reason) from rejected
    if verified.version != bundle.version:
        raise BundleTampered(bundle.version, "its content is not this bundle")
    return verified.body


def key_ring(session: Session, instance_path: str | os.PathLike[str]) -> signing.KeyRing:
    """The signing keys to publish with: a first key is made only for a first bundle.

    Once bundles exist, a missing key folder raises `signing.KeysMissing` instead of
    minting a key that could not verify anything stored (a restored database without
    its keys, a lost volume).
    """
    return signing.load_or_create_keys(instance_path, create=latest_version(session) == 0)


def trusted_keys(session: Session, instance_path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The public keys downstream clients should trust (none when the key folder is lost)."""
    try:
        return key_ring(session, instance_path).public_keys()
    except signing.KeysMissing:
        return []


def key_announcement(session: Session, instance_path: str | os.PathLike[str]) -> tuple[bytes, str]:
    """The key list's canonical bytes and the header carrying every key's signature of them.

    A client that trusts the old key accepts the new one during a rotation's overlap
    (`bundle.verify.verify_key_announcement`). With the key folder lost the list is empty
    and unsigned.
    """
    try:
        ring = key_ring(session, instance_path)
    except signing.KeysMissing:
        return canonical_json({"keys": []}), ""
    data = canonical_json({"keys": ring.public_keys()})
    return data, "; ".join(s.header() for s in ring.sign_with_every_key(data))


def changes(before: Mapping[str, int] | None, after: Mapping[str, int]) -> dict[str, list[str]]:
    """What changed between two bundles' revision maps ("offer:key" -> number)."""
    before = before or {}
    return {
        "added": sorted(k for k in after if k not in before),
        "changed": sorted(k for k in after if k in before and before[k] != after[k]),
        "removed": sorted(k for k in before if k not in after),
    }
