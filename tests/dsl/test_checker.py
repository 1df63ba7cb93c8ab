from __future__ import annotations

import pytest

import dsl
from dsl.offers import OfferInfo

from .conftest import codes

OFFERS = ["overdraft_protection", "rewards_card", "check_in", "realtime_contact"]


def diagnostics(source: str, offers=OFFERS):
    return dsl.compile_ruleset(source, offers=offers).diagnostics


def test_example_compiles_cleanly_against_example_offers(
    example_source: str, example_offers
) -> None:
    result = dsl.compile_ruleset(example_source, offers=example_offers)
    assert result.ok and result.diagnostics == ()


@pytest.mark.parametrize(
    ("condition", "code", "hint"),
    [
        ("inquiry.category is transactonal", "E201", "did you mean `transactional`?"),
        ("customer.tier is diamond", "E201", None),
        ("tone is distresed", "E201", "did you mean `distressed`?"),
        ("customer.teir is gold", "E200", "did you mean `customer.tier`?"),
        ("customer.tier > 3", "E202", "customer.tier in"),
        ('tone.score < "low"', "E202", None),
        ("customer.authenticated is yes", "E202", "customer.authenticated is true"),
        ('customer.products is "x"', "E202", "contains"),
        ("customer.tier", "E202", "customer.tier is basic"),
        ('inquiry.channel contains "e"', "E202", None),
        ('at > "yesterday"', "E202", None),
        ("customer", "E209", "customer.id"),
        ('customer.recent_offers contains "x"', "E209", "limit offers"),
        ("inquiry.intent is order_checkbook", "E210", 'write "order_checkbook"'),
        ("customer.tier == gold", "E200", "customer.tier is gold"),
        ("1 is 1", "E202", None),
    ],
)
def test_condition_errors_have_codes_and_hints(condition: str, code: str, hint: str | None) -> None:
    found = diagnostics(f'rule "r"\n  when {condition}\n  offer rewards_card')
    assert found[0].code == code
    assert found[0].line == 2
    if hint is not None:
        assert hint in (found[0].hint or "")


@pytest.mark.parametrize(
    "condition",
    [
        'customer.state not in ["NY"] and customer.authenticated',
        "data.refill.savings_pct > 5",
        'data.anything is "x" or data.flag',
        "tone.score < -0.5 and tone is not negative",
        'at >= "2026-11-01" and at < "2026-12-01T00:00:00Z"',
        'inquiry.text contains "refund"',
        "tone.score < data.threshold",
        "1 < tone.score",
    ],
)
def test_valid_conditions_pass(condition: str) -> None:
    assert diagnostics(f'rule "r" when {condition} offer rewards_card') == ()


def test_unknown_offer_key_is_an_error_with_suggestion() -> None:
    (diag,) = diagnostics('rule "r" when customer.authenticated offer rewards_crd')
    assert (diag.code, diag.hint) == ("E203", "did you mean `rewards_card`?")


def test_unknown_follow_up_key_is_an_error() -> None:
    assert codes(
        'rule "r" when customer.authenticated follow up after 2 days with chek_in', OFFERS
    ) == ["E203"]


def test_offer_keys_are_not_checked_without_an_offer_list() -> None:
    assert dsl.compile_ruleset('rule "r" when customer.authenticated offer anything').ok


def test_duplicate_rule_names_are_errors() -> None:
    found = diagnostics(
        'rule "r" when customer.authenticated offer rewards_card\nrule "r" when inquiry.resolved offer check_in'
    )
    assert [(d.code, d.line) for d in found] == [("E204", 2)]


@pytest.mark.parametrize(
    ("condition", "quoted"),
    [
        (
            "inquiry.category is diagnostic and inquiry.category is feedback",
            "`inquiry.category is diagnostic` and `inquiry.category is feedback`",
        ),
        ("tone.score > 0.5 and tone.score < 0", "`tone.score > 0.5`"),
        ("customer.state in []", "`customer.state in []`"),
        ("customer.authenticated and not customer.authenticated", "customer.authenticated"),
        (
            "inquiry.resolution in [open, failed] and inquiry.resolution is confirmed",
            "inquiry.resolution",
        ),
        ('inquiry.intent is "a" and inquiry.intent is "b"', "inquiry.intent"),
    ],
)
def test_contradictions_are_errors(condition: str, quoted: str) -> None:
    (diag,) = diagnostics(f'rule "r" when {condition} offer rewards_card')
    assert diag.code == "E205" and quoted in diag.message


@pytest.mark.parametrize(
    "condition",
    [
        "tone is not negative and not tone is negative",
        "inquiry.resolution is not confirmed and inquiry.resolution in [failed, confirmed]",
        "(tone is negative or tone is positive) and tone is not positive",
        "tone.score >= 0 and tone.score <= 0",
    ],
)
def test_satisfiable_conditions_are_not_contradictions(condition: str) -> None:
    assert diagnostics(f'rule "r" when {condition} offer rewards_card') == ()


def test_contradictions_are_found_even_when_other_rules_have_errors() -> None:
    found = codes(
        'rule "a" when tone is bad offer rewards_card\nrule "b" when tone is negative and tone is positive offer check_in',
        OFFERS,
    )
    assert found == ["E201", "E205"]


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ('rule "r" when customer.authenticated', "E206"),
        ('rule "r" when customer.authenticated when inquiry.resolved offer check_in', "E207"),
        ('rule "r" when customer.authenticated offer check_in priority 1 priority 2', "E207"),
        ('rule "r" when customer.authenticated offer check_in offer check_in', "E207"),
        ("at most 1 offer per response\nat most 2 offers per response", "E207"),
        ('rule "r" when customer.authenticated offer check_in to 0% of customers', "E208"),
        ('rule "r" when customer.authenticated offer check_in to 101% of customers', "E208"),
        ('rule "r" when customer.authenticated offer check_in priority 1.5', "E208"),
        ("limit offers to 0 per customer per 7 days", "E208"),
        ("limit offers to 1 per customer per 0.5 days", "E208"),
        ("at most 0 offers per response", "E208"),
        ('rule "r" when customer.authenticated follow up after 0 days with check_in', "E208"),
        ('rule "" when customer.authenticated offer check_in', "E211"),
    ],
)
def test_structural_errors(source: str, code: str) -> None:
    assert codes(source, OFFERS) == [code]


def test_rule_always_stopped_by_a_guard_is_unreachable() -> None:
    source = (
        'never offer when inquiry.intent in ["report_stolen_card", "fraud_claim"]\n'
        'rule "r"\n  when inquiry.intent is "report_stolen_card"\n  offer rewards_card'
    )
    (diag,) = diagnostics(source)
    assert diag.code == "W400" and diag.severity == "warning" and "line 1" in diag.message
    assert dsl.compile_ruleset(source).ok


def test_rule_with_only_follow_ups_is_not_unreachable() -> None:
    source = (
        "never offer when tone is distressed\nnever offer when tone is unknown\n"
        'rule "r" when tone is distressed follow up after 7 days with check_in'
    )
    assert diagnostics(source) == ()


def test_rule_covered_by_a_higher_priority_rule_with_the_same_offer_is_shadowed() -> None:
    source = (
        'rule "broad" when inquiry.category is diagnostic offer rewards_card priority 50\n'
        'rule "narrow" when inquiry.category is diagnostic and inquiry.channel is chat offer rewards_card priority 10'
    )
    (diag,) = diagnostics(source)
    assert (diag.code, diag.line) == ("W401", 2)


def test_rule_is_not_shadowed_by_a_rollout() -> None:
    source = (
        'rule "broad" when inquiry.category is diagnostic offer rewards_card to 50% of customers priority 50\n'
        'rule "narrow" when inquiry.category is diagnostic and inquiry.channel is chat offer rewards_card priority 10'
    )
    assert diagnostics(source) == ()


def test_inactive_offer_is_a_warning() -> None:
    offers = {"rewards_card": OfferInfo("rewards_card", 1, status="paused")}
    (diag,) = dsl.compile_ruleset(
        'rule "r" when customer.authenticated offer rewards_card', offers=offers
    ).diagnostics
    assert diag.code == "W402"


def test_guard_that_always_fires_is_a_warning() -> None:
    (diag,) = diagnostics("never offer when tone is negative or not tone is negative")
    assert diag.code == "W403"


def test_eligibility_uses_the_same_checker() -> None:
    assert dsl.check_expression('customer.state not in ["NY"] and customer.authenticated').ok
    result = dsl.check_expression("customer.tier is dimond")
    assert (
        not result.ok
        and result.diagnostics[0].hint == "did you mean `diamond`?"
        or result.diagnostics[0].code == "E201"
    )
    assert (
        dsl.check_expression("tone is negative and tone is positive").diagnostics[0].code == "E205"
    )


def test_custom_schema_changes_the_vocabulary() -> None:
    data = dsl.default_schema().to_dict()
    data["fields"]["customer.tier"]["values"].append("diamond")
    schema = dsl.Schema.from_dict(data)
    assert dsl.compile_ruleset('rule "r" when customer.tier is diamond offer x', schema=schema).ok


def test_a_shadowed_rule_is_found_after_thousands_of_unrelated_rules_with_the_same_offer() -> None:
    unrelated = "".join(
        f'rule "u{k}" when data.segment is "s{k}" and tone.score > 0 offer rewards_card priority 5\n'
        for k in range(3_000)
    )
    source = unrelated + (
        'rule "broad" when data.segment is "vip" offer rewards_card priority 50\n'
        'rule "narrow" when data.segment is "vip" and customer.authenticated offer rewards_card priority 10'
    )
    (diag,) = diagnostics(source)
    assert (diag.code, diag.line) == ("W401", 3_002)
