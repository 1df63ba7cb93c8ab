"""The rules editor: every error at once, completion, quick fixes, format and undo, Ctrl+S."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.pages import code_editor, replace_source, sign_in, source_text

TYPOS = """never offer when tone is distresed

rule "Checkbook"
  when inquiry.category is transactonal
  offer overdraft_protection

rule Welcome
  when inquiry.channel is email
  offer overdraft_protection

rule "Tier"
  when custmer.tier is gold
  offer overdraft_protection
"""


def _open_ruleset(page: Page) -> None:
    sign_in(page, "sam@demo.studio")
    page.goto("/rules/retail_banking")
    expect(code_editor(page)).to_be_visible()


def test_several_typos_show_every_error_at_once_inline_and_in_the_problems_list(page: Page) -> None:
    _open_ruleset(page)
    replace_source(page, TYPOS)
    expect(page.locator(".diag-summary")).to_contain_text("4 errors", timeout=5000)
    problems = page.locator("#diagnostics .diag-error")
    expect(problems).to_have_count(4)
    for text in ("distresed", "transactonal", "Welcome", "custmer.tier"):
        expect(page.locator("#diagnostics")).to_contain_text(text)
    expect(page.locator(".cm-lintRange-error")).to_have_count(4, timeout=5000)
    page.screenshot(path="/tmp/editors-rules-errors-1366.png", full_page=False)


def test_a_quick_fix_replaces_the_typo_with_one_click(page: Page) -> None:
    _open_ruleset(page)
    replace_source(
        page,
        'rule "Checkbook"\n  when inquiry.category is transactonal\n  offer overdraft_protection\n',
    )
    marker = page.locator(".cm-lintRange-error").first
    expect(marker).to_be_visible(timeout=5000)
    marker.hover()
    fix = page.get_by_role("button", name="Change to transactional")
    expect(fix).to_be_visible()
    fix.click()
    expect(page.locator("#source")).to_have_value(re.compile("is transactional\n"))
    expect(page.locator(".diag-summary")).not_to_contain_text("error", timeout=5000)


def test_completion_offers_enum_values_after_is_and_offer_keys_after_offer(page: Page) -> None:
    _open_ruleset(page)
    replace_source(page, 'rule "Checkbook"\n  when inquiry.category is ')
    page.keyboard.type("trans")
    option = page.locator(".cm-tooltip-autocomplete li", has_text="transactional")
    expect(option).to_have_attribute("aria-selected", "true", timeout=5000)
    page.wait_for_timeout(200)  # the editor ignores Enter for 75 ms after the list opens
    page.keyboard.press("Enter")
    page.keyboard.insert_text("\n  offer ")
    page.keyboard.press("Control+Space")
    expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("overdraft_protection")
    page.keyboard.type("overdraft_p")
    expect(page.locator(".cm-tooltip-autocomplete li[aria-selected=true]")).to_contain_text(
        "overdraft_protection"
    )
    page.wait_for_timeout(200)
    page.keyboard.press("Enter")
    assert source_text(page).endswith(
        "when inquiry.category is transactional\n  offer overdraft_protection"
    )


def test_hover_on_a_field_shows_its_type_and_values(page: Page) -> None:
    _open_ruleset(page)
    replace_source(
        page, 'rule "x"\n  when inquiry.category is diagnostic\n  offer overdraft_protection\n'
    )
    word = page.locator(".cm-line", has_text="inquiry.category").get_by_text("inquiry.category")
    box = word.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 5, box["y"] + box["height"] / 2)
    page.mouse.move(box["x"] + 12, box["y"] + box["height"] / 2)
    expect(page.locator(".cm-doc-tooltip")).to_contain_text("one of informational", timeout=5000)


def test_format_is_one_undoable_step(page: Page) -> None:
    _open_ruleset(page)
    messy = 'rule "x"   when tone is positive    offer overdraft_protection\n'
    replace_source(page, messy)
    page.get_by_role("button", name="Format").click()
    expect(page.locator("#format-status")).to_contain_text("Formatted")
    expect(page.locator("#source")).to_have_value(
        re.compile(r'^rule "x"\n  when tone is positive\n')
    )
    code_editor(page).press("Control+z")
    assert source_text(page) == messy


def test_ctrl_s_saves_the_ruleset(page: Page) -> None:
    _open_ruleset(page)
    editor = code_editor(page)
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.insert_text("\n# saved with the keyboard\n")
    page.keyboard.press("Control+s")
    expect(page.get_by_text(re.compile(r"Saved revision \d+"))).to_be_visible()
    assert "# saved with the keyboard" in source_text(page)


def test_ctrl_s_saves_from_the_what_changed_note_too(page: Page) -> None:
    _open_ruleset(page)
    editor = code_editor(page)
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.insert_text("\n# saved from the note\n")
    page.get_by_label("What changed").fill("a note, then Ctrl+S")
    page.keyboard.press("Control+s")
    expect(page.get_by_text(re.compile(r"Saved revision \d+"))).to_be_visible()
    assert "# saved from the note" in source_text(page)


def test_layout_editor_completes_the_template_vocabulary_inside_braces(page: Page) -> None:
    sign_in(page, "mara@demo.studio")
    page.goto("/layouts/")
    page.get_by_role("link", name="Email response footer").click()
    editor = code_editor(page, "MJML source")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.insert_text("\n{{ customer.")
    page.keyboard.press("Control+Space")
    expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("customer.tier", timeout=10000)
    page.keyboard.press("Escape")
    page.keyboard.insert_text("tier | ")
    page.keyboard.press("Control+Space")
    expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("money", timeout=10000)
    page.screenshot(path="/tmp/editors-layout-1366.png")


def test_on_a_phone_the_rules_editor_fits_the_screen(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    _open_ruleset(page)
    replace_source(page, TYPOS)
    expect(page.locator(".cm-lintRange-error")).to_have_count(4, timeout=5000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    code_editor(page).scroll_into_view_if_needed()
    page.screenshot(path="/tmp/editors-rules-390.png")


def test_the_line_being_typed_stays_above_the_sticky_save_bar(page: Page) -> None:
    page.set_viewport_size({"width": 1366, "height": 800})
    sign_in(page, "sam@demo.studio")
    page.goto("/rules/retail_banking")
    code_editor(page).click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n# typed at the end")
    page.wait_for_timeout(300)
    caret = page.locator(".cm-cursor").first.bounding_box()
    bar = page.locator("form[data-keep-work] > .actions").bounding_box()
    assert caret is not None and bar is not None
    assert caret["y"] + caret["height"] <= bar["y"], (caret, bar)


def test_the_editor_pages_break_no_content_security_rule(page: Page) -> None:
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    sign_in(page, "sam@demo.studio")
    page.goto("/rules/retail_banking")
    expect(code_editor(page)).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert refused == []
