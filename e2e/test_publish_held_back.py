"""A change request that names an offer nobody approved is flagged when it is submitted,
shown to the reviewer, and held back by Publish with the reason, instead of blocking
everyone else's approved work."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import own_studio
from e2e.pages import replace_source, sign_in


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    """A studio of its own: this test's approvals and notifications would change what
    the shared studio's review test counts."""
    with own_studio(tmp_path_factory.mktemp("e2e-held-back")) as served:
        yield served


def test_a_request_naming_an_unapproved_offer_is_flagged_and_held_back_at_publish(
    browser: Browser, studio: tuple[Flask, str]
) -> None:
    address = studio[1]
    mara = browser.new_page(base_url=address, viewport={"width": 1366, "height": 900})
    sign_in(mara, "mara@demo.studio")
    mara.goto("/offers/new")
    mara.get_by_label("Key").fill("travel_insurance")
    mara.get_by_label("Name", exact=True).fill("Travel insurance")
    mara.get_by_label("Owner").fill("Cards marketing")
    mara.get_by_label("Headline").fill("Travel without worry")
    mara.get_by_role("button", name="Create offer").click()
    expect(mara.get_by_text("Offer Travel insurance created")).to_be_visible()
    mara.close()

    sam: Page = browser.new_page(base_url=address, viewport={"width": 1366, "height": 900})
    sign_in(sam, "sam@demo.studio")
    sam.goto("/rules/new")
    sam.get_by_label("Key").fill("travel_rules")
    sam.get_by_label("Name", exact=True).fill("Travel rules")
    replace_source(
        sam,
        'never offer when tone is unknown\n\nrule "Insurance after a travel question"\n'
        '  when inquiry.intent is "travel_notice"\n  offer travel_insurance\n',
    )
    sam.get_by_role("button", name="Create ruleset").click()
    sam.get_by_role("link", name="Submit for review…").click()
    sam.get_by_label("Title").fill("Travel insurance rule")
    sam.get_by_role("button", name="Submit for review").click()
    flashed = sam.get_by_role("status").filter(has_text="Submitted for review")
    expect(flashed).to_contain_text("offers travel_insurance, which is not approved")
    sam.close()

    rita = browser.new_page(base_url=address, viewport={"width": 1366, "height": 900})
    sign_in(rita, "rita@demo.studio")
    rita.goto("/reviews/")
    rita.get_by_role("link", name="Travel insurance rule").click()
    flag = rita.get_by_role("alert").filter(has_text="does not stand on its own")
    expect(flag).to_contain_text("travel_rules:5:9")
    rita.get_by_role("button", name="Approve").click()
    expect(rita.locator(".head-meta")).to_contain_text("Approved")
    rita.goto("/bundles/publish")
    held = rita.get_by_role("region", name=re.compile("^Held back: 1 change request"))
    expect(held).to_contain_text("Travel insurance rule")
    expect(held).to_contain_text("offer-not-approved")
    rita.screenshot(path="/tmp/editors-publish-held-back-1366.png", full_page=True)
    rita.close()
