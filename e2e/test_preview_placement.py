"""The preview is where the author is looking: beside the ruleset and layout editors from
1,280 px wide (as for offers), below them with a sticky "Jump to preview" narrower."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.pages import code_editor, sign_in

EDITORS = [
    ("sam@demo.studio", "/rules/retail_banking", "Source", "rules"),
    ("sam@demo.studio", "/rules/new", "Source", "rules-new"),
    ("mara@demo.studio", "/layouts/email_response_footer", "MJML source", "layout"),
]


def _open(page: Page, who: str, path: str, label: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 860})
    sign_in(page, who)
    page.goto(path)
    expect(code_editor(page, label)).to_be_visible()
    expect(page.locator("#preview-pane .preview-loading")).to_have_count(0)


@pytest.mark.parametrize("width", [1280, 1366])
@pytest.mark.parametrize(("who", "path", "label", "name"), EDITORS)
def test_from_1280px_the_preview_sits_beside_the_source_editor(
    page: Page, who: str, path: str, label: str, name: str, width: int
) -> None:
    _open(page, who, path, label, width)
    editor = code_editor(page, label).bounding_box()
    pane = page.locator("#preview-pane").bounding_box()
    assert editor and pane
    assert pane["x"] >= editor["x"] + editor["width"], "the preview is beside the editor"
    assert pane["y"] < 860, "the preview starts on the first screen"
    expect(page.get_by_role("link", name="Jump to preview")).to_be_hidden()
    page.screenshot(path=f"/tmp/editors-{name}-{width}.png")


@pytest.mark.parametrize(("who", "path", "label", "name"), EDITORS)
def test_narrower_the_preview_is_below_with_a_sticky_jump_link(
    page: Page, who: str, path: str, label: str, name: str
) -> None:
    _open(page, who, path, label, 800)
    editor = code_editor(page, label).bounding_box()
    pane = page.locator("#preview-pane").bounding_box()
    assert editor and pane and pane["y"] > editor["y"] + editor["height"]
    jump = page.get_by_role("link", name="Jump to preview")
    expect(jump).to_be_in_viewport()
    page.screenshot(path=f"/tmp/editors-{name}-800.png")
    # Clicked where the user sees it: Playwright's own click first scrolls a sticky
    # element "into view", which scrolls the page under it until the preview shows and the
    # link (rightly) hides, so it would be clicking a moving target.
    box = jump.bounding_box()
    assert box
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#preview-title")).to_be_in_viewport()
