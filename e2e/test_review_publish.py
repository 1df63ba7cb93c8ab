"""A change goes from a marketer's edit through review to a published, then rolled-back,
bundle: what a marketer and a reviewer actually do in the browser.

The shared studio's demo seed publishes the seeded workspace as bundle v1
(studio/demo/review.py), which the rollback at the end restores.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from e2e.pages import sign_in

OFFER = "overdraft_protection"


def _edit_headline(page: Page, headline: str) -> None:
    page.goto(f"/offers/{OFFER}/edit")
    field = page.get_by_label("Headline", exact=True)
    field.fill(headline)
    page.get_by_role("button", name="Save revision").click()
    expect(page).not_to_have_url(re.compile(r"/edit$"))


def test_marketer_submits_reviewer_requests_changes_approves_publishes_and_rolls_back(
    page: Page, browser: Browser, base_url: str
) -> None:
    sign_in(page, "mara@demo.studio")
    _edit_headline(page, "Never bounce a check again!!!")
    page.goto("/reviews/new")
    page.get_by_role("checkbox", name=re.compile("Overdraft protection", re.I)).check()
    page.get_by_label("Title").fill("Punchier overdraft headline")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Submitted for review")).to_be_visible()

    reviewer = browser.new_page(base_url=base_url)
    sign_in(reviewer, "rita@demo.studio")
    expect(reviewer.locator(".inbox-link .badge")).to_have_text("1")
    reviewer.get_by_role("link", name=re.compile("^Inbox")).click()
    reviewer.get_by_role("button", name=re.compile("Punchier overdraft headline")).click()
    expect(reviewer.get_by_role("heading", name="Punchier overdraft headline")).to_be_visible()
    expect(
        reviewer.locator(".diff-add").filter(has_text="Never bounce a check again!!!")
    ).to_be_visible()
    expect(reviewer.get_by_role("heading", name="Rendered, before and after")).to_be_visible()
    expect(reviewer.locator("iframe.email-frame")).not_to_have_count(0)
    reviewer.get_by_label("Note to the author").fill("Drop the exclamation marks, please.")
    reviewer.get_by_role("button", name="Request changes").click()
    expect(reviewer.locator(".head-meta")).to_contain_text("Changes requested")

    page.reload()
    _edit_headline(page, "Never bounce a check again")

    reviewer.reload()
    expect(reviewer.locator(".head-meta")).to_contain_text("In review")
    expect(reviewer.locator(".verdict.voided")).to_have_count(1)
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.locator(".head-meta")).to_contain_text("Approved")
    reviewer.get_by_role("link", name="Publish approved changes").click()
    expect(reviewer.get_by_text(f"~ offer:{OFFER}")).to_be_visible()
    reviewer.get_by_role("button", name="Publish now").click()
    expect(reviewer.get_by_role("heading", name="Bundle v2")).to_be_visible()

    reviewer.get_by_role("link", name="Bundles").first.click()
    current = reviewer.locator("tr.current")
    expect(current).to_contain_text("v2")
    expect(current).to_contain_text(f"offer:{OFFER}")
    reviewer.get_by_role("link", name="Roll back to v1").click()
    expect(reviewer.get_by_role("heading", name="Roll back to v1?")).to_be_visible()
    reviewer.get_by_role("button", name="Roll back to v1").click()
    expect(reviewer.get_by_text("v1 is current again, republished as v3.")).to_be_visible()
    expect(reviewer.locator("tr.current")).to_contain_text("rollback to v1")
    reviewer.close()
