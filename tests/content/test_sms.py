from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.sms import GSM7_BASIC, GSM7_EXTENSION, analyze_sms


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("Hello", "GSM-7", 5, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),
        ("€" * 81, "GSM-7", 162, 2),
        ("a" * 152 + "€" + "a" * 10, "GSM-7", 164, 2),
        ("Price: {10} [ok] ~ ^ | \\", "GSM-7", 32, 1),
        ("Café Ñandu à è é ù ì ò", "GSM-7", 22, 1),
        ("Ñandú", "UCS-2", 5, 1),
        ("It’s here", "UCS-2", 9, 1),
        ("ü" * 10 + "ç", "UCS-2", 11, 1),
        ("ж" * 70, "UCS-2", 70, 1),
        ("ж" * 71, "UCS-2", 71, 2),
        ("ж" * 134, "UCS-2", 134, 2),
        ("ж" * 135, "UCS-2", 135, 3),
        ("🎉" * 35, "UCS-2", 70, 1),
        ("🎉" * 36, "UCS-2", 72, 2),
    ],
)
def test_encoding_units_and_segments(text: str, encoding: str, units: int, segments: int) -> None:
    info = analyze_sms(text)
    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)
    assert info.characters == len(text)


def test_a_part_never_splits_an_escape_pair() -> None:
    # 152 septets then a two-septet euro: the euro starts the second part.
    assert analyze_sms("a" * 152 + "€" + "a" * 152).segments == 3


def test_more_than_one_segment_warns() -> None:
    info = analyze_sms("x" * 200, field="overrides.sms_text")
    assert [w.code for w in info.warnings] == ["sms-segments"]
    assert info.warnings[0].field == "overrides.sms_text"
    assert info.per_segment == 153


def test_ucs2_names_the_characters_to_blame() -> None:
    info = analyze_sms("Don’t miss it")
    assert info.non_gsm == ("’",)
    assert info.warnings[0].code == "sms-ucs2"


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=500))
def test_gsm_text_fits_in_its_segments(text: str) -> None:
    info = analyze_sms(text)
    assert info.encoding == "GSM-7"
    assert info.units <= max(info.segments, 1) * 160
    assert info.segments == 0 or info.units > (info.segments - 1) * 153 - 1


@given(st.text(max_size=300))
def test_any_text_is_analyzed(text: str) -> None:
    info = analyze_sms(text)
    assert info.segments >= (1 if text else 0)


def test_control_and_bidi_characters_a_template_inserts_are_removed_and_counted_out() -> None:
    from content.channels import RenderContext, render_variants
    from tests.content.conftest import make_offer

    offer = make_offer(overrides={"sms_text": "Hi {{ customer.first_name }}, see you"})
    context = RenderContext(customer={"first_name": "Ann\u202e\u2066\x00\x1b[2J"})
    sms = render_variants(offer, {}, context, ["sms"])["sms"]
    assert sms.text is not None and sms.text.startswith("Hi Ann[2J, see you")
    assert sms.sms is not None and sms.sms.encoding == "GSM-7"
    assert sms.sms.characters == len(sms.text)
