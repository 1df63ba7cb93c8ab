"""The bundle's one byte form and its content address."""

from __future__ import annotations

import hashlib

import pytest

from bundle.format import Signature, canonical_json, digest


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert (
        canonical_json({"b": 1, "a": ["é", {"d": None, "c": 1.5}]})
        == '{"a":["é",{"c":1.5,"d":null}],"b":1}'.encode()
    )


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_equal_documents_have_equal_bytes_whatever_their_key_order() -> None:
    assert canonical_json({"a": 1, "b": {"y": 2, "x": 1}}) == canonical_json(
        {"b": {"x": 1, "y": 2}, "a": 1}
    )


def test_the_digest_is_the_sha256_hex_of_the_bytes() -> None:
    data = canonical_json({"format": "pos-studio-bundle/1", "version": 3})
    assert digest(data) == hashlib.sha256(data).hexdigest()


def test_a_signature_header_names_the_key_and_the_signature() -> None:
    assert Signature("3590f7f57a859660", "c2ln").header() == "keyid=3590f7f57a859660,sig=c2ln"
