"""Verification refuses any doubt, with a code a program can act on."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundle.format import FORMAT, Signature, canonical_json, digest
from bundle.signing import key_id_for, public_key_entry, raw_public_key, sign
from bundle.verify import (
    REJECTION_CODES,
    BundleRejected,
    parse_signature_header,
    signature_is_valid,
    verify_bundle,
)

KEY = Ed25519PrivateKey.generate()
TRUSTED = [public_key_entry(KEY.public_key())]
DATA = canonical_json({"format": FORMAT, "version": 7, "offers": []})


def _rejection(data: bytes, signature: Signature, keys: Any = TRUSTED, **kw: Any) -> str:
    with pytest.raises(BundleRejected) as caught:
        verify_bundle(data, signature, keys, **kw)
    assert caught.value.code in REJECTION_CODES
    return caught.value.code


def test_a_signed_bundle_verifies_with_its_digest_and_version() -> None:
    verified = verify_bundle(DATA, sign(DATA, KEY), TRUSTED, expected_digest=digest(DATA))
    assert verified.version == 7 and verified.digest == digest(DATA) and verified.data == DATA


def test_a_key_id_is_sixteen_hex_digits_of_the_public_keys_sha256() -> None:
    key_id = key_id_for(raw_public_key(KEY.public_key()))
    assert len(key_id) == 16 and sign(DATA, KEY).key_id == key_id == TRUSTED[0]["key_id"]
    assert TRUSTED[0]["algorithm"] == "Ed25519"


def test_one_changed_byte_is_refused() -> None:
    signature = sign(DATA, KEY)
    changed = DATA.replace(b'"version":7', b'"version":8')
    assert _rejection(changed, signature) == "bad-signature"
    assert _rejection(changed, signature, expected_digest=digest(DATA)) == "digest-mismatch"


@pytest.mark.parametrize(
    ("keys", "code"),
    [
        ([], "untrusted-key"),
        ([{**TRUSTED[0], "algorithm": "RSA"}], "untrusted-key"),
        ([{**TRUSTED[0], "public_key": "not base64!"}], "invalid-key"),
    ],
)
def test_a_signature_by_a_key_not_trusted_as_ed25519_is_refused(keys: Any, code: str) -> None:
    assert _rejection(DATA, sign(DATA, KEY), keys) == code


def test_a_signature_by_another_key_under_the_trusted_id_is_refused() -> None:
    forged = Signature(TRUSTED[0]["key_id"], sign(DATA, Ed25519PrivateKey.generate()).value)
    assert _rejection(DATA, forged) == "bad-signature"
    assert not signature_is_valid(DATA, forged, TRUSTED)
    assert signature_is_valid(DATA, sign(DATA, KEY), TRUSTED)


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (b"not json", "not-json"),
        (canonical_json({"format": "other/1", "version": 1}), "not-a-bundle"),
        (canonical_json({"format": FORMAT, "version": "1"}), "not-a-bundle"),
        (canonical_json([FORMAT]), "not-a-bundle"),
    ],
)
def test_a_well_signed_document_that_is_not_a_bundle_is_refused(document: bytes, code: str) -> None:
    assert _rejection(document, sign(document, KEY)) == code


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "missing-signature"),
        ("  ", "missing-signature"),
        ("keyid", "malformed-signature"),
        ("keyid=abc", "malformed-signature"),
        ("keyid=,sig=abc", "malformed-signature"),
    ],
)
def test_a_missing_or_malformed_signature_header_is_refused(header: str | None, code: str) -> None:
    with pytest.raises(BundleRejected) as caught:
        parse_signature_header(header)
    assert caught.value.code == code


def test_the_signature_header_round_trips() -> None:
    signature = sign(DATA, KEY)
    assert parse_signature_header(f" {signature.header()} ") == signature
    assert base64.b64decode(signature.value, validate=True)
