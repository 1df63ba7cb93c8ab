"""The signed bundle: one package owns its format, signing, verification and loading.

Both sides import it: the studio signs and serves bundles with it, and every decision
maker (`/api/v1/decide`, the Python client) verifies and runs them with it, so the two
can never disagree about a byte. Modules, each one concept:

- `bundle.format`: the format name, canonical JSON bytes, the sha256 digest, `Signature`;
- `bundle.signing`: Ed25519 signing, key ids and the published key entries;
- `bundle.verify`: `verify_bundle`, raising `BundleRejected` (with a `code`) on any doubt;
- `bundle.runtime`: `BundleRuntime`, a verified bundle's IR turned into something that
  decides and renders (it needs `dsl` and `content`, so it is imported on its own).

Like `dsl` and `content`, this package knows nothing of Flask or the database.
"""

from __future__ import annotations

from bundle.format import ALGORITHM, FORMAT, SIGNATURE_HEADER, Signature, canonical_json, digest
from bundle.signing import key_id_for, public_key_entry, sign
from bundle.verify import (
    BundleRejected,
    VerifiedBundle,
    check_signature,
    parse_signature_header,
    signature_is_valid,
    verify_bundle,
)

__all__ = [
    "ALGORITHM",
    "FORMAT",
    "SIGNATURE_HEADER",
    "BundleRejected",
    "Signature",
    "VerifiedBundle",
    "canonical_json",
    "check_signature",
    "digest",
    "key_id_for",
    "parse_signature_header",
    "public_key_entry",
    "sign",
    "signature_is_valid",
    "verify_bundle",
]
