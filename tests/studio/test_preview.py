"""The preview pane in the editors and on sample pages, its frames, and the matrix."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from studio.services import offers
from tests.factories import make_user, post, sign_in_as
from tests.factories.samples import demo_offers, seed_preview_workspace

HX = {"HX-Request": "true"}


@pytest.fixture
def both(app: Flask, session) -> FlaskClient:
    """Someone who is both marketer and service lead, in a small seeded workspace."""
    user = make_user(session, "marketer", "service_lead", name="Omar Haddad")
    seed_preview_workspace(session, user)
    return sign_in_as(app.test_client(), user)


def _pane(client: FlaskClient, url: str, data: dict[str, str] | None = None) -> str:
    response = post(client, url, {"part": "result", **(data or {})}, headers=HX)
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    return response.get_data(as_text=True)


def test_the_stolen_card_shows_the_distress_guard_and_the_card_protection_follow_up(both) -> None:
    html = _pane(
        both, "/preview/samples", {"part": "pane", "preview_sample": "stolen-card-distress"}
    )
    assert 'id="preview-controls"' in html
    assert "never offer when tone is distressed" in html
    assert "card_protection_plan</strong> after 7 days" in html
    assert "inferred from the text" in html and "“stolen”" in html
    assert html.count('sandbox=""') >= 3


def test_a_preview_on_a_guessed_tone_warns_that_live_decisions_make_no_offer(both) -> None:
    html = _pane(both, "/preview/samples", {"part": "pane", "preview_sample": "checkbook-order"})
    assert "guessed from the text by the preview only" in html
    assert "Live decisions differ." in html and "so they make no offer" in html


def test_the_offer_editor_preview_follows_an_unsaved_headline(both) -> None:
    form = offers.form_from_body("overdraft_protection", demo_offers()["overdraft_protection"])
    fields = {k: v for k, v in form.items() if k != "buttons"}
    fields.update(
        {
            "blocks.headline": "Brand new headline",
            "overrides.sms_text": "",
            "preview_sample": "checkbook-order",
        }
    )
    html = _pane(both, "/preview/offers/overdraft_protection", fields)
    assert "Brand new headline" in html and "from your unsaved edits" in html
    doc = re.search(r"/preview/documents/([\w-]+)", html).group(1)
    email = both.get(f"/preview/documents/{doc}")
    assert "Brand new headline" in email.get_data(as_text=True)


def test_a_new_offer_pane_starts_on_a_sample_where_the_offer_is_made(both) -> None:
    html = _pane(both, "/preview/offers/overdraft_protection", {"part": "pane"})
    assert '<option value="checkbook-order" selected>' in html


def test_a_ruleset_typo_shows_the_diagnostic_with_its_suggestion_in_place(both) -> None:
    html = _pane(
        both,
        "/preview/rules/retail_banking",
        {
            "name": "Retail banking",
            "preview_sample": "checkbook-order",
            "source": 'rule "x"\n  when inquiry.category is transactonal\n  offer overdraft_protection\n',
        },
    )
    assert "This ruleset does not compile yet" in html
    assert "did you mean `transactional`?" in html and "Decision" not in html


def test_an_unknown_offer_in_a_rule_is_reported_where_the_author_looks(both) -> None:
    html = _pane(
        both,
        "/preview/rules/retail_banking",
        {"source": 'rule "x"\n  when inquiry.resolved\n  offer gold_bars\n'},
    )
    assert "there is no offer `gold_bars`" in html


def test_a_template_error_in_an_offer_draft_is_shown_not_raised(both) -> None:
    form = offers.form_from_body("overdraft_protection", demo_offers()["overdraft_protection"])
    fields = {k: v for k, v in form.items() if k != "buttons"}
    fields["blocks.headline"] = "Hello {% if %}"
    html = _pane(both, "/preview/offers/overdraft_protection", fields)
    assert "This offer does not validate yet" in html and "blocks.headline" in html


def test_invalid_sample_json_edited_in_the_pane_is_a_message(both) -> None:
    html = _pane(
        both,
        "/preview/samples",
        {
            "preview_sample": "checkbook-order",
            "preview_loaded": "checkbook-order",
            "preview_interaction": '{"inquiry": ',
        },
    )
    assert "not valid JSON" in html and "line 1" in html


def test_a_sample_edited_in_the_pane_is_previewed_without_being_saved(both, session) -> None:
    html = _pane(
        both,
        "/preview/samples",
        {
            "preview_sample": "checkbook-order",
            "preview_loaded": "checkbook-order",
            "preview_interaction": '{"inquiry": {"text": "My husband died"}}',
        },
    )
    assert "distressed" in html.lower()
    from studio.services import samples

    assert "died" not in str(samples.get(session, "checkbook-order").body)


def test_choosing_another_sample_refills_the_editor_box_out_of_band(both) -> None:
    html = _pane(
        both,
        "/preview/samples",
        {
            "preview_sample": "hotel-complaint",
            "preview_loaded": "checkbook-order",
            "preview_interaction": "{}",
        },
    )
    assert 'hx-swap-oob="true"' in html and "room_issue" in html


def test_an_interaction_missing_most_fields_still_gets_a_preview(both) -> None:
    html = _pane(
        both,
        "/preview/samples",
        {
            "preview_sample": "checkbook-order",
            "preview_loaded": "checkbook-order",
            "preview_interaction": '{"tone": "neutral"}',
        },
    )
    assert "Decision" in html and "This interaction does not fit the schema" not in html


def test_a_field_that_does_not_fit_the_schema_is_shown_instead_of_a_decision(both) -> None:
    html = _pane(
        both,
        "/preview/samples",
        {
            "preview_sample": "checkbook-order",
            "preview_loaded": "checkbook-order",
            "preview_interaction": '{"custmer": 1}',
        },
    )
    assert "This interaction does not fit the schema" in html and "custmer" in html
    assert "Offers made" not in html


def test_a_layout_draft_that_does_not_compile_shows_its_line(both) -> None:
    html = _pane(
        both,
        "/preview/layouts/promotional_email",
        {"name": "Promo", "channel": "email_html", "source": "<mjml>\n<mj-body>\n</mjml>"},
    )
    assert "This layout does not compile yet" in html and "line" in html


def test_a_layout_pane_opens_on_a_sample_that_gets_an_offer_drawn_in_that_layout(
    both,
) -> None:
    html = _pane(both, "/preview/layouts/promotional_email", {"part": "pane"})
    chosen = re.search(r'<option value="([^"]+)" selected>', html)
    assert chosen is not None and chosen.group(1) != "web-product-question"
    assert "Nothing is offered or scheduled" not in html and "data-preview-frame" in html
    assert re.search(r'<option value="promotional_email"[^>]*selected', html), "the layout shown"


def test_unknown_artifacts_are_404_and_wrong_roles_403_never_500(app: Flask, session, both) -> None:
    assert post(both, "/preview/offers/nope", {"part": "pane"}, headers=HX).status_code == 404
    assert post(both, "/preview/rules/nope", {}, headers=HX).status_code == 404
    marketer = sign_in_as(app.test_client(), make_user(session, "marketer"))
    assert post(marketer, "/preview/rules/retail_banking", {}).status_code == 403
    reviewer = sign_in_as(app.test_client(), make_user(session, "reviewer"))
    assert post(reviewer, "/preview/samples", {}).status_code == 403


def test_a_rendered_email_is_its_own_document_under_a_strict_policy_for_its_owner_only(
    app: Flask, session, both
) -> None:
    html = _pane(both, "/preview/samples", {"preview_sample": "checkbook-order"})
    doc = re.search(r"/preview/documents/([\w-]+)", html).group(1)
    response = both.get(f"/preview/documents/{doc}")
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'") and policy.endswith("sandbox")
    assert "script-src" not in policy
    other = sign_in_as(app.test_client(), make_user(session, "marketer"))
    assert "expired" in other.get(f"/preview/documents/{doc}").get_data(as_text=True)


def test_the_editors_carry_the_preview_pane(both) -> None:
    for url in (
        "/offers/overdraft_protection/edit",
        "/layouts/promotional_email",
        "/rules/retail_banking",
        "/interactions/stolen-card-distress",
    ):
        assert 'id="preview-pane"' in both.get(url).get_data(as_text=True), url


def test_without_samples_the_pane_says_how_to_add_one(app: Flask, session) -> None:
    user = make_user(session, "service_lead")
    seed_preview_workspace(session, user, offers=("overdraft_protection",), samples=False)
    client = sign_in_as(app.test_client(), user)
    assert "No sample interactions yet." in _pane(client, "/preview/rules/retail_banking")


def test_the_matrix_grids_a_ruleset_and_links_each_row_to_its_preview(both) -> None:
    html = both.get("/interactions/matrix?ruleset=retail_banking").get_data(as_text=True)
    assert "overdraft_protection" in html and "guard: never offer when tone is distressed" in html
    assert "/interactions/checkbook-order?ruleset=retail_banking" in html
    page = both.get("/interactions/checkbook-order?ruleset=retail_banking").get_data(as_text=True)
    assert '"focus_kind": "ruleset"' in page


def test_the_matrix_for_an_offer_and_for_unknown_keys(both) -> None:
    html = both.get("/interactions/matrix?offer=card_protection_plan", headers=HX).get_data(
        as_text=True
    )
    assert "card_protection_plan after 7 days" in html and "<html" not in html
    missing = both.get("/interactions/matrix?offer=gold_bars")
    assert missing.status_code == 200
    assert "There is no offer with the key gold_bars" in missing.get_data(as_text=True)
    assert "Choose a ruleset or an offer" in both.get("/interactions/matrix").get_data(as_text=True)


def _many_rules(count: int) -> str:
    rules = [
        f'rule "Never {n}"\n  when inquiry.intent is "intent_{n}"\n  offer overdraft_protection\n'
        for n in range(count)
    ]
    matching = 'rule "Checkbook"\n  when inquiry.intent is "order_checkbook"\n  offer overdraft_protection\n'
    return "\n".join([*rules[:60], matching, *rules[60:]])


def test_a_long_trace_lists_what_matched_and_the_first_hundred_others_then_offers_all(
    both,
) -> None:
    draft = {"name": "Many", "preview_sample": "checkbook-order", "source": _many_rules(150)}
    html = _pane(both, "/preview/rules/retail_banking", draft)
    assert html.count("no match</span>") == 100
    assert "Checkbook" in html and "matched</span>" in html
    assert "50 more rules did not match (the first 100 are listed)." in html
    assert "Show all 151 rules" in html and '"trace": "all"' in html

    whole = _pane(both, "/preview/rules/retail_banking", {**draft, "trace": "all"})
    assert whole.count("no match</span>") == 150
    assert "more rules did not match" not in whole


def test_a_short_trace_is_listed_whole_without_a_show_all_button(both) -> None:
    draft = {"name": "Few", "preview_sample": "checkbook-order", "source": _many_rules(20)}
    html = _pane(both, "/preview/rules/retail_banking", draft)
    assert html.count("no match</span>") == 20
    assert "Show all" not in html
