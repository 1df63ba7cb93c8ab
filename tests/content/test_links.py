"""A message's links in every variant: the page, the eleven score links, the survey."""

from __future__ import annotations

from content.channels import RenderContext, render_variants
from content.links import MessageLinks, nps_survey_html
from content.model import Offer

PAGE = "https://m.example/m/AAAAAAAAAAAAAAAAAAAAAA"
SCORES = tuple(f"{PAGE}/nps/{n}?s=sig{n}" for n in range(11))


def _offer() -> Offer:
    return Offer.from_dict(
        {
            "key": "card_plan",
            "name": "Card plan",
            "owner": "Marketing",
            "valid_from": "2026-01-01",
            "valid_to": "2027-01-01",
            "value": 10,
            "blocks": {
                "headline": "Protect your cards",
                "body_html": "<p>One call.</p>",
                "cta_label": "See it",
                "cta_url": "https://bank.example/card",
                "terms": "Terms apply.",
            },
            "overrides": {
                "sms_text": "Protect your cards: {{ message_center_url() }}",
                "chat_text": "Rate us: {{ nps_url(score=9) }} or {{ nps_url() }}",
            },
        }
    )


def test_a_message_replaces_the_placeholder_links_everywhere() -> None:
    context = RenderContext(message=MessageLinks(PAGE, SCORES))
    variants = render_variants(_offer(), {}, context, ["sms", "chat"])
    assert variants["sms"].text == f"Protect your cards: {PAGE}"
    assert variants["sms"].sms is not None
    assert variants["sms"].sms.characters == len(variants["sms"].text)
    assert f"{PAGE}/nps/9?s=sig9" in (variants["chat"].text or "")
    assert f"{PAGE}#nps" in (variants["chat"].text or "")


def test_without_a_survey_the_score_links_lead_to_the_page() -> None:
    links = MessageLinks(PAGE)
    assert not links.survey and links.nps(9) == PAGE and links.nps() == PAGE
    assert str(nps_survey_html(links.nps, asked=False)) == ""


def test_the_survey_has_eleven_escaped_score_links_labelled_at_both_ends() -> None:
    html = str(nps_survey_html(lambda n: f'{PAGE}/nps/{n}?s="x"&a=1'))
    assert html.count("<a href=") == 11
    assert "&#34;x&#34;&amp;a=1" in html and '"x"' not in html
    assert "0 = not at all likely, 10 = extremely likely" in html
