"""Ed25519 signing keys for bundles, kept in the instance folder.

The scheme is deliberately small so that any client can check it with a stock Ed25519
library: the signature is made over the exact canonical JSON bytes of the bundle (the
same bytes whose sha256 is the bundle's digest), and is shipped base64-encoded next to
the id of the key that made it. A key id is the first 16 hex digits of the sha256 of
the raw 32-byte public key, so a client can pick the right key from the published list.

Keys live in `<instance>/signing/<key_id>.pem` (private, mode 0600). The newest key
signs; older keys stay listed so bundles they signed still verify after a rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

ALGORITHM = "Ed25519"
KEY_FOLDER = "signing"

_cache: dict[Path, KeyRing] = {}
_cache_lock = threading.Lock()


def key_id_for(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private: Ed25519PrivateKey
    created: float

    @property
    def public_raw(self) -> bytes:
        return _raw_public(self.private.public_key())


class KeyRing:
    """The instance's signing keys: the newest signs, all of them verify."""

    def __init__(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self.keys = sorted(keys, key=lambda k: (k.created, k.key_id))
        self.active = self.keys[-1]

    def sign(self, data: bytes) -> tuple[str, str]:
        """Sign `data` with the active key: (key_id, base64 signature)."""
        signature = self.active.private.sign(data)
        return self.active.key_id, base64.b64encode(signature).decode("ascii")

    def public_keys(self) -> list[dict[str, str]]:
        """Every key a client should trust, newest last, as JSON-ready dicts."""
        return [
            {"key_id": key.key_id, "algorithm": ALGORITHM,
             "public_key": base64.b64encode(key.public_raw).decode("ascii")}
            for key in self.keys
        ]

    def verify(self, data: bytes, key_id: str, signature_b64: str) -> bool:
        return verify(data, key_id, signature_b64, self.public_keys())


def load_or_create_keys(instance_path: str | os.PathLike[str]) -> KeyRing:
    """The instance's key ring, generating a first key on first use (cached per folder)."""
    folder = Path(instance_path).resolve() / KEY_FOLDER
    with _cache_lock:
        ring = _cache.get(folder)
        if ring is not None and all((folder / f"{k.key_id}.pem").exists() for k in ring.keys):
            return ring
        folder.mkdir(parents=True, exist_ok=True)
        keys = _read_keys(folder)
        if not keys:
            keys = [_generate(folder)]
        ring = KeyRing(keys)
        _cache[folder] = ring
        return ring


def rotate(instance_path: str | os.PathLike[str]) -> KeyRing:
    """Add a new signing key; older keys keep verifying the bundles they signed."""
    folder = Path(instance_path).resolve() / KEY_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    with _cache_lock:
        _generate(folder)
        _cache.pop(folder, None)
    return load_or_create_keys(instance_path)


def _read_keys(folder: Path) -> list[SigningKey]:
    keys = []
    for path in sorted(folder.glob("*.pem")):
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            continue
        keys.append(SigningKey(key_id_for(_raw_public(private.public_key())), private,
                               path.stat().st_mtime))
    return keys


def _generate(folder: Path) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    key_id = key_id_for(_raw_public(private.public_key()))
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    path = folder / f"{key_id}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return SigningKey(key_id, private, path.stat().st_mtime)


def sign(data: bytes, *, instance_path: str | os.PathLike[str]) -> tuple[str, str]:
    """Sign with the active key of the instance at `instance_path`."""
    return load_or_create_keys(instance_path).sign(data)


def public_keys(*, instance_path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The keys downstream clients should trust, for the API and the bundles page."""
    return load_or_create_keys(instance_path).public_keys()


def verify(data: bytes, key_id: str, signature_b64: str,
           public_keys: Iterable[Mapping[str, str]]) -> bool:
    """Whether `signature_b64` is a valid Ed25519 signature of `data` by key `key_id`.

    Needs only the published key list, so clients can call it without the studio.
    """
    for entry in public_keys:
        if entry.get("key_id") != key_id or entry.get("algorithm", ALGORITHM) != ALGORITHM:
            continue
        try:
            raw = base64.b64decode(entry["public_key"], validate=True)
            signature = base64.b64decode(signature_b64, validate=True)
            Ed25519PublicKey.from_public_bytes(raw).verify(signature, data)
        except (InvalidSignature, ValueError, binascii.Error, KeyError):
            return False
        return True
    return False
