"""An offer's "feedback on feedback" note: short plain text, never a template or HTML."""

from __future__ import annotations

import pytest

from content.diagnostics import ContentError
from content.model import Offer
from tests.factories.reviews import offer_body


def test_the_note_is_kept_as_plain_text_without_hidden_characters() -> None:
    offer = Offer.from_dict(
        offer_body("half_off", feedback_note=" We heard you:\u202e <b>24h</b>\x07 ")
    )
    assert offer.feedback_note == "We heard you: <b>24h</b>"
    assert Offer.from_dict(offer.to_dict()).feedback_note == offer.feedback_note


def test_an_offer_without_a_note_serializes_as_before() -> None:
    assert "feedback_note" not in Offer.from_dict(offer_body("half_off")).to_dict()


def test_a_note_over_280_characters_is_refused_at_its_field() -> None:
    with pytest.raises(ContentError) as refused:
        Offer.from_dict(offer_body("half_off", feedback_note="x" * 281))
    assert [d.field for d in refused.value.diagnostics] == ["feedback_note"]
