"""Marketers upload images once and reuse them; the studio trusts the bytes, not the name."""

from __future__ import annotations

import io

import pytest
from flask import Flask

from studio.models import Asset
from studio.services import assets
from tests.factories import make_user, post, sign_in_as
from tests.factories.offers import image_bytes

HOSTILE_SVG = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="60" height="30" onload="alert(1)">
  <script>alert(2)</script>
  <rect width="60" height="30" fill="#0b6bcb" style="fill:url(https://evil.example/x)"/>
  <a xlink:href="javascript:alert(3)"><text x="4" y="20">Hi</text></a>
  <foreignObject><body xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="alert(4)"/></body></foreignObject>
  <use href="https://evil.example/sprite.svg#a"/>
  <circle cx="10" cy="10" r="5" fill="url(#grad)"/>
</svg>"""


@pytest.fixture
def marketer(app: Flask, session):
    user = make_user(session, "marketer")
    return sign_in_as(app.test_client(), user), user


def _upload(client, data: bytes, filename: str = "banner.png", content_type: str = "image/png"):
    return post(
        client,
        "/assets/",
        {"file": (io.BytesIO(data), filename, content_type)},
        content_type="multipart/form-data",
    )


def test_empty_library_says_how_to_start(marketer) -> None:
    client, _ = marketer
    assert "No images yet." in client.get("/assets/").get_data(as_text=True)


def test_an_uploaded_png_is_stored_with_its_real_size_and_served_safely(marketer, session) -> None:
    client, _ = marketer
    data = image_bytes(64, 32)
    assert _upload(client, data).status_code == 302
    asset = session.query(Asset).one()
    assert (asset.width, asset.height, asset.content_type) == (64, 32, "image/png")
    url = assets.url_for_asset(asset)
    assert url in client.get("/assets/").get_data(as_text=True)
    response = client.get(url)
    assert response.data == data and response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "immutable" in response.headers["Cache-Control"]
    assert "sandbox" in response.headers["Content-Security-Policy"]
    again = client.get(url, headers={"If-None-Match": f'"{asset.sha256}"'})
    assert again.status_code == 304


def test_assets_are_served_to_people_who_are_not_signed_in(app: Flask, marketer, session) -> None:
    client, _ = marketer
    _upload(client, image_bytes())
    url = assets.url_for_asset(session.query(Asset).one())
    assert app.test_client().get(url).status_code == 200


def test_the_type_comes_from_the_bytes_not_the_name(marketer, session) -> None:
    client, _ = marketer
    _upload(client, image_bytes(kind="JPEG"), filename="photo.png", content_type="image/png")
    asset = session.query(Asset).one()
    assert asset.content_type == "image/jpeg" and asset.filename == "photo.jpg"


def test_uploading_the_same_image_twice_keeps_one_copy(marketer, session) -> None:
    client, _ = marketer
    _upload(client, image_bytes(), "a.png")
    _upload(client, image_bytes(), "b.png")
    assert session.query(Asset).count() == 1
    assert "already in the library" in client.get("/assets/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        pytest.param(b"just some text", "notes.png", "not an image", id="text-named-png"),
        pytest.param(
            b"<html><script>alert(1)</script></html>",
            "page.png",
            "not an image",
            id="html-claiming-png",
        ),
        pytest.param(image_bytes(400, 400)[:80], "cut.png", "damaged", id="truncated-png"),
        pytest.param(
            b"\x89PNG\r\n\x1a\n" + b"\0" * (assets.MAX_BYTES + 10),
            "huge.png",
            "at most 5 MB",
            id="over-the-cap",
        ),
        pytest.param(
            b'<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg"/>',
            "entity.svg",
            "DOCTYPE",
            id="svg-with-entities",
        ),
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>',
            "nosize.svg",
            "no size",
            id="svg-without-size",
        ),
    ],
)
def test_uploads_that_are_not_usable_images_are_refused_next_to_the_field(
    marketer, session, data, filename, message
) -> None:
    client, _ = marketer
    response = _upload(client, data, filename)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="f-file-error"' in html and message in html
    assert session.query(Asset).count() == 0


def test_an_upload_without_a_file_is_refused(marketer) -> None:
    client, _ = marketer
    response = post(client, "/assets/", {}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose an image file" in response.get_data(as_text=True)


def test_svg_is_rebuilt_without_anything_that_could_run_or_fetch(marketer, session) -> None:
    client, _ = marketer
    assert _upload(client, HOSTILE_SVG, "logo.svg", "image/svg+xml").status_code == 302
    asset = session.query(Asset).one()
    svg = asset.data.decode()
    assert (asset.width, asset.height, asset.content_type) == (60, 30, "image/svg+xml")
    for gone in ("script", "onload", "javascript", "foreignObject", "onerror", "evil.example"):
        assert gone not in svg
    assert "<rect" in svg and 'fill="url(#grad)"' in svg and ">Hi<" not in svg
    assert client.get(assets.url_for_asset(asset)).mimetype == "image/svg+xml"


@pytest.mark.parametrize(
    "path",
    [
        "/assets/" + "0" * 64 + ".png",
        "/assets/not-a-hash.png",
    ],
)
def test_unknown_asset_addresses_are_not_found(marketer, path) -> None:
    client, _ = marketer
    assert client.get(path).status_code == 404


def test_an_asset_is_only_served_under_its_own_extension(marketer, session) -> None:
    client, _ = marketer
    _upload(client, image_bytes())
    asset = session.query(Asset).one()
    assert client.get(f"/assets/{asset.sha256}.svg").status_code == 404


def test_the_picker_offers_library_images_for_the_editor(marketer) -> None:
    client, _ = marketer
    _upload(client, image_bytes(), "summer-sale.png")
    html = client.get("/assets/picker?target=editor").get_data(as_text=True)
    assert 'data-target="editor"' in html and 'data-asset-alt="summer sale"' in html
    assert "<html" not in html


def test_the_library_is_searched_and_paginated(marketer) -> None:
    client, _ = marketer
    for n in range(26):
        _upload(client, image_bytes(10 + n, 10), f"img-{n:02d}.png")
    first = client.get("/assets/").get_data(as_text=True)
    assert "Page 1 of 2" in first
    found = client.get("/assets/?q=img-07", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "img-07.png" in found and "img-08.png" not in found


def test_only_marketers_upload(app: Flask, session) -> None:
    client = sign_in_as(app.test_client(), make_user(session, "service_lead"))
    assert _upload(client, image_bytes()).status_code == 403
    assert session.query(Asset).count() == 0
