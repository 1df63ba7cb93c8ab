"""Two rulesets that both offer to one customer: the service lead sees it in the matrix
and follows it to the decision the contact policy makes."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.pages import sign_in


def test_the_matrix_warns_that_two_rulesets_both_offer_on_an_sms_refill(page: Page) -> None:
    sign_in(page, "sam@demo.studio")
    page.goto("/interactions/matrix")
    page.get_by_label("A ruleset").select_option(label="Pharmacy")
    warning = page.get_by_role("region", name=re.compile("shares the customer with another"))
    expect(warning).to_contain_text("2 samples where this ruleset shares the customer")
    refill = warning.get_by_role("row", name=re.compile("Pharmacy refill, 8% savings"))
    expect(refill).to_contain_text("Pharmacy refill reminders")
    expect(refill).to_contain_text("at most 1 offer per response")
    expect(page.locator("tr.mrow").filter(has_text="Pharmacy refill, 8% savings")).to_contain_text(
        "overlap"
    )
    refill.get_by_role("link", name="Pharmacy refill, 8% savings").click()
    policy = page.locator(".pv-policy")
    expect(policy).to_contain_text("overlap: 2 rulesets")
    expect(policy.locator(".pv-removed")).to_contain_text("mobile_alerts")
    expect(policy.locator(".pv-removed")).to_contain_text("policy line 12")
