"""Template statements in the rich body stay template blocks, never paragraphs."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from e2e.pages import sign_in

BODY = "{% if data.refill.savings_pct > 5 %}<p>You saved a lot.</p>{% endif %}<p>Thanks.</p>"


def test_block_template_tags_survive_the_rich_editor_without_paragraphs(page: Page) -> None:
    sign_in(page, "mara@demo.studio")
    page.goto("/offers/new")
    page.get_by_role("toolbar", name="Formatting").get_by_role(
        "button", name="HTML", exact=True
    ).click()
    page.locator("#f-blocks-body_html").fill(BODY)
    page.get_by_role("toolbar", name="Formatting").get_by_role(
        "button", name="HTML", exact=True
    ).click()
    blocks = page.locator(".rich-content .template-block")
    expect(blocks).to_have_count(2)
    expect(blocks.first).to_have_text("{% if data.refill.savings_pct > 5 %}")
    page.locator(".rich-content p", has_text="Thanks.").click()
    page.keyboard.press("End")
    page.keyboard.type(" Bye.")
    value = page.locator("#f-blocks-body_html").input_value()
    assert value == (
        "{% if data.refill.savings_pct > 5 %}<p>You saved a lot.</p>{% endif %}<p>Thanks. Bye.</p>"
    )
