"""Settings a studio cannot start without, and the message link lifetime."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio import create_app
from studio.config import DEV_PUBLIC_BASE_URL, ConfigError, load_settings


def test_development_defaults_to_the_local_address(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("STUDIO_PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("STUDIO_ENV", raising=False)
    settings = load_settings(tmp_path, {"SECRET_KEY": "x"})
    assert settings.public_base_url == DEV_PUBLIC_BASE_URL == "http://127.0.0.1:5000"
    assert settings.message_days == 30 and not settings.production


def test_production_refuses_to_start_without_a_public_base_url(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("STUDIO_PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("STUDIO_ENV", "production")
    with pytest.raises(ConfigError, match="STUDIO_PUBLIC_BASE_URL is not set"):
        create_app(
            {
                "SECRET_KEY": "x",
                "INSTANCE_PATH": tmp_path,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            }
        )


def test_production_takes_an_https_base_url_without_its_trailing_slash(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("STUDIO_ENV", "production")
    monkeypatch.setenv("STUDIO_PUBLIC_BASE_URL", "https://messages.bank.example/")
    assert (
        load_settings(tmp_path, {"SECRET_KEY": "x"}).public_base_url
        == "https://messages.bank.example"
    )


@pytest.mark.parametrize(
    ("value", "production"),
    [
        ("messages.bank.example", False),
        ("javascript:alert(1)", False),
        ("https://bank.example/?a=1", False),
        ("http://bank.example", True),
        ("https://bank .example", False),
    ],
)
def test_unusable_base_urls_are_refused(tmp_path: Path, value: str, production: bool) -> None:
    with pytest.raises(ConfigError, match="STUDIO_PUBLIC_BASE_URL"):
        load_settings(
            tmp_path,
            {
                "SECRET_KEY": "x",
                "PUBLIC_BASE_URL": value,
                "ENV": "production" if production else "development",
            },
        )


@pytest.mark.parametrize("days", ["0", "-3", "thirty", "4000"])
def test_message_lifetime_must_be_a_sensible_number_of_days(tmp_path: Path, days: str) -> None:
    with pytest.raises(ConfigError, match="STUDIO_MESSAGE_DAYS"):
        load_settings(tmp_path, {"SECRET_KEY": "x", "MESSAGE_DAYS": days})


def test_unknown_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="STUDIO_ENV"):
        load_settings(tmp_path, {"SECRET_KEY": "x", "ENV": "staging"})


def test_serve_in_production_without_a_base_url_says_what_to_set(
    tmp_path: Path, monkeypatch
) -> None:
    from click.testing import CliRunner

    from studio.cli import main

    monkeypatch.setenv("STUDIO_ENV", "production")
    monkeypatch.delenv("STUDIO_PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("STUDIO_SECRET_KEY", "x")
    import studio.app

    monkeypatch.setattr(studio.app, "DEFAULT_INSTANCE", tmp_path / "instance")
    monkeypatch.setenv("STUDIO_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 2
    assert "STUDIO_PUBLIC_BASE_URL is not set" in result.output
