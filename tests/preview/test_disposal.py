"""The preview and the matrix show the decision after the workspace contact policy."""

from __future__ import annotations

import pytest

from preview import Draft, Sample, preview, run_matrix
from studio.demo.samples import demo_samples
from tests.factories.samples import demo_workspace, sample_body

TWO_PHARMACIES = """
never offer when tone is unknown
rule "Refill savings" when inquiry.intent is "refill_prescription" offer refill_savings priority 50
"""
REMINDERS = """
never offer when tone is unknown
rule "Reminders" when inquiry.intent is "refill_prescription" offer mobile_alerts priority 40
"""


def _ws(policy: str | None = "at most 1 offer per response\n", **changes):
    rulesets = {
        "pharmacy": {"name": "Pharmacy", "source": TWO_PHARMACIES},
        "reminders": {"name": "Reminders", "source": REMINDERS},
    }
    return demo_workspace(
        rulesets=rulesets, policy={"source": policy} if policy is not None else None, **changes
    )


def test_a_candidate_over_at_most_one_per_response_is_removed_with_the_policy_line() -> None:
    result = preview(_ws(), sample_body("pharmacy-refill-8pct"))
    assert [(o["offer"], o["ruleset"]) for o in result.offers] == [("refill_savings", "pharmacy")]
    assert result.final is not None and result.final.applied
    [removed] = result.final.removed
    assert removed["offer"] == "mobile_alerts" and removed["ruleset"] == "reminders"
    assert removed["ruleset_name"] == "Reminders" and removed["rule"] == "Reminders"
    assert (removed["line"], removed["text"]) == (1, "at most 1 offer per response")
    assert removed["reason"] == "over at most 1 per response"
    assert [r.key for r in result.rendered] == ["refill_savings"]


def test_without_a_policy_the_customer_gets_every_rulesets_offer() -> None:
    result = preview(_ws(policy=None), sample_body("pharmacy-refill-8pct"))
    assert {o["offer"] for o in result.offers} == {"refill_savings", "mobile_alerts"}
    assert result.final is not None and not result.final.applied and not result.final.removed


def test_a_policy_guard_removes_every_candidate_and_says_which_line() -> None:
    policy = "# distress first\nnever offer when inquiry.channel is sms\n"
    result = preview(_ws(policy), sample_body("pharmacy-refill-8pct"))
    assert result.offers == ()
    assert {r["line"] for r in result.final.removed} == {2}
    assert [g["text"] for g in result.final.guards] == ["never offer when inquiry.channel is sms"]


def test_a_cap_counts_what_the_sample_carries_in_recent_offers() -> None:
    body = sample_body("pharmacy-refill-8pct")
    body = {
        **body,
        "customer": {
            **body["customer"],
            "recent_offers": [{"offer": "refill_savings", "at": "2026-11-18T09:00:00Z"}],
        },
    }
    policy = "limit refill_savings to 1 per customer per 7 days\n"
    result = preview(_ws(policy), body)
    assert [o["offer"] for o in result.offers] == ["mobile_alerts"]
    assert [(r["offer"], r["line"]) for r in result.final.removed] == [("refill_savings", 1)]


def test_the_fallback_is_what_the_customer_gets_when_nothing_qualifies() -> None:
    result = preview(_ws("when nothing qualifies offer check_in\n"), sample_body("hotel-complaint"))
    assert [o["offer"] for o in result.offers] == ["check_in"]
    assert result.offers[0]["fallback"] is True
    assert "fallback" in result.rendered[0].note


def test_a_draft_policy_is_applied_in_place_of_the_saved_one() -> None:
    draft = Draft("policy", "contact", {"source": "at most 2 offers per response\n"})
    result = preview(_ws(), sample_body("pharmacy-refill-8pct"), draft=draft)
    assert {o["offer"] for o in result.offers} == {"refill_savings", "mobile_alerts"}


def test_a_draft_policy_that_does_not_compile_blocks_the_preview_with_its_diagnostics() -> None:
    draft = Draft("policy", "contact", {"source": "at most lots of offers per response\n"})
    result = preview(_ws(), sample_body("pharmacy-refill-8pct"), draft=draft)
    assert result.blocked and result.blocking_title == "This contact policy does not compile yet"
    assert result.blocking[0].line == 1


def test_editing_a_ruleset_shows_what_the_customer_gets_with_every_other_ruleset() -> None:
    draft = Draft("ruleset", "reminders", {"name": "Reminders", "source": REMINDERS})
    result = preview(_ws(), sample_body("pharmacy-refill-8pct"), draft=draft)
    assert result.rulesets[0].key == "reminders" and result.rulesets[0].focus
    assert result.rulesets[0].trace and not result.rulesets[1].trace
    assert [o["offer"] for o in result.offers] == ["refill_savings"]
    assert result.final.removed_from("reminders")[0]["offer"] == "mobile_alerts"


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    return [Sample(s["key"], s["name"], s["interaction"], tuple(s["tags"])) for s in demo_samples()]


def test_the_ruleset_matrix_marks_a_candidate_the_policy_removed(samples) -> None:
    matrix = run_matrix(_ws(), samples, kind="ruleset", key="reminders")
    cell = next(r.cell for r in matrix.rows if r.sample.key == "pharmacy-refill-8pct")
    assert cell.status == "removed" and cell.offers == ("mobile_alerts",)
    assert "contact policy line 1: at most 1 offer per response" in cell.why
    assert matrix.counts["removed"] == 2


def test_the_offer_matrix_says_the_policy_removed_the_offer(samples) -> None:
    matrix = run_matrix(_ws(), samples, kind="offer", key="mobile_alerts")
    row = next(r for r in matrix.rows if r.sample.key == "pharmacy-refill-3pct")
    assert row.cell.status == "removed"
    assert "over at most 1 per response" in row.cell.why and "proposed by Reminders" in row.cell.why
    assert row.final is not None and [o["offer"] for o in row.final.offers] == ["refill_savings"]
