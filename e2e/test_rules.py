"""A service lead edits a ruleset and the studio checks it while they type."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from e2e.pages import code_editor, replace_source, sign_in, source_text


def test_typo_in_a_category_shows_a_diagnostic_with_its_suggestion_as_you_type(page: Page) -> None:
    sign_in(page, "sam@demo.studio")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Rules").click()
    page.get_by_role("link", name="Retail banking").click()
    expect(page.locator(".diag-summary")).not_to_contain_text("error")
    text = source_text(page)
    replace_source(page, text.replace("is transactional", "is transactonal", 1))
    summary = page.locator(".diag-summary")
    expect(summary).to_contain_text("1 error", timeout=3000)
    diagnostic = page.locator(".diag-error").first
    expect(diagnostic).to_contain_text("transactonal")
    expect(diagnostic).to_contain_text("transactional")
    diagnostic.locator(".diag-loc").click()
    expect(code_editor(page)).to_be_focused()


def test_saving_from_a_stale_page_shows_a_conflict_and_keeps_the_typed_text(
    page: Page, browser
) -> None:
    sign_in(page, "sam@demo.studio")
    page.goto("/rules/retail_banking")
    other = browser.new_page(base_url=page.url.split("/rules")[0])
    sign_in(other, "sam@demo.studio")
    other.goto("/rules/retail_banking")
    replace_source(other, source_text(other) + "\n# from tab two\n")
    other.get_by_role("button", name="Save revision").click()
    expect(other.get_by_text("Saved revision")).to_be_visible()
    other.close()

    replace_source(page, source_text(page) + "\n# from tab one\n")
    page.get_by_role("button", name="Save revision").click()
    expect(page.get_by_role("alert").first).to_contain_text("Not saved")
    expect(page.locator("#source")).to_have_value(__import__("re").compile(r"# from tab one"))
    expect(page.locator(".conflict")).to_contain_text("# from tab two")
