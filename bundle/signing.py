"""Signing bundle bytes with Ed25519, and naming and publishing the keys that do it.

The scheme is deliberately small so that any client can check it with a stock Ed25519
library: the signature is made over the exact canonical bytes (`bundle.format`), the
same bytes whose sha256 is the digest, and shipped base64-encoded with the id of the
key that made it. A key id is the first 16 hex digits of the sha256 of the raw 32-byte
public key, so a verifier can pick the right key from the published list. Where the
private keys are kept is the signer's business (the studio keeps them in its instance
folder); this module only needs the key.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bundle.format import ALGORITHM, Signature


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key, as key ids and key lists use them."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_for(public_raw: bytes) -> str:
    """The id a signature names its key by: 16 hex digits of the key's sha256."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def sign(data: bytes, private_key: Ed25519PrivateKey) -> Signature:
    """Sign the bundle bytes `data`; the signature names the key that made it."""
    key_id = key_id_for(raw_public_key(private_key.public_key()))
    value = base64.b64encode(private_key.sign(data)).decode("ascii")
    return Signature(key_id, value)


def public_key_entry(key: Ed25519PublicKey) -> dict[str, str]:
    """A public key as verifiers are given it (``GET /api/v1/keys`` lists these)."""
    raw = raw_public_key(key)
    return {
        "key_id": key_id_for(raw),
        "algorithm": ALGORITHM,
        "public_key": base64.b64encode(raw).decode("ascii"),
    }
