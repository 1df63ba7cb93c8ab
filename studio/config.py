"""Configuration read from the environment, with safe defaults for a laptop.

`STUDIO_DATABASE_URL` picks the database (SQLite in the instance folder by default).
The secret key is generated once and kept in the instance folder, so sessions survive
restarts without anybody having to invent a secret. Passwords are always hashed with
werkzeug's scrypt at its default cost; only a test app (`TESTING`) may choose a cheaper
method, through the `PASSWORD_HASH_METHOD` override (there is no environment variable
for it, so a deployment cannot lower the cost by accident).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from werkzeug.security import generate_password_hash

DEV_PUBLIC_BASE_URL: Final = "http://127.0.0.1:5000"
DEFAULT_MESSAGE_DAYS: Final = 30


class ConfigError(Exception):
    """A setting the studio cannot start with; the message says which and how to fix it."""


# werkzeug's default: scrypt with N=2**15, r=8, p=1 (about 32 MiB and 0.1-0.2 s a hash).
DEFAULT_PASSWORD_HASH = "scrypt:32768:8:1"


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    dev_mode: bool
    session_hours: int = 8
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    #: Where customers reach the studio: every link in a customer's message starts here.
    public_base_url: str = DEV_PUBLIC_BASE_URL
    production: bool = False
    #: How long a customer's message link works.
    message_days: int = DEFAULT_MESSAGE_DAYS
    password_hash_method: str = DEFAULT_PASSWORD_HASH


def instance_secret(instance_path: Path) -> str:
    """Return the instance's secret key, creating it (mode 0600) on first use."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def default_database_url(instance_path: Path) -> str:
    return f"sqlite:///{instance_path / 'studio.sqlite3'}"


def load_settings(instance_path: Path, overrides: dict | None = None) -> Settings:
    overrides = overrides or {}
    database_url = (
        overrides.get("DATABASE_URL")
        or os.environ.get("STUDIO_DATABASE_URL")
        or default_database_url(instance_path)
    )
    secret_key = (
        overrides.get("SECRET_KEY")
        or os.environ.get("STUDIO_SECRET_KEY")
        or instance_secret(instance_path)
    )
    dev_mode = bool(overrides.get("DEV_MODE", os.environ.get("STUDIO_DEV", "") == "1"))
    environment = str(overrides.get("ENV") or os.environ.get("STUDIO_ENV") or "development")
    if environment not in ("development", "production"):
        raise ConfigError(f"STUDIO_ENV is {environment!r}; use 'production' or 'development'.")
    production = environment == "production"
    public_base_url = public_base_url_setting(
        overrides.get("PUBLIC_BASE_URL") or os.environ.get("STUDIO_PUBLIC_BASE_URL") or "",
        production=production,
    )
    message_days = _whole_days(
        overrides.get("MESSAGE_DAYS")
        or os.environ.get("STUDIO_MESSAGE_DAYS")
        or DEFAULT_MESSAGE_DAYS
    )
    return Settings(
        database_url=database_url,
        secret_key=secret_key,
        dev_mode=dev_mode,
        public_base_url=public_base_url,
        production=production,
        message_days=message_days,
        password_hash_method=password_hash_method(overrides),
    )


def public_base_url_setting(value: str, *, production: bool) -> str:
    """The checked public base URL (no trailing slash); refuse what customers cannot open.

    In production there is no default: a studio that guessed its own address would send
    customers links that lead nowhere.
    """
    value = value.strip()
    if not value:
        if production:
            raise ConfigError(
                "STUDIO_PUBLIC_BASE_URL is not set. In production the studio must know the "
                "address customers reach it at, e.g. STUDIO_PUBLIC_BASE_URL="
                "https://messages.example.com; every link in SMS, email and the message "
                "center starts with it."
            )
        return DEV_PUBLIC_BASE_URL
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.query
        or parts.fragment
        or any(c.isspace() for c in value)
    ):
        raise ConfigError(
            f"STUDIO_PUBLIC_BASE_URL is {value!r}; it must be an absolute http(s) address "
            "without query or fragment, e.g. https://messages.example.com."
        )
    if production and parts.scheme != "https":
        raise ConfigError(
            f"STUDIO_PUBLIC_BASE_URL is {value!r}; in production customer links must use "
            "https, or their tokens travel in clear."
        )
    return value.rstrip("/")


def _whole_days(value: object) -> int:
    try:
        days = int(str(value))
    except ValueError:
        days = 0
    if not 1 <= days <= 3650:
        raise ConfigError(
            f"STUDIO_MESSAGE_DAYS is {value!r}; give a whole number of days "
            "from 1 to 3650 (default 30)."
        )
    return days


def password_hash_method(overrides: dict) -> str:
    """The method new password hashes use: the default unless a test app asks otherwise.

    Raises ValueError for a cheaper method outside `TESTING`, or for a method werkzeug
    does not know, so a mistake stops the app at start-up instead of weakening hashes.
    """
    method = overrides.get("PASSWORD_HASH_METHOD")
    if method is None or method == DEFAULT_PASSWORD_HASH:
        return DEFAULT_PASSWORD_HASH
    if not overrides.get("TESTING"):
        raise ValueError(
            f"PASSWORD_HASH_METHOD={method!r} is accepted only together with TESTING: "
            f"production always hashes with {DEFAULT_PASSWORD_HASH}."
        )
    try:
        generate_password_hash("probe", method)
    except ValueError as unknown:
        raise ValueError(
            f"PASSWORD_HASH_METHOD={method!r} is not a werkzeug hash method "
            "(for example 'pbkdf2:sha256:1' or 'scrypt:1024:8:1')."
        ) from unknown
    return str(method)


def flask_config(settings: Settings) -> dict:
    """The subset of settings Flask itself reads."""
    return {
        "SECRET_KEY": settings.secret_key,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("STUDIO_SECURE_COOKIES", "") == "1",
        "SESSION_COOKIE_NAME": "studio_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=settings.session_hours),
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 2 * 1024 * 1024,
    }
