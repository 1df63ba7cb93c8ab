"""Verifying a bundle before anything acts on it: bytes, digest, key, signature, format.

Whoever runs a bundle (the studio serving it, a client about to decide on it) checks the
same things in the same order, here: the bytes match the expected digest, the signature
is by a trusted key and verifies over exactly those bytes, and the signed document is a
bundle of this format. Any doubt at all is a `BundleRejected` with a `code` a program can
branch on and a `reason` in plain words; nothing is half-accepted.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bundle.format import ALGORITHM, FORMAT, Signature, digest

#: Why a bundle can be rejected; `BundleRejected.code` is one of these.
REJECTION_CODES: Final = (
    "missing-signature",
    "malformed-signature",
    "missing-digest",
    "digest-mismatch",
    "untrusted-key",
    "invalid-key",
    "bad-signature",
    "not-json",
    "not-a-bundle",
    "cannot-load",
)


class BundleRejected(Exception):
    """A bundle failed verification; `reason` says why in plain words, `code` in one word."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


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
        raise BundleRejected("the response carries no bundle signature", "missing-signature")
    parts: dict[str, str] = {}
    for piece in value.split(","):
        name, sep, item = piece.strip().partition("=")
        if not sep:
            raise BundleRejected("the bundle signature header is malformed", "malformed-signature")
        parts[name.strip().lower()] = item.strip()
    if not parts.get("keyid") or not parts.get("sig"):
        raise BundleRejected(
            "the bundle signature header needs keyid and sig", "malformed-signature"
        )
    return Signature(parts["keyid"], parts["sig"])


def verify_bundle(
    data: bytes,
    signature: Signature,
    trusted_keys: Iterable[Mapping[str, str]],
    *,
    expected_digest: str | None = None,
) -> VerifiedBundle:
    """Return the verified bundle, or raise `BundleRejected` for any doubt at all."""
    actual = digest(data)
    if expected_digest is not None and expected_digest != actual:
        raise BundleRejected("the bundle's bytes do not match its digest (ETag)", "digest-mismatch")
    check_signature(data, signature, trusted_keys)
    try:
        body = json.loads(data)
    except ValueError as exc:
        raise BundleRejected("the bundle is not JSON", "not-json") from exc
    if (
        not isinstance(body, dict)
        or body.get("format") != FORMAT
        or not isinstance(body.get("version"), int)
    ):
        raise BundleRejected(f"the signed document is not a {FORMAT} bundle", "not-a-bundle")
    return VerifiedBundle(data=data, body=body, digest=actual, signature=signature)


def check_signature(
    data: bytes, signature: Signature, trusted_keys: Iterable[Mapping[str, str]]
) -> None:
    """Raise `BundleRejected` unless `signature` is a trusted key's signature of `data`."""
    key = _trusted_key(signature.key_id, trusted_keys)
    try:
        raw_signature = base64.b64decode(signature.value, validate=True)
        key.verify(raw_signature, data)
    except (InvalidSignature, ValueError, binascii.Error) as exc:
        raise BundleRejected("the bundle's signature does not verify", "bad-signature") from exc


def parse_signatures_header(value: str | None) -> list[Signature]:
    """Read `keyid=...,sig=...; keyid=...,sig=...` (the key announcement's signatures)."""
    if not value or not value.strip():
        raise BundleRejected("the key list carries no signature", "missing-signature")
    return [parse_signature_header(piece) for piece in value.split(";") if piece.strip()]


def verify_key_announcement(
    data: bytes, signatures: Iterable[Signature], trusted_keys: Iterable[Mapping[str, str]]
) -> list[dict[str, str]]:
    """The keys `GET /api/v1/keys` announces, if a key already trusted signed the list.

    This is how a client follows a rotation without being reconfigured: the studio signs
    its key list with every key on it, so during the overlap the old key vouches for the
    new one. Raises `BundleRejected` when no signature is by a trusted key and verifies.
    """
    trusted = list(trusted_keys)
    if not any(signature_is_valid(data, s, trusted) for s in signatures):
        raise BundleRejected(
            "the key list is not signed by a key this client trusts", "untrusted-key"
        )
    try:
        body = json.loads(data)
        keys = body["keys"]
        entries = [
            {
                "key_id": str(k["key_id"]),
                "algorithm": str(k["algorithm"]),
                "public_key": str(k["public_key"]),
            }
            for k in keys
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleRejected("the signed key list is not a key list", "not-json") from exc
    return [e for e in entries if e["algorithm"] == ALGORITHM]


def signature_is_valid(
    data: bytes, signature: Signature, trusted_keys: Iterable[Mapping[str, str]]
) -> bool:
    """Whether `check_signature` passes, for callers that only need yes or no."""
    try:
        check_signature(data, signature, trusted_keys)
    except BundleRejected:
        return False
    return True


def _trusted_key(key_id: str, trusted_keys: Iterable[Mapping[str, str]]) -> Ed25519PublicKey:
    for entry in trusted_keys:
        if entry.get("key_id") != key_id or entry.get("algorithm", ALGORITHM) != ALGORITHM:
            continue
        try:
            raw = base64.b64decode(entry["public_key"], validate=True)
            return Ed25519PublicKey.from_public_bytes(raw)
        except (KeyError, ValueError, binascii.Error) as exc:
            raise BundleRejected(
                f"trusted key {key_id} is not a valid Ed25519 key", "invalid-key"
            ) from exc
    raise BundleRejected(
        f"the bundle is signed by key {key_id!r}, which this client does not trust", "untrusted-key"
    )
