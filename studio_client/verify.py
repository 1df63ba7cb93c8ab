"""Checking a downloaded bundle before anything trusts it.

The studio signs the exact canonical JSON bytes of a bundle with Ed25519 and ships the
signature detached, in the `X-Bundle-Signature: keyid=<id>,sig=<base64>` header; the
sha256 of the same bytes is the bundle's digest and strong ETag. A client accepts a
bundle only when the bytes hash to the digest, the signature verifies with one of the
keys it was configured to trust (never a key fetched alongside the bundle), and the JSON
says it is the bundle it claims to be. Anything else is a `BundleRejected`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALGORITHM: Final = "Ed25519"
SIGNATURE_HEADER: Final = "X-Bundle-Signature"
BUNDLE_FORMAT: Final = "pos-studio-bundle/1"


class BundleRejected(Exception):
    """A bundle failed verification; `reason` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Signature:
    key_id: str
    value: str

    def header(self) -> str:
        return f"keyid={self.key_id},sig={self.value}"


@dataclass(frozen=True)
class VerifiedBundle:
    """Bundle bytes that passed every check, with what they were checked against."""

    data: bytes
    body: dict[str, Any]
    digest: str
    signature: Signature

    @property
    def version(self) -> int:
        return int(self.body["version"])


def parse_signature_header(value: str | None) -> Signature:
    """Read `keyid=...,sig=...`; raise `BundleRejected` when missing or malformed."""
    if not value or not value.strip():
        raise BundleRejected("the response carries no bundle signature")
    parts: dict[str, str] = {}
    for piece in value.split(","):
        name, sep, item = piece.strip().partition("=")
        if not sep:
            raise BundleRejected("the bundle signature header is malformed")
        parts[name.strip().lower()] = item.strip()
    if not parts.get("keyid") or not parts.get("sig"):
        raise BundleRejected("the bundle signature header needs keyid and sig")
    return Signature(parts["keyid"], parts["sig"])


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_bundle(data: bytes, signature: Signature, trusted_keys: Iterable[Mapping[str, str]],
                  *, expected_digest: str | None = None) -> VerifiedBundle:
    """Return the verified bundle, or raise `BundleRejected` for any doubt at all."""
    digest = digest_of(data)
    if expected_digest is not None and expected_digest != digest:
        raise BundleRejected("the bundle's bytes do not match its digest (ETag)")
    key = _trusted_key(signature.key_id, trusted_keys)
    try:
        raw_signature = base64.b64decode(signature.value, validate=True)
        key.verify(raw_signature, data)
    except (InvalidSignature, ValueError, binascii.Error) as exc:
        raise BundleRejected("the bundle's signature does not verify") from exc
    try:
        body = json.loads(data)
    except ValueError as exc:
        raise BundleRejected("the bundle is not JSON") from exc
    if not isinstance(body, dict) or body.get("format") != BUNDLE_FORMAT \
            or not isinstance(body.get("version"), int):
        raise BundleRejected(f"the signed document is not a {BUNDLE_FORMAT} bundle")
    return VerifiedBundle(data=data, body=body, digest=digest, signature=signature)


def _trusted_key(key_id: str, trusted_keys: Iterable[Mapping[str, str]]) -> Ed25519PublicKey:
    for entry in trusted_keys:
        if entry.get("key_id") != key_id:
            continue
        if entry.get("algorithm", ALGORITHM) != ALGORITHM:
            break
        try:
            raw = base64.b64decode(entry["public_key"], validate=True)
            return Ed25519PublicKey.from_public_bytes(raw)
        except (KeyError, ValueError, binascii.Error) as exc:
            raise BundleRejected(f"trusted key {key_id} is not a valid Ed25519 key") from exc
    raise BundleRejected(f"the bundle is signed by key {key_id!r}, which this client "
                         "does not trust")
