"""A marketer keeps the offer library in the browser: the rich editor, every variant,
duplicate and archive, the asset library, layouts, and hostile content that never runs."""

from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import Dialog, Page, expect

from e2e.pages import replace_source, sign_in, source_text

XSS_MARKER = "XSS-MARKER"


def _png(color: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 60), color).save(buffer, "PNG")
    return buffer.getvalue()


def _new_offer(page: Page, key: str, name: str, headline: str) -> None:
    page.goto("/offers/")
    page.get_by_role("link", name="New offer").click()
    page.get_by_label("Key").fill(key)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Owner").fill("Cards marketing")
    page.get_by_label("Headline").fill(headline)


def _settle(page: Page) -> None:
    """Wait two frames: the editor puts the cursor back after a toolbar click in a frame."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def _toolbar(page: Page, name: str) -> None:
    """Click a formatting button; those that format hand the cursor back to the text."""
    page.get_by_role("toolbar", name="Formatting").get_by_role(
        "button", name=name, exact=True
    ).click()
    _settle(page)
    if name not in ("Link", "Image"):
        expect(_body_editor(page)).to_be_focused()


def _body_editor(page: Page):
    return page.get_by_role("textbox", name="Body")


def test_marketer_writes_an_offer_in_the_rich_editor_and_sees_every_variant(page: Page) -> None:
    sign_in(page, "mara@demo.studio")
    _new_offer(page, "travel_card", "Travel card", "No fees abroad, {{ customer.first_name }}")
    body = _body_editor(page)
    body.click()
    page.keyboard.type("Pay abroad with no foreign fees")
    for _ in "no foreign fees":
        page.keyboard.press("Shift+ArrowLeft")
    _toolbar(page, "Bold")
    expect(body.locator("strong")).to_have_text("no foreign fees")
    expect(body).to_be_focused()
    page.keyboard.press("End")
    page.keyboard.type(". Read the details")
    page.keyboard.press("Shift+Home")
    _toolbar(page, "Link")
    page.get_by_label("Link address").fill("https://bank.example/travel")
    page.get_by_role("button", name="Apply link").click()
    _settle(page)
    expect(body).to_be_focused()
    expect(body.locator("a[href='https://bank.example/travel']")).to_contain_text("Pay abroad")
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    _toolbar(page, "• List")
    page.keyboard.type("Free cash withdrawals")
    expect(body.locator("li")).to_have_text("Free cash withdrawals")
    _toolbar(page, "Image")
    page.locator(".picker-item").first.click()
    expect(body.locator("img")).to_have_count(1)
    page.get_by_label("Button label").fill("Get the card")
    page.get_by_label("Button link").fill("https://bank.example/travel/apply")
    page.get_by_label("SMS text").fill("Travel without fees: {{ message_center_url() }}")
    page.get_by_label("Button 1 label").fill("Apply now")
    page.get_by_label("Button 1 link").fill("https://bank.example/travel/apply")
    page.get_by_role("button", name="Create offer").click()

    expect(page.get_by_role("heading", name="Travel card", level=1)).to_be_visible()
    for label in ("Email", "Plain-text email", "SMS", "Chat", "Agent script", "Message center"):
        expect(page.get_by_role("heading", name=label, exact=True, level=3)).to_be_visible()
    email = page.frame_locator("iframe[title^='Email preview']")
    expect(email.locator("body")).to_contain_text("No fees abroad, Dana")
    expect(email.locator("strong", has_text="no foreign fees")).to_be_visible()
    expect(email.locator("a[href='https://bank.example/travel']")).to_have_count(1)
    expect(page.locator("pre.plain-text").first).to_contain_text("Free cash withdrawals")
    expect(page.locator(".bubble-in")).to_contain_text(
        "Travel without fees: /messages/offers/travel_card"
    )
    expect(page.locator(".sms-facts")).to_contain_text("GSM-7")
    expect(page.locator(".chat-buttons")).to_contain_text("Apply now")
    expect(page.locator(".agent-card")).to_contain_text("No fees abroad, Dana")
    center = page.frame_locator("iframe[title^='Message-center page']")
    expect(center.get_by_role("heading", name="No fees abroad, Dana")).to_be_visible()
    page.get_by_role("button", name="Mobile").click()
    expect(page.locator("[data-frame-box]")).to_have_class(re.compile("is-mobile"))


def test_marketer_duplicates_an_offer_then_archives_the_copy_after_confirming(page: Page) -> None:
    sign_in(page, "mara@demo.studio")
    page.goto("/offers/rewards_card")
    page.get_by_role("link", name="Duplicate").click()
    page.get_by_label("Key of the copy").fill("rewards_card_spring")
    page.get_by_label("Name of the copy").fill("Rewards card, spring")
    page.get_by_role("button", name="Create the copy").click()
    expect(page.get_by_text("created as a draft copy of Rewards credit card")).to_be_visible()
    expect(page.locator(".page-head .status")).to_have_text("Draft")
    page.get_by_role("link", name="Archive…").click()
    expect(page.get_by_role("heading", name="Archive Rewards card, spring?")).to_be_visible()
    page.get_by_role("button", name="Archive offer").click()
    expect(page.get_by_text("Rewards card, spring is archived.")).to_be_visible()
    page.wait_for_load_state()  # the filters answer a change only once htmx has loaded
    expect(page.locator("#offer-list")).not_to_contain_text("Rewards card, spring")
    page.get_by_label("Status").select_option("archived")
    expect(page.locator("#offer-list")).to_contain_text("Rewards card, spring")


def test_marketer_uploads_an_image_and_uses_it_in_an_offer(page: Page) -> None:
    sign_in(page, "mara@demo.studio")
    page.goto("/assets/")
    page.get_by_label("Upload an image").set_input_files(
        {"name": "autumn-banner.png", "mimeType": "image/png", "buffer": _png("#c2410c")}
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_text("autumn-banner.png uploaded (120×60).")).to_be_visible()
    address = page.get_by_label("Address of autumn-banner.png").input_value()

    page.goto("/offers/mobile_alerts/edit")
    page.get_by_role("button", name="Choose from library").click()
    page.get_by_role("button", name="autumn-banner.png").click()
    expect(page.locator("#f-blocks-image_url")).to_have_value(address)
    page.get_by_role("button", name="Save revision").click()
    expect(page.get_by_text(re.compile(r"^Saved revision \d+\.$"))).to_be_visible()
    email = page.frame_locator("iframe[title^='Email preview']")
    expect(email.locator(f"img[src='{address}']")).to_have_count(1)
    image = page.request.get(address)
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"


def test_an_upload_that_is_not_an_image_is_refused(page: Page) -> None:
    sign_in(page, "mara@demo.studio")
    page.goto("/assets/")
    page.get_by_label("Upload an image").set_input_files(
        {"name": "invoice.png", "mimeType": "image/png", "buffer": b"%PDF-1.7 not an image"}
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#f-file-error")).to_contain_text("not an image the studio can use")


def test_layout_editor_shows_mjml_errors_with_line_numbers_as_you_type(page: Page) -> None:
    sign_in(page, "mara@demo.studio")
    page.goto("/layouts/")
    page.get_by_role("link", name="Email response footer").click()
    expect(page.locator(".diag-summary")).to_contain_text("Compiles")
    expect(page.get_by_text("mj-html-attributes", exact=False).first).to_be_visible()
    text = source_text(page)
    replace_source(page, text.replace("</mj-column>", "", 1), label="MJML source")
    expect(page.locator(".cm-lintRange-error").first).to_be_visible(timeout=10000)
    expect(page.locator(".diag-summary")).to_contain_text("Does not compile")
    expect(page.locator(".diag-loc").first).to_contain_text(re.compile(r"line \d+"))
    page.get_by_role("button", name="Save revision").click()
    expect(page.locator("#source-error")).to_contain_text("Line")
    expect(page.locator("#source")).to_have_value(text.replace("</mj-column>", "", 1))


HOSTILE = {
    "Name": f"<img src=x onerror=\"console.log('{XSS_MARKER}')\">Sneaky",
    "Headline": f"<script>console.log('{XSS_MARKER}');alert(1)</script>Hello",
    "Terms": f'"><svg onload="console.log(\'{XSS_MARKER}\')">',
    "Button link": "{{ 'javascript:alert(1)' }}",
    "SMS text": "{{ ''.__class__.__mro__ }} <b onmouseover=alert(1)>x</b>",
    "Chat text": f"<iframe src=\"javascript:console.log('{XSS_MARKER}')\"></iframe>",
    "Agent script": f"<img src=x onerror=\"alert('{XSS_MARKER}')\">",
}


def test_hostile_content_never_runs_in_the_offer_page_or_the_email_frame(page: Page) -> None:
    dialogs: list[str] = []
    console: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.on("console", lambda message: console.append(message.text))
    sign_in(page, "mara@demo.studio")
    _new_offer(page, "hostile_offer", "placeholder", "placeholder")
    page.get_by_role("button", name="HTML").click()
    page.locator("#f-blocks-body_html").fill(
        f"<p>Hi</p><img src=x onerror=\"console.log('{XSS_MARKER}')\">"
    )
    for label, value in HOSTILE.items():
        page.get_by_label(label, exact=label == "Name").fill(value)
    page.get_by_role("button", name="Create offer").click()
    expect(page.locator("#f-blocks-body_html-error")).to_contain_text("onerror attribute")

    page.get_by_role("button", name="HTML").click()
    page.locator("#f-blocks-body_html").fill("<p>Hi {{ customer.first_name }}</p>")
    page.get_by_role("button", name="Create offer").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sneaky")
    expect(page.locator(".agent-card")).to_contain_text("<img src=x")
    email = page.frame_locator("iframe[title^='Email preview']")
    expect(email.locator("body")).to_contain_text("alert(1)</script>Hello")
    expect(email.locator("a[href^='javascript']")).to_have_count(0)
    expect(email.locator("script")).to_have_count(0)
    page.wait_for_timeout(500)
    page.goto("/offers/?q=hostile")
    expect(page.locator("#offer-list")).to_contain_text("Sneaky")
    page.wait_for_timeout(300)
    assert dialogs == []
    assert not [text for text in console if XSS_MARKER in text]
