"""The application factory, configuration, and error pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from studio import create_app
from studio.config import DEFAULT_PASSWORD_HASH, load_settings
from studio.services import accounts


def test_secret_key_is_generated_once_and_kept_in_the_instance_folder(tmp_path: Path) -> None:
    first = load_settings(tmp_path)
    second = load_settings(tmp_path)
    assert first.secret_key == second.secret_key and len(first.secret_key) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_database_defaults_to_sqlite_in_the_instance_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("STUDIO_DATABASE_URL", raising=False)
    settings = load_settings(tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'studio.sqlite3'}"


def test_database_url_comes_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("STUDIO_DATABASE_URL", "sqlite:////tmp/elsewhere.sqlite3")
    assert load_settings(tmp_path).database_url == "sqlite:////tmp/elsewhere.sqlite3"


def test_factory_builds_independent_apps(tmp_path: Path) -> None:
    one = create_app({"INSTANCE_PATH": tmp_path / "a", "DATABASE_URL": "sqlite://"})
    two = create_app({"INSTANCE_PATH": tmp_path / "b", "DATABASE_URL": "sqlite://"})
    assert one is not two and one.config["SECRET_KEY"] != two.config["SECRET_KEY"]


def test_outside_tests_passwords_are_hashed_with_scrypt_at_its_default_cost(tmp_path: Path) -> None:
    assert load_settings(tmp_path).password_hash_method == DEFAULT_PASSWORD_HASH
    create_app({"INSTANCE_PATH": tmp_path, "DATABASE_URL": "sqlite://"})
    assert accounts.hash_password("a long password").startswith("scrypt:32768:8:1$")


def test_a_cheaper_password_hash_is_refused_unless_the_app_is_a_test_app(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="only together with TESTING"):
        create_app(
            {
                "INSTANCE_PATH": tmp_path,
                "DATABASE_URL": "sqlite://",
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
            }
        )


def test_an_unknown_password_hash_method_is_refused_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a werkzeug hash method"):
        create_app(
            {
                "INSTANCE_PATH": tmp_path,
                "DATABASE_URL": "sqlite://",
                "TESTING": True,
                "PASSWORD_HASH_METHOD": "rot13",
            }
        )


def test_unknown_url_gets_a_helpful_404_page(app: Flask) -> None:
    response = app.test_client().get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html and "start from home" in html


def test_wrong_method_gets_405_not_500(app: Flask) -> None:
    assert app.test_client().put("/sign-in").status_code in {400, 405}


def test_oversized_request_body_gets_413(app: Flask) -> None:
    response = app.test_client().post(
        "/sign-in", data="x" * (9 * 1024 * 1024), content_type="application/octet-stream"
    )
    assert response.status_code == 413


@pytest.mark.own_app
def test_unexpected_error_renders_the_500_page_without_details(app: Flask) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong" in html and "secret internals" not in html


def test_health_endpoint_answers_without_signing_in(app: Flask) -> None:
    assert app.test_client().get("/healthz").get_json() == {"status": "ok"}


def test_an_absurd_id_in_the_address_is_404_not_a_database_overflow(app: Flask) -> None:
    from studio.db import get_database
    from tests.factories import make_user, sign_in_as

    session = get_database(app).session()
    client = sign_in_as(app.test_client(), make_user(session, "admin", "reviewer"))
    session.close()
    for url in (
        "/admin/users/99999999999999999999",
        "/bundles/99999999999999999999",
        "/history/offer/x/compare?a=1&b=99999999999999999999",
    ):
        assert client.get(url).status_code == 404, url
