"""A studio app configured for tests: a known secret, TESTING, and cheap password hashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from studio import create_app

# One PBKDF2 round: hashing stays real (sign-in checks it) but costs microseconds instead
# of scrypt's 0.1-0.2 s. The studio accepts it only with TESTING (studio/config.py).
FAST_PASSWORD_HASH = "pbkdf2:sha256:1"

TEST_CONFIG: dict[str, Any] = {
    "SECRET_KEY": "test-secret",
    "TESTING": True,
    "PASSWORD_HASH_METHOD": FAST_PASSWORD_HASH,
}


def make_app(database_url: str, instance_path: Path, **config: Any) -> Flask:
    return create_app({**TEST_CONFIG, "DATABASE_URL": database_url,
                       "INSTANCE_PATH": instance_path, **config})
