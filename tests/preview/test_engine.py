"""Preview: the decision with its trace and every variant, including unsaved drafts."""

from __future__ import annotations

from typing import Any

import pytest

from preview import Draft, preview
from preview.engine import Compiler
from tests.factories.samples import demo_offers, demo_workspace, sample_body


@pytest.fixture(scope="module")
def ws():
    return demo_workspace()


def test_the_stolen_card_gets_no_offer_but_the_card_protection_follow_up(ws) -> None:
    result = preview(ws, sample_body("stolen-card-distress"))
    assert result.tone is not None and result.tone.label == "distressed"
    assert result.offers == ()
    assert {g["text"] for g in result.guards} >= {"tone is distressed"}
    assert [f["offer"] for f in result.follow_ups] == ["card_protection_plan"]
    rendered = result.rendered[0]
    assert rendered.role == "follow_up" and "7 days" in rendered.note
    assert set(rendered.variants) == {
        "email_html",
        "email_text",
        "sms",
        "chat",
        "agent",
        "message_center",
    }


def test_a_checkbook_order_is_offered_overdraft_protection_in_every_channel(ws) -> None:
    result = preview(ws, sample_body("checkbook-order"))
    assert [o["offer"] for o in result.offers] == ["overdraft_protection"]
    variants = result.rendered[0].variants
    assert "Never bounce a check again" in variants["email_html"].html
    assert variants["sms"].sms.segments == 1
    assert [b.label for b in variants["chat"].buttons][:1] == ["Turn it on"]


def test_the_trace_names_the_first_failing_condition_with_actual_values(ws) -> None:
    result = preview(ws, sample_body("checkbook-order"), draft=Draft("ruleset", "retail_banking"))
    rows = {row.rule: row for row in result.rulesets[0].trace}
    platinum = rows["Platinum customers can always reach a person"]
    assert not platinum.matched
    assert platinum.failed == "customer.tier is platinum"
    assert platinum.actual == {"customer.tier": "silver"}
    skipped = rows["Card protection a week after a stolen card"]
    assert skipped.failed == 'inquiry.intent is "report_stolen_card"'
    assert skipped.actual == {"inquiry.intent": "order_checkbook"}


def test_an_unsaved_headline_reaches_email_and_sms(ws) -> None:
    body = {**demo_offers()["overdraft_protection"]}
    body["blocks"] = {**body["blocks"], "headline": "Checks that never bounce"}
    body["overrides"] = {**body["overrides"], "sms_text": ""}
    result = preview(
        ws, sample_body("checkbook-order"), draft=Draft("offer", "overdraft_protection", body)
    )
    variants = result.rendered[0].variants
    assert "Checks that never bounce" in variants["email_html"].html
    assert variants["sms"].text.startswith("Checks that never bounce")


def test_an_offer_that_is_not_made_is_still_rendered_with_the_reason(ws) -> None:
    result = preview(
        ws,
        sample_body("anonymous-web-question"),
        draft=Draft("offer", "rewards_card", demo_offers()["rewards_card"]),
    )
    focus = result.rendered[0]
    assert focus.role == "focus" and focus.note.startswith("not offered")
    assert focus.variants["email_html"].html


@pytest.mark.parametrize(
    ("source", "code", "hint"),
    [
        (
            'rule "a"\n  when inquiry.category is transactonal\n  offer overdraft_protection\n',
            "E201",
            "did you mean `transactional`?",
        ),
        ('rule "a"\n  when inquiry.resolved\n  offer no_such_offer\n', "E203", None),
        ('rule "a" when\n', None, None),
    ],
)
def test_a_ruleset_draft_that_does_not_compile_shows_diagnostics_instead(
    ws, source: str, code: str | None, hint: str | None
) -> None:
    result = preview(
        ws,
        sample_body("checkbook-order"),
        draft=Draft("ruleset", "retail_banking", {"name": "x", "source": source}),
    )
    assert result.blocked and result.rendered == ()
    assert result.blocking_title == "This ruleset does not compile yet"
    first = result.blocking[0]
    assert first.line > 0 and first.excerpt
    if code:
        assert first.code == code
    if hint:
        assert first.hint == hint


def test_an_offer_draft_with_a_template_error_shows_the_field_and_line(ws) -> None:
    body = {**demo_offers()["overdraft_protection"]}
    body["blocks"] = {**body["blocks"], "headline": "Hi {{ custmer.name }"}
    result = preview(
        ws, sample_body("checkbook-order"), draft=Draft("offer", "overdraft_protection", body)
    )
    assert result.blocked
    assert any(p.where.startswith("blocks.headline") for p in result.blocking)


def test_a_layout_draft_that_does_not_compile_points_at_the_line(ws) -> None:
    draft = Draft(
        "layout",
        "email_response_footer",
        {"channel": "email_html", "source": "<mjml>\n<mj-body>\n<mj-section>\n</mjml>"},
    )
    result = preview(ws, sample_body("checkbook-order"), draft=draft)
    assert result.blocked and result.blocking_title == "This layout does not compile yet"
    assert any(p.line for p in result.blocking)


def test_a_layout_draft_is_previewed_with_a_sample_offer_when_none_is_made(ws) -> None:
    layout = ws.layouts["promotional_email"]
    head, _, tail = layout["source"].rpartition("{{ offer.headline }}")
    source = f"{head}NEW {{{{ offer.headline }}}}{tail}"
    result = preview(
        ws,
        sample_body("anonymous-web-question"),
        draft=Draft("layout", "promotional_email", {"channel": "email_html", "source": source}),
    )
    assert result.rendered[0].role == "stand_in"
    assert "NEW " in result.rendered[0].variants["email_html"].html
    assert result.layouts["email_html"] == "promotional_email"


@pytest.mark.parametrize(
    "interaction",
    [
        {},
        {"inquiry": {"text": "hello"}},
        {"tone": "distressed"},
    ],
)
def test_an_interaction_missing_fields_or_using_shorthands_gets_a_decision(
    ws, interaction: dict[str, Any]
) -> None:
    result = preview(ws, interaction)
    assert not result.blocked and len(result.rulesets) == len(ws.rulesets)
    assert not result.interaction_problems


def test_a_tone_given_as_a_label_fires_the_distress_guard(ws) -> None:
    body = {**sample_body("checkbook-order"), "tone": "distressed"}
    result = preview(ws, body)
    assert result.interaction["tone"] == {"label": "distressed"}
    assert result.offers == () and result.guards


@pytest.mark.parametrize(
    ("interaction", "field"),
    [
        ({"inquiry": "not an object", "customer": [1, 2], "tone": 3}, "inquiry"),
        ({"inquiry": {"category": "transactonal", "channel": 7}, "custmer": {}}, "custmer"),
    ],
)
def test_a_malformed_interaction_is_refused_naming_the_field(
    ws, interaction: dict[str, Any], field: str
) -> None:
    result = preview(ws, interaction)
    assert result.blocked and result.rulesets == ()
    assert result.blocking_title == "This interaction does not fit the schema"
    assert any(p.where == field for p in result.blocking)


def test_hostile_text_in_a_headline_is_escaped_in_the_email(ws) -> None:
    body = {**demo_offers()["overdraft_protection"]}
    body["blocks"] = {
        **body["blocks"],
        "headline": "<script>alert(1)</script><img src=x onerror=alert(2)>",
    }
    result = preview(
        ws, sample_body("checkbook-order"), draft=Draft("offer", "overdraft_protection", body)
    )
    html = result.rendered[0].variants["email_html"].html
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_compiling_is_memoized_by_text_so_a_keystroke_recompiles_only_the_draft() -> None:
    compiler = Compiler()
    ws = demo_workspace()
    preview(ws, sample_body("checkbook-order"), compiler=compiler)
    compiled = len(compiler.rulesets), len(compiler.offers)
    preview(ws, sample_body("stolen-card-distress"), compiler=compiler)
    assert (len(compiler.rulesets), len(compiler.offers)) == compiled


def test_a_proposed_fix_previews_the_check_in_with_the_offer_gated_on_the_thread(ws) -> None:
    result = preview(ws, sample_body("online-banking-fix-proposed"))
    (check_in,) = [f for f in result.follow_ups if f["offer"] == "check_in"]
    assert check_in["gate_offer"] == "mobile_alerts"
    assert check_in["gate_text"] == "when resolution is confirmed or not reopened within 7 days"
    assert "mobile_alerts" not in [o["offer"] for o in result.offers]


def test_a_preview_on_a_guessed_tone_says_what_live_decisions_make_instead(ws) -> None:
    """The checkbook sample carries only text: the preview reads it as positive (VADER)
    and offers overdraft protection, but `/api/v1/decide` leaves the tone unknown and the
    ruleset's `never offer when tone is unknown` stops the offer there."""
    body = sample_body("checkbook-order")
    assert "tone" not in body
    result = preview(ws, body)
    assert result.tone is not None and result.tone.label == "positive"
    assert [o["offer"] for o in result.offers] == ["overdraft_protection"]
    assert result.live_offers == ()
    given = preview(ws, {**body, "tone": {"label": "positive", "score": 0.6}})
    assert given.live_offers is None and [o["offer"] for o in given.offers] == [
        "overdraft_protection"
    ]
    distressed = preview(ws, sample_body("stolen-card-distress"))
    assert distressed.live_offers is None
