"""The studio's Ed25519 signing keys for bundles, kept in the instance folder.

The signing scheme (what is signed, key ids, the published key entries) belongs to the
neutral `bundle` package, which the client verifies with; this module only keeps the
keys.

Keys live in `<instance>/signing/<key_id>.pem` (private, mode 0600). The newest key
signs; older keys stay listed so bundles they signed still verify after a rotation.

Several worker processes share one folder, so the first key is made under an exclusive
file lock (`signing/.lock`): however many workers start at once, exactly one key is
created. A rotation done by any process (`studio keys rotate`) adds a file, which changes
the folder's modification time; every process re-reads the folder when it sees that
change (checked at most once per `REFRESH_SECONDS`), so running workers sign with the
new key within seconds, without a restart.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundle import signing as bundle_sign
from bundle.format import ALGORITHM, Signature
from bundle.verify import signature_is_valid
from studio.errors import StudioError

__all__ = [
    "ALGORITHM",
    "KeyRing",
    "SigningKey",
    "load_or_create_keys",
    "public_keys",
    "rotate",
    "sign",
    "verify",
]

KEY_FOLDER = "signing"
LOCK_FILE = ".lock"
REFRESH_SECONDS = 2.0


class KeysMissing(StudioError):
    """The instance has no signing key although bundles were signed before.

    Minting a new key here would make every stored bundle unverifiable, so the studio
    refuses and says what to do instead.
    """

    code = "keys_missing"


@dataclass
class _Cached:
    ring: KeyRing
    folder_mtime_ns: int
    checked_at: float


_cache: dict[Path, _Cached] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private: Ed25519PrivateKey
    created: float

    @property
    def public_raw(self) -> bytes:
        return bundle_sign.raw_public_key(self.private.public_key())


class KeyRing:
    """The instance's signing keys: the newest signs, all of them verify."""

    def __init__(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self.keys = sorted(keys, key=lambda k: (k.created, k.key_id))
        self.active = self.keys[-1]

    def sign(self, data: bytes) -> tuple[str, str]:
        """Sign `data` with the active key: (key_id, base64 signature)."""
        signature = bundle_sign.sign(data, self.active.private)
        return signature.key_id, signature.value

    def sign_with_every_key(self, data: bytes) -> list[Signature]:
        """Sign `data` with each key, so a client trusting any one of them can check it."""
        return [bundle_sign.sign(data, key.private) for key in self.keys]

    def public_keys(self) -> list[dict[str, str]]:
        """Every key a client should trust, newest last, as JSON-ready dicts."""
        return [bundle_sign.public_key_entry(key.private.public_key()) for key in self.keys]

    def verify(self, data: bytes, key_id: str, signature_b64: str) -> bool:
        return verify(data, key_id, signature_b64, self.public_keys())


def key_folder(instance_path: str | os.PathLike[str]) -> Path:
    return Path(instance_path).resolve() / KEY_FOLDER


def load_or_create_keys(instance_path: str | os.PathLike[str], *, create: bool = True) -> KeyRing:
    """The instance's key ring, generating a first key on first use (cached per folder).

    With `create=False` a folder without keys raises `KeysMissing` instead: callers that
    know bundles were already signed (publish, restore) use it so a lost key folder is
    reported, not silently replaced.
    """
    folder = key_folder(instance_path)
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(folder)
        if cached is not None and now - cached.checked_at < REFRESH_SECONDS:
            return cached.ring
        if (
            cached is not None
            and _mtime_ns(folder) == cached.folder_mtime_ns
            and all((folder / f"{k.key_id}.pem").exists() for k in cached.ring.keys)
        ):
            cached.checked_at = now
            return cached.ring
        folder.mkdir(parents=True, exist_ok=True)
        with _folder_lock(folder):
            keys = _read_keys(folder)
            if not keys:
                if not create:
                    raise KeysMissing(
                        f"no signing key in {folder}: restore the signing folder from a "
                        "backup (studio restore) instead of creating a new key",
                        location=str(folder),
                        hint="see docs/operations.md, Signing keys",
                    )
                keys = [_generate(folder)]
            mtime = _mtime_ns(folder)
        ring = KeyRing(keys)
        _cache[folder] = _Cached(ring, mtime, now)
        return ring


def rotate(instance_path: str | os.PathLike[str]) -> KeyRing:
    """Add a new signing key; older keys keep verifying the bundles they signed."""
    folder = key_folder(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    with _cache_lock:
        with _folder_lock(folder):
            _generate(folder)
        _cache.pop(folder, None)
    return load_or_create_keys(instance_path)


def _mtime_ns(folder: Path) -> int:
    try:
        return folder.stat().st_mtime_ns
    except FileNotFoundError:
        return -1


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock shared by every process using this key folder."""
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _read_keys(folder: Path) -> list[SigningKey]:
    keys = []
    for path in sorted(folder.glob("*.pem")):
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            continue
        keys.append(SigningKey(_key_id(private), private, path.stat().st_mtime))
    return keys


def _generate(folder: Path) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    key_id = _key_id(private)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = folder / f"{key_id}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return SigningKey(key_id, private, path.stat().st_mtime)


def _key_id(private: Ed25519PrivateKey) -> str:
    return bundle_sign.key_id_for(bundle_sign.raw_public_key(private.public_key()))


def sign(data: bytes, *, instance_path: str | os.PathLike[str]) -> tuple[str, str]:
    """Sign with the active key of the instance at `instance_path`."""
    return load_or_create_keys(instance_path).sign(data)


def public_keys(*, instance_path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The keys downstream clients should trust, for the API and the bundles page.

    Never creates a key: with none on disk the list is empty (and nothing verifies), so
    a lost key folder cannot be papered over by a fresh key nobody signed with.
    """
    try:
        return load_or_create_keys(instance_path, create=False).public_keys()
    except KeysMissing:
        return []


def verify(
    data: bytes, key_id: str, signature_b64: str, public_keys: Iterable[Mapping[str, str]]
) -> bool:
    """Whether `signature_b64` is a valid Ed25519 signature of `data` by key `key_id`."""
    return signature_is_valid(data, Signature(key_id, signature_b64), public_keys)
