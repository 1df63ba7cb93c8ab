"""Bundles are content-addressed and signed; one changed byte is caught on load."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from studio.errors import BundleTampered
from studio.services import bundles, signing
from tests.factories import make_user, post, sign_in_as
from tests.factories.reviews import approved_offer, publish_now, ring


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert (
        bundles.canonical_json({"b": 1, "a": ["é", {"d": None, "c": 1.5}]})
        == '{"a":["é",{"c":1.5,"d":null}],"b":1}'.encode()
    )


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        bundles.canonical_json({"x": float("nan")})


@pytest.fixture
def published(app, session):
    mara, rita = make_user(session, "marketer"), make_user(session, "reviewer")
    approved_offer(session, mara, rita, "rewards_card", headline="Café rewards")
    return publish_now(app, session, rita)


def test_a_stored_bundle_loads_verified(app, session, published) -> None:
    body = bundles.load_verified(bundles.get(session, 1), ring(app).public_keys())
    assert body["offers"][0]["blocks"]["headline"] == "Café rewards"
    assert bundles.current(session).version == 1


@pytest.mark.parametrize("offset", [0, 10, -2, "middle"])
def test_one_changed_byte_in_storage_is_detected_on_load(app, session, published, offset) -> None:
    raw = bytearray(published.body.encode())
    at = len(raw) // 2 if offset == "middle" else offset
    raw[at] = raw[at] ^ 0x01
    session.execute(
        text("UPDATE bundles SET body = :b WHERE version = 1"),
        {"b": raw.decode("utf-8", errors="replace")},
    )
    session.commit()
    session.expire_all()
    with pytest.raises(BundleTampered):
        bundles.load_verified(bundles.get(session, 1), ring(app).public_keys())


def test_a_recomputed_digest_does_not_hide_tampering(app, session, published) -> None:
    body = json.loads(published.body)
    body["offers"][0]["value"] = 9999
    forged = bundles.canonical_json(body)
    published.body, published.digest = forged.decode(), bundles.digest(forged)
    session.commit()
    with pytest.raises(BundleTampered, match="signature"):
        bundles.load_verified(published, ring(app).public_keys())


def test_a_bundle_signed_by_an_unknown_key_is_refused(app, session, published, tmp_path) -> None:
    stranger = signing.load_or_create_keys(tmp_path / "elsewhere")
    with pytest.raises(BundleTampered):
        bundles.load_verified(published, stranger.public_keys())


def test_the_tampered_bundle_page_warns_instead_of_showing_content(app, session, published) -> None:
    from tests.factories import sign_in_as

    published.body = published.body.replace("Café", "Cafe", 1)
    session.commit()
    client = sign_in_as(app.test_client(), make_user(session, "reviewer"))
    page = client.get("/bundles/1")
    assert page.status_code == 200 and b"failed verification" in page.data


def test_changes_between_revision_maps() -> None:
    assert bundles.changes({"offer:a": 1, "offer:b": 1}, {"offer:a": 2, "offer:c": 1}) == {
        "added": ["offer:c"],
        "changed": ["offer:a"],
        "removed": ["offer:b"],
    }


def test_losing_a_race_to_publish_says_so_instead_of_erroring(app, session, monkeypatch) -> None:
    from sqlalchemy.exc import IntegrityError

    from studio.services import publish as publish_service

    def raced(*_args, **_kwargs):
        raise IntegrityError("INSERT INTO bundles", {}, Exception("duplicate version"))

    monkeypatch.setattr(publish_service, "publish", raced)
    client = sign_in_as(app.test_client(), make_user(session, "reviewer"))
    response = post(client, "/bundles/publish", follow_redirects=True)
    assert response.status_code == 200
    assert b"Someone else published at the same moment" in response.data


def test_publish_page_says_nothing_new_instead_of_an_error_when_all_is_live(
    app, session, published
) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "reviewer"))
    page = client.get("/bundles/publish").get_data(as_text=True)
    assert "Nothing new to publish." in page
    assert f"Nothing was approved since v{published.version}" in page
    assert "1 error" not in page
    assert "Publish now" not in page
    refused = post(client, "/bundles/publish", follow_redirects=True).get_data(as_text=True)
    assert "there is nothing new to publish" in refused
