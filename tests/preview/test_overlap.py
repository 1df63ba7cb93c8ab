"""Overlaps: samples where two rulesets both propose, and what the contact policy keeps."""

from __future__ import annotations

from preview import Draft, Sample, run_matrix
from preview.overlap import find_overlaps
from studio.demo.samples import demo_samples
from tests.factories.samples import demo_workspace


def _samples() -> list[tuple[str, str, dict]]:
    return [(s["key"], s["name"], s["interaction"]) for s in demo_samples()]


def test_the_demo_workspace_overlaps_on_the_two_sms_refills() -> None:
    overlaps = find_overlaps(demo_workspace(), _samples())
    assert {o.sample_key for o in overlaps} == {"pharmacy-refill-3pct", "pharmacy-refill-8pct"}
    eight = next(o for o in overlaps if o.sample_key == "pharmacy-refill-8pct")
    assert eight.ruleset_keys == ("pharmacy", "pharmacy_reminders")
    assert [(c["ruleset"], c["offer"]) for c in eight.proposed] == [
        ("pharmacy", "refill_savings"),
        ("pharmacy_reminders", "mobile_alerts"),
    ]
    assert eight.policy_applied and [k["offer"] for k in eight.kept] == ["refill_savings"]
    assert [(r["offer"], r["text"]) for r in eight.removed] == [
        ("mobile_alerts", "at most 1 offer per response")
    ]


def test_one_ruleset_alone_never_overlaps() -> None:
    ws = demo_workspace()
    alone = demo_workspace(rulesets={"pharmacy": ws.rulesets["pharmacy"]})
    assert find_overlaps(alone, _samples()) == ()


def test_without_a_policy_an_overlap_keeps_both_offers() -> None:
    overlaps = find_overlaps(demo_workspace(policy=None), _samples())
    eight = next(o for o in overlaps if o.sample_key == "pharmacy-refill-8pct")
    assert not eight.policy_applied and len(eight.kept) == 2 and eight.removed == ()


def test_a_draft_ruleset_is_checked_for_overlaps_in_place_of_its_saved_text() -> None:
    quiet = Draft("ruleset", "pharmacy_reminders", {"name": "Reminders", "source": "# nothing\n"})
    assert find_overlaps(demo_workspace(), _samples(), draft=quiet) == ()


def test_the_same_offer_from_two_rulesets_is_an_overlap_made_once() -> None:
    twin = Draft(
        "ruleset",
        "twin",
        {
            "name": "Twin",
            "source": 'rule "Twin" when inquiry.intent is "refill_prescription" '
            "offer refill_savings priority 10\n",
        },
    )
    overlaps = find_overlaps(demo_workspace(), _samples(), draft=twin)
    eight = next(o for o in overlaps if o.sample_key == "pharmacy-refill-8pct")
    assert "twin" in eight.ruleset_keys
    assert [k["offer"] for k in eight.kept] == ["refill_savings"]
    assert any(r["ruleset"] == "twin" and r["line"] == 0 for r in eight.removed)


def test_the_matrix_lists_only_the_overlaps_of_its_focus() -> None:
    samples = [Sample(k, n, b) for k, n, b in _samples()]
    mine = run_matrix(demo_workspace(), samples, kind="ruleset", key="pharmacy")
    assert {o.sample_key for o in mine.overlaps} == {"pharmacy-refill-3pct", "pharmacy-refill-8pct"}
    hotel = run_matrix(demo_workspace(), samples, kind="ruleset", key="hospitality")
    assert hotel.overlaps == ()
