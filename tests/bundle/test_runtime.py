"""Loading a bundle names the part that cannot be run."""

from __future__ import annotations

from typing import Any

import pytest

from bundle.format import FORMAT
from bundle.runtime import BundleLoadError, BundleRuntime

PAGE = "<html><body><p>{{ offer.headline }}</p></body></html>"


def _load(**parts: Any) -> BundleRuntime:
    return BundleRuntime.from_bundle({"format": FORMAT, "version": 1, **parts})


@pytest.mark.parametrize(
    ("layout", "where"),
    [
        ({"key": "page", "channel": "sms", "compiled_html": PAGE}, "layouts[page].channel"),
        ({"key": "page", "channel": "message_center"}, "layouts[page]"),
        ({"channel": "message_center", "compiled_html": PAGE}, "layouts[0]"),
    ],
)
def test_a_layout_that_cannot_be_used_is_named(layout: dict[str, Any], where: str) -> None:
    with pytest.raises(BundleLoadError) as caught:
        _load(layouts=[layout])
    assert caught.value.where == where


def test_layouts_load_with_their_channel_default() -> None:
    runtime = _load(
        layouts=[
            {"key": "page", "channel": "message_center", "html": PAGE},
            {"key": "other", "name": "Other", "channel": "message_center", "compiled_html": PAGE},
        ],
        default_layouts={"message_center": "other"},
    )
    assert runtime.layouts["page"].name == "page" and runtime.layouts["page"].compiled_html == PAGE
    assert runtime.default_layouts == {"message_center": "other"}


def test_another_format_is_refused() -> None:
    with pytest.raises(BundleLoadError) as caught:
        BundleRuntime.from_bundle({"format": "pos-studio-bundle/2", "version": 1})
    assert caught.value.where == "format"


AT = "2026-06-01T00:00:00Z"
RULES_IR_SOURCE = 'never offer when tone is distressed\nrule "always" offer gift\n'


def _deciding() -> BundleRuntime:
    import dsl

    compiled = dsl.compile_ruleset(RULES_IR_SOURCE, offers={"gift": None}, name="r")
    assert compiled.ok
    return _load(
        rulesets=[{"key": "r", "ir": compiled.ir}],
        offers=[
            {
                "key": "gift",
                "name": "Gift",
                "owner": "m@example.com",
                "valid_from": "2026-01-01",
                "blocks": {"headline": "A gift"},
            }
        ],
        lexicon={"distress": ["lost my job"]},
    )


def test_a_malformed_interaction_is_refused_with_every_field() -> None:
    from bundle.runtime import InvalidInteraction

    with pytest.raises(InvalidInteraction) as caught:
        _deciding().decide({"tone": {"label": "furious"}, "custmer": {}}, channels=())
    assert sorted(p.field for p in caught.value.problems) == [
        "interaction.custmer",
        "interaction.tone.label",
    ]


def test_allow_invalid_decides_and_records_it() -> None:
    decision = _deciding().decide({"at": AT, "custmer": {}}, channels=(), allow_invalid=True)
    assert [o["offer"] for o in decision["offers"]] == ["gift"]
    assert decision["interaction"]["allowed_invalid"] is True
    assert decision["interaction"]["problems"][0]["field"] == "interaction.custmer"


def test_a_tone_label_string_and_the_bundle_lexicon_both_stop_the_offer() -> None:
    runtime = _deciding()
    assert runtime.decide({"tone": "distressed"}, channels=())["offers"] == []
    inferred = runtime.decide({"inquiry": {"text": "I lost my job"}}, channels=())
    assert (
        inferred["offers"] == []
        and inferred["interaction"]["inferred_tone"]["label"] == "distressed"
    )
    assert runtime.decide({"at": AT, "inquiry": {"text": "all good"}}, channels=())["offers"]
