"""The preview pane: what a sample customer gets, live, while offers and rules are edited."""

from __future__ import annotations

import time

from playwright.sync_api import Page, Route, expect

from e2e.pages import replace_source, sign_in, source_text

XSS_MARKER = "preview-xss-marker"


def _pane_ready(page: Page) -> None:
    expect(page.locator("#preview-result")).to_be_visible(timeout=5000)
    expect(
        page.locator("#preview-result .pv-timing, #preview-result .preview-blocked").first
    ).to_be_visible(timeout=5000)


def test_a_new_headline_shows_in_the_email_and_sms_previews_before_saving(page: Page) -> None:
    # How fast it shows is measured by benchmarks/preview_speed.py, not here.
    sign_in(page, "mara@demo.studio")
    page.goto("/offers/extended_warranty/edit")
    _pane_ready(page)
    focus = page.locator(".pv-role-focus")
    expect(focus).to_be_visible()
    page.get_by_label("Headline", exact=True).fill("Two more years, no worries")
    expect(focus.locator("[data-variant=sms]")).to_contain_text("Two more years, no worries")
    email = page.frame_locator(".pv-role-focus iframe[data-preview-frame='email-desktop']")
    expect(email.get_by_role("article")).to_contain_text("Two more years, no worries")
    mobile = page.frame_locator(".pv-role-focus iframe[data-preview-frame='email-mobile']")
    expect(mobile.get_by_role("article")).to_contain_text("Two more years, no worries")
    expect(page.get_by_text("from your unsaved edits")).to_be_visible()


def test_a_typo_in_a_rule_shows_the_diagnostic_with_its_suggestion_in_the_preview(
    page: Page,
) -> None:
    sign_in(page, "sam@demo.studio")
    page.goto("/rules/retail_banking")
    _pane_ready(page)
    replace_source(page, source_text(page).replace("is transactional", "is transactonal", 1))
    blocked = page.locator("#preview-result .preview-blocked")
    expect(blocked).to_contain_text("This ruleset does not compile yet", timeout=3000)
    expect(blocked).to_contain_text("transactonal")
    expect(blocked).to_contain_text("did you mean `transactional`?")
    replace_source(page, source_text(page).replace("is transactonal", "is transactional", 1))
    expect(page.locator("#preview-result .pv-decision")).to_be_visible(timeout=3000)


def test_the_rule_preview_is_asked_for_only_after_the_editor_has_its_diagnostics(
    page: Page,
) -> None:
    """The markers come first: the preview never competes with the check of the text."""
    sign_in(page, "sam@demo.studio")
    page.goto("/rules/retail_banking")
    _pane_ready(page)
    page.wait_for_timeout(500)  # the page's own first check and preview are in
    events: list[str] = []

    def slow_check(route: Route) -> None:  # a busy server: the check takes 0.8 s
        answer = route.fetch()
        time.sleep(0.8)
        route.fulfill(response=answer)

    page.route("**/editor/rules/diagnostics", slow_check)
    page.on(
        "request",
        lambda r: (
            events.append("preview sent")
            if "/preview/rules/" in r.url
            else events.append("check sent")
            if r.url.endswith("/editor/rules/diagnostics")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            events.append("check answered") if r.url.endswith("/editor/rules/diagnostics") else None
        ),
    )
    with page.expect_response(lambda r: "/preview/rules/" in r.url, timeout=10_000):
        replace_source(page, "# a new first line\n" + source_text(page))
    expect(page.locator("#preview-result .pv-decision")).to_be_visible(timeout=5000)
    page.wait_for_timeout(500)
    assert "preview sent" in events, events
    assert (
        events.index("check sent") < events.index("check answered") < events.index("preview sent")
    ), events
    assert events.count("preview sent") == 1, events


def test_choosing_the_stolen_card_shows_the_distress_guard_and_the_follow_up(page: Page) -> None:
    sign_in(page, "sam@demo.studio")
    page.goto("/rules/retail_banking")
    _pane_ready(page)
    page.get_by_label("Sample interaction").select_option("stolen-card-distress")
    guards = page.locator(".pv-box-guards")
    expect(guards).to_contain_text("never offer when tone is distressed", timeout=3000)
    expect(page.locator(".pv-box-follow")).to_contain_text("card_protection_plan")
    expect(page.locator(".pv-box-follow")).to_contain_text("after 7 days")
    expect(page.locator(".pv-tone")).to_contain_text("stolen")
    expect(page.locator("#preview-interaction")).to_have_value(
        __import__("re").compile("report_stolen_card")
    )


def test_the_email_frame_runs_no_script_even_with_a_hostile_offer(page: Page) -> None:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.on("dialog", lambda dialog: messages.append("dialog " + dialog.message))
    sign_in(page, "mara@demo.studio")
    page.goto("/offers/extended_warranty/edit")
    _pane_ready(page)
    title = page.title()
    hostile = (
        f"<script>console.log('{XSS_MARKER}');top.document.title='owned'</script>"
        f"<img src=x onerror=\"console.log('{XSS_MARKER}')\">"
    )
    page.get_by_label("Headline", exact=True).fill(hostile)
    frame = page.locator(".pv-role-focus iframe[data-preview-frame='email-desktop']")
    assert frame.get_attribute("sandbox") == ""
    email = page.frame_locator(".pv-role-focus iframe[data-preview-frame='email-desktop']")
    expect(email.get_by_role("article")).to_contain_text(
        f"<script>console.log('{XSS_MARKER}')", timeout=3000
    )
    page.wait_for_timeout(500)
    assert page.title() == title
    assert not [m for m in messages if XSS_MARKER in m]


def test_the_matrix_runs_a_ruleset_over_every_sample_and_opens_the_full_preview(page: Page) -> None:
    sign_in(page, "sam@demo.studio")
    page.goto("/interactions/matrix")
    page.get_by_label("A ruleset").select_option("retail_banking")
    row = page.locator("tr", has_text="Checkbook order by chat")
    expect(row).to_contain_text("overdraft_protection", timeout=3000)
    row.get_by_role("link", name="Checkbook order by chat", exact=True).click()
    expect(page.locator(".pv-box-offers")).to_contain_text("overdraft_protection", timeout=5000)
