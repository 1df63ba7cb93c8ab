"""A studio app configured for tests: a known secret, TESTING, and cheap password hashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

from studio import create_app

# One PBKDF2 round: hashing stays real (sign-in checks it) but costs microseconds instead
# of scrypt's 0.1-0.2 s. The studio accepts it only with TESTING (studio/config.py).
FAST_PASSWORD_HASH = "pbkdf2:sha256:1"

TEST_CONFIG: dict[str, Any] = {
    "SECRET_KEY": "test-secret",
    "TESTING": True,
    "PASSWORD_HASH_METHOD": FAST_PASSWORD_HASH,
    "JOBS_IMMEDIATE": True,
}


class _SharedTemplateCode(BytecodeCache):
    """Compiled page templates shared by every test app in the process.

    Each test builds a fresh app, so a fresh Jinja environment; compiling the studio's
    templates again for each test would cost more than most tests. Jinja keys the cache by
    template name and checks the source's checksum, so an edited template is compiled anew.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _SharedTemplateCode()


def make_app(database_url: str, instance_path: Path, **config: Any) -> Flask:
    app = create_app(
        {**TEST_CONFIG, "DATABASE_URL": database_url, "INSTANCE_PATH": instance_path, **config}
    )
    app.jinja_env.bytecode_cache = _TEMPLATE_CODE
    return app
