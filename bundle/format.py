"""The signed bundle's wire format: its name, its one byte form, its digest, its signature.

A bundle is a JSON document published by the studio and run by every decision maker
(`/api/v1/decide`, the Python client). Everything that must agree byte for byte between
the side that signs and the side that verifies is defined here, once:

- `FORMAT`, the value of the document's `format` field;
- `canonical_json`, the exact bytes that are hashed and signed;
- `digest`, the sha256 hex of those bytes (the strong ETag);
- `Signature`, the detached Ed25519 signature and the id of the key that made it, and
  its `X-Bundle-Signature` header form.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Final

FORMAT: Final = "pos-studio-bundle/1"
ALGORITHM: Final = "Ed25519"
SIGNATURE_HEADER: Final = "X-Bundle-Signature"
#: On `GET /api/v1/keys`: the key list's bytes signed by every key in it, `;`-separated.
KEYS_SIGNATURE_HEADER: Final = "X-Keys-Signatures"


def canonical_json(obj: Any) -> bytes:
    """The one byte form of a JSON value that is hashed and signed (RFC 8785-like:
    sorted keys, no spaces, UTF-8 without escapes, no NaN or infinity)."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest(data: bytes) -> str:
    """The content address of bundle bytes: sha256, lower-case hex."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Signature:
    """A detached signature: base64 of the Ed25519 signature over the bundle's bytes."""

    key_id: str
    value: str

    def header(self) -> str:
        return f"keyid={self.key_id},sig={self.value}"
