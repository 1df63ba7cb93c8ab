"""Typed work is never lost: drafts, the unsaved-changes prompt, expired sessions, limits."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.pages import code_editor, replace_source, sign_in, source_text


def dialogs_on_leaving(page: Page, area: str) -> list[str]:
    """Click the main navigation's link to `area`, dismissing (and listing) the dialogs
    the page opens: an unsaved-changes prompt keeps the person on the page."""
    dialogs: list[str] = []

    def answer(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    page.get_by_role("navigation", name="Main").get_by_role("link", name=area).click()
    page.wait_for_timeout(300)
    page.remove_listener("dialog", answer)
    return dialogs


def test_save_after_the_session_expired_keeps_the_text_and_saves_after_signing_in_again(
    page: Page,
) -> None:
    sign_in(page, "sam@demo.studio")
    page.goto("/rules/retail_banking")
    typed = source_text(page) + "\n# typed while the session ran out\n"
    replace_source(page, typed)
    # Let the live check and the preview answer first (a late answer would set the
    # session cookie again), as a person pausing before saving would.
    page.wait_for_timeout(1500)
    page.context.clear_cookies()
    page.get_by_role("button", name="Save revision").click()
    expect(page.get_by_role("heading", name="Not saved yet: sign in again")).to_be_visible()
    expect(page.get_by_label("What you typed")).to_have_value(
        re.compile("# typed while the session ran out")
    )
    page.get_by_role("button", name="Save again").click()
    expect(page.get_by_role("status").filter(has_text="Not signed in yet")).to_be_visible()

    with page.context.expect_page() as new_tab:
        page.get_by_role("link", name="Sign in again in a new tab").click()
    tab = new_tab.value
    tab.get_by_label("Email").fill("sam@demo.studio")
    tab.get_by_label("Password").fill(
        __import__("studio.demo", fromlist=["DEMO_PASSWORD"]).DEMO_PASSWORD
    )
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("heading", name="You are signed in again")).to_be_visible()
    tab.close()

    page.get_by_role("button", name="Save again").click()
    expect(page.get_by_text(re.compile(r"Saved revision \d+"))).to_be_visible()
    assert source_text(page) == typed


def test_leaving_with_unsaved_changes_asks_first_and_the_draft_comes_back(page: Page) -> None:
    sign_in(page, "sam@demo.studio")
    page.goto("/rules/retail_banking")
    typed = source_text(page) + "\n# not saved yet\n"
    replace_source(page, typed)
    page.wait_for_timeout(600)  # the draft is written 400 ms after the last keystroke
    assert dialogs_on_leaving(page, "Rules") == ["beforeunload"]
    expect(page).to_have_url(re.compile(r"/rules/retail_banking$"))
    page.on("dialog", lambda dialog: dialog.accept())
    page.reload()
    expect(page.get_by_role("region", name="Unsaved draft")).to_be_visible()
    assert "# not saved yet" not in source_text(page)
    page.get_by_role("button", name="Restore my draft").click()
    expect(page.locator("#source")).to_have_value(typed)
    expect(code_editor(page)).to_contain_text("# not saved yet")


def test_pasting_past_a_limit_shows_a_counter_and_refuses_instead_of_cutting(page: Page) -> None:
    sign_in(page, "mara@demo.studio")
    page.goto("/offers/new")
    headline = page.get_by_label("Headline")
    headline.fill("x" * 130)
    expect(page.get_by_text("130 / 150 characters")).to_be_visible()
    headline.fill("y" * 400)
    assert len(headline.input_value()) == 400  # nothing cut
    expect(
        page.get_by_text("Too long: 400 of at most 150 characters. Remove 250 to save.")
    ).to_be_visible()
    sms = page.get_by_label("SMS text")
    sms.fill("z" * 1200)
    expect(page.get_by_text("Too long: 1,200 of at most 1,000 characters")).to_be_visible()
    page.get_by_role("button", name="Create offer").click()
    expect(page).to_have_url(re.compile(r"/offers/new$"))
    assert headline.evaluate("el => el.validationMessage").startswith("Too long")


def test_a_new_offer_shows_its_preview_beside_the_form_before_saving_at_1366px(page: Page) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "mara@demo.studio")
    page.goto("/offers/new")
    page.get_by_label("Key").fill("fresh_offer")
    page.get_by_label("Name", exact=True).fill("Fresh offer")
    page.get_by_label("Owner").fill("Cards marketing")
    page.get_by_label("Headline").fill("Fresh headline before any save")
    pane = page.locator("#preview-pane")
    expect(pane).to_contain_text("Fresh headline before any save", timeout=8000)
    form_box = page.locator("#f-blocks-headline").bounding_box()
    pane_box = pane.bounding_box()
    assert form_box and pane_box and pane_box["x"] > form_box["x"] + form_box["width"]
    page.screenshot(path="/tmp/editors-new-offer-1366.png")


def test_below_1280px_the_preview_is_under_the_form_with_a_jump_link(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "mara@demo.studio")
    page.goto("/offers/new")
    jump = page.get_by_role("link", name="Jump to preview")
    expect(jump).to_be_in_viewport()
    page.screenshot(path="/tmp/editors-new-offer-390.png")
    jump.click()
    expect(page.locator("#preview-title")).to_be_in_viewport()


def test_a_refused_save_keeps_the_draft_and_asks_before_leaving(page: Page) -> None:
    sign_in(page, "mara@demo.studio")
    page.goto("/offers/check_in/edit")
    page.get_by_label("Headline").fill("A headline typed before a refused save")
    page.get_by_label("Business value").fill("abc")
    page.get_by_label("What changed").fill("a note typed before a refused save")
    page.wait_for_timeout(600)  # the draft is written 400 ms after the last keystroke
    page.get_by_role("button", name="Save revision").click()
    expect(page.locator(".field-error, .error").first).to_be_visible()
    expect(page.get_by_label("Headline")).to_have_value("A headline typed before a refused save")
    # The page shows everything typed, the note included: no draft to offer back.
    expect(page.get_by_label("What changed")).to_have_value("a note typed before a refused save")
    expect(page.get_by_role("region", name="Unsaved draft")).to_have_count(0)
    # Nothing shown was stored: leaving asks first.
    assert dialogs_on_leaving(page, "Layouts") == ["beforeunload"]
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/offers/check_in/edit")
    expect(page.get_by_role("region", name="Unsaved draft")).to_be_visible()
    page.get_by_role("button", name="Restore my draft").click()
    expect(page.get_by_label("Headline")).to_have_value("A headline typed before a refused save")
    expect(page.get_by_label("Business value")).to_have_value("abc")


def test_a_stored_save_with_a_summary_leaves_no_draft_behind(page: Page) -> None:
    sign_in(page, "sam@demo.studio")
    page.goto("/rules/pharmacy")
    typed = source_text(page) + "\n# saved with a note\n"
    replace_source(page, typed)
    page.get_by_label("What changed").fill("a note on the change")
    page.wait_for_timeout(600)  # the draft is written 400 ms after the last keystroke
    page.get_by_role("button", name="Save revision").click()
    expect(page.get_by_text(re.compile(r"Saved revision \d+"))).to_be_visible()
    expect(page.get_by_role("region", name="Unsaved draft")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("region", name="Unsaved draft")).to_have_count(0)
    assert "# saved with a note" in source_text(page)
