"""Ed25519 keys in the instance folder: made once, private, rotatable, checkable by clients."""

from __future__ import annotations

import base64
import stat

from studio.services import signing


def test_keys_are_made_once_private_and_reused(tmp_path) -> None:
    first = signing.load_or_create_keys(tmp_path)
    files = list((tmp_path / "signing").glob("*.pem"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    signing._cache.clear()
    again = signing.load_or_create_keys(tmp_path)
    assert again.public_keys() == first.public_keys()


def test_a_signature_verifies_with_only_the_public_key_list(tmp_path) -> None:
    ring = signing.load_or_create_keys(tmp_path)
    key_id, signature = ring.sign(b"bundle bytes")
    keys = ring.public_keys()
    assert keys[0]["algorithm"] == "Ed25519"
    assert len(base64.b64decode(keys[0]["public_key"])) == 32
    assert signing.verify(b"bundle bytes", key_id, signature, keys)
    assert not signing.verify(b"bundle bytez", key_id, signature, keys)
    assert not signing.verify(b"bundle bytes", "0000000000000000", signature, keys)
    assert not signing.verify(b"bundle bytes", key_id, "not base64!", keys)


def test_after_rotation_new_bundles_use_the_new_key_and_old_ones_still_verify(tmp_path) -> None:
    ring = signing.load_or_create_keys(tmp_path)
    old_id, old_sig = ring.sign(b"v1")
    rotated = signing.rotate(tmp_path)
    new_id, _ = rotated.sign(b"v2")
    assert new_id != old_id and len(rotated.public_keys()) == 2
    assert rotated.verify(b"v1", old_id, old_sig)


def test_signing_and_published_keys_use_the_given_instance_folder(app) -> None:
    key_id, signature = signing.sign(b"x", instance_path=app.instance_path)
    assert signing.verify(
        b"x", key_id, signature, signing.public_keys(instance_path=app.instance_path)
    )
