"""Tone inference: VADER for polarity, the service team's lexicon for distress."""

from __future__ import annotations

import pytest

from preview.tone import DISTRESS_CEILING, Lexicon, infer_tone, lexicon_problems, with_inferred_tone


def test_a_distress_term_makes_the_tone_distressed_whatever_the_politeness() -> None:
    tone = infer_tone("Thank you so much, you are lovely. My wallet was stolen.")
    assert tone.label == "distressed"
    assert tone.score <= DISTRESS_CEILING
    assert tone.words[0] == "stolen" and tone.distress == ("stolen",)


@pytest.mark.parametrize(
    ("text", "label", "word"),
    [
        ("Thanks, that was quick and great!", "positive", "great"),
        ("This is unacceptable, I am furious.", "negative", "furious"),
        ("What is my daily transfer limit?", "neutral", None),
    ],
)
def test_without_distress_vader_decides_and_names_the_words(
    text: str, label: str, word: str | None
) -> None:
    tone = infer_tone(text)
    assert tone.label == label
    assert (word in tone.words) if word else tone.words == ()


def test_terms_match_whole_words_phrases_and_wildcards_ignoring_case() -> None:
    lexicon = Lexicon(("dead", "passed away", "scam*"))
    assert infer_tone("The deadline moved.", lexicon).label != "distressed"
    assert infer_tone("My father PASSED   away last week.", lexicon).distress == ("passed away",)
    assert infer_tone("I think I was scammed.", lexicon).distress == ("scammed",)


def test_an_interaction_with_a_tone_keeps_it_and_one_without_text_gets_none() -> None:
    given = {"inquiry": {"text": "stolen"}, "tone": {"label": "positive", "score": 0.5}}
    assert with_inferred_tone(given) == (given, None)
    assert with_inferred_tone({"inquiry": {"channel": "chat"}})[1] is None


def test_text_without_a_tone_gets_the_inferred_tone_in_the_schemas_shape() -> None:
    filled, tone = with_inferred_tone({"inquiry": {"text": "I was assaulted"}})
    assert tone is not None and filled["tone"]["label"] == "distressed"
    assert set(filled["tone"]) == {"label", "score", "words"}


def test_the_editor_is_told_which_terms_cannot_be_used() -> None:
    problems = dict(lexicon_problems(["stolen", "Stolen", "<script>", "x" * 61]))
    assert problems[1] == "is listed twice"
    assert "letters" in problems[2] and "longer" in problems[3]


def test_a_damaged_stored_lexicon_falls_back_instead_of_failing() -> None:
    assert Lexicon.from_dict(None) == Lexicon()
    assert Lexicon.from_dict({"distress": "stolen"}) == Lexicon()
    assert Lexicon.from_dict({"distress": ["ok", 3, "<b>"]}).distress == ("ok",)
