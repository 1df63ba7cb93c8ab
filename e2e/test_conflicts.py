"""Two people edit the same thing at once: the second save is refused with both sides
side by side, and the person takes either side, field by field or hunk by hunk, then
saves a new revision on top of the other person's."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from e2e.pages import replace_source, sign_in, source_text


def _second_person(browser: Browser, base_url: str, email: str) -> Page:
    context = browser.new_context(base_url=base_url, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    sign_in(page, email)
    return page


def test_two_editors_on_one_offer_resolve_the_conflict_field_by_field(
    page: Page, browser: Browser, base_url: str
) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "mara@demo.studio")
    page.goto("/offers/mobile_alerts/edit")
    omar = _second_person(browser, base_url, "omar@demo.studio")
    omar.goto("/offers/mobile_alerts/edit")

    # Mara changes the name and the headline, but Omar saves first: headline and owner.
    page.get_by_label("Name", exact=True).fill("Mobile alerts (Mara)")
    page.get_by_label("Headline").fill("Mara's headline")
    omar.get_by_label("Headline").fill("Omar's headline")
    omar.get_by_label("Owner").fill("Digital marketing")
    omar.get_by_role("button", name="Save revision").click()
    expect(omar.get_by_text(re.compile(r"Saved revision \d+"))).to_be_visible()

    form = page.locator("form.offer-editor")
    page.get_by_role("button", name="Save revision").click()
    box = page.get_by_role("alert").filter(has_text="Someone else saved this")
    expect(box).to_be_visible()
    headline = box.get_by_role("group", name=re.compile("^Headline"))
    expect(headline).to_contain_text("changed by both of you")
    expect(headline.get_by_label("Headline, theirs")).to_have_text("Omar's headline")
    expect(headline.get_by_label("Headline, yours")).to_have_text("Mara's headline")
    # Only Omar changed the owner: theirs is already taken; only Mara changed the name.
    expect(
        box.get_by_role("group", name=re.compile("^Owner")).get_by_label("Take theirs")
    ).to_be_checked()
    expect(form.get_by_label("Owner")).to_have_value("Digital marketing")
    expect(
        box.get_by_role("group", name=re.compile("^Name")).get_by_label("Keep mine")
    ).to_be_checked()
    page.screenshot(path="/tmp/editors-offer-conflict-1366.png", full_page=True)

    # By keyboard: focus "Keep mine" for the headline and move to "Take theirs".
    headline.get_by_label("Keep mine").focus()
    page.keyboard.press("ArrowUp")
    expect(headline.get_by_label("Take theirs")).to_be_checked()
    expect(form.get_by_label("Headline")).to_have_value("Omar's headline")

    page.get_by_role("button", name="Save revision").click()
    expect(page.get_by_text(re.compile(r"Saved revision \d+"))).to_be_visible()
    page.goto("/offers/mobile_alerts/edit")
    expect(form.get_by_label("Name", exact=True)).to_have_value("Mobile alerts (Mara)")
    expect(form.get_by_label("Headline")).to_have_value("Omar's headline")
    expect(form.get_by_label("Owner")).to_have_value("Digital marketing")
    omar.context.close()


def test_a_ruleset_conflict_is_resolved_hunk_by_hunk(
    page: Page, browser: Browser, base_url: str
) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "sam@demo.studio")
    page.goto("/rules/new")
    page.get_by_label("Key").fill("conflict_rules")
    page.get_by_label("Name", exact=True).fill("Conflict rules")
    original = "# first\nnever offer when tone is distressed\n\n# middle\n\n# last\n"
    replace_source(page, original)
    page.get_by_role("button", name="Create ruleset").click()
    expect(page.get_by_text("Ruleset Conflict rules created.")).to_be_visible()

    other = _second_person(browser, base_url, "sam@demo.studio")
    other.goto("/rules/conflict_rules")
    replace_source(other, original.replace("# first", "# first, theirs"))
    other.get_by_role("button", name="Save revision").click()
    expect(other.get_by_text(re.compile(r"Saved revision 2"))).to_be_visible()

    replace_source(page, original.replace("# last", "# last, mine"))
    page.get_by_role("button", name="Save revision").click()
    box = page.get_by_role("alert").filter(has_text="Someone else saved this")
    expect(box.get_by_role("group", name=re.compile("^Change 1 of 2"))).to_contain_text(
        "# first, theirs"
    )
    # Their change is taken and mine is kept: both are in the editor before saving.
    expect(page.locator("#source")).to_have_value(
        original.replace("# first", "# first, theirs").replace("# last", "# last, mine")
    )
    page.screenshot(path="/tmp/editors-rules-conflict-1366.png", full_page=True)
    box.get_by_role("button", name="Keep all mine").click()
    assert source_text(page) == original.replace("# last", "# last, mine")
    box.get_by_role("group", name=re.compile("^Change 1 of 2")).get_by_label("Take theirs").check()
    page.get_by_role("button", name="Save revision").click()
    expect(page.get_by_text("Saved revision 3.")).to_be_visible()
    assert source_text(page) == original.replace("# first", "# first, theirs").replace(
        "# last", "# last, mine"
    )
    other.context.close()
