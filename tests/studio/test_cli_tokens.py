"""`studio tokens create / list / revoke`: API tokens from the shell, same rules as Admin."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from studio.cli import main
from studio.models import ApiToken
from studio.services import api_tokens


@pytest.fixture
def env(tmp_path: Path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("STUDIO_DATABASE_URL", url)
    monkeypatch.setenv("STUDIO_INSTANCE_PATH", str(tmp_path / "instance"))
    import studio.app

    monkeypatch.setattr(studio.app, "DEFAULT_INSTANCE", tmp_path / "instance")
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    return url


def _tokens(url: str) -> list[ApiToken]:
    engine = create_engine(url)
    with Session(engine) as session:
        rows = list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
    engine.dispose()
    return rows


def test_create_prints_the_secret_once_and_stores_only_its_hash(env: str) -> None:
    result = CliRunner().invoke(
        main,
        [
            "tokens",
            "create",
            "--name",
            "SMS gateway",
            "--scope",
            "decide",
            "--scope",
            "messages:write",
        ],
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    [token] = _tokens(env)
    assert secret.startswith("pst_") and token.token_hash == api_tokens.hash_token(secret)
    assert token.scopes == ["decide", "messages:write"] and token.name == "SMS gateway"
    listing = CliRunner().invoke(main, ["tokens", "list"])
    assert "SMS gateway" in listing.output and secret not in listing.output
    assert "active" in listing.output


def test_create_refuses_an_unknown_scope_and_stores_nothing(env: str) -> None:
    result = CliRunner().invoke(main, ["tokens", "create", "--name", "x", "--scope", "root"])
    assert result.exit_code == 1 and "'root' is not a scope" in result.output
    assert _tokens(env) == []


def test_revoke_marks_the_token_and_an_unknown_id_is_an_error(env: str) -> None:
    CliRunner().invoke(main, ["tokens", "create", "--name", "Chat", "--scope", "decide"])
    [token] = _tokens(env)
    result = CliRunner().invoke(main, ["tokens", "revoke", str(token.id)])
    assert result.exit_code == 0 and "is revoked" in result.output
    assert _tokens(env)[0].revoked_at is not None
    missing = CliRunner().invoke(main, ["tokens", "revoke", "999"])
    assert missing.exit_code == 1 and "there is no token 999" in missing.output
