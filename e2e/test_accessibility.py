"""axe-core finds no serious or critical problem on the editor pages.

axe-core comes from npm (devDependencies) and is evaluated in the page through the
browser's debugging protocol, which the page's CSP does not govern; nothing is served.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e.pages import code_editor, replace_source, sign_in

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


@cache
def _axe_source() -> str:
    if not AXE.exists():
        pytest.fail("axe-core is missing: run scripts/install --dev (npm ci installs it)")
    return AXE.read_text(encoding="utf-8")


def _serious_violations(page: Page) -> list[str]:
    page.evaluate(_axe_source())
    result = page.evaluate("""async () => {
        const r = await axe.run(document, { resultTypes: ["violations"] });
        return r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => v.id + ": " + v.help + " -> " + v.nodes.slice(0, 3).map(n => n.target.join(" ") + " (" + n.failureSummary + ")").join(", "));
    }""")
    return list(result)


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("sam@demo.studio", "/rules/retail_banking"),
        ("sam@demo.studio", "/rules/new"),
        ("mara@demo.studio", "/offers/new"),
        ("mara@demo.studio", "/layouts/"),
        ("mara@demo.studio", "/surveys/new"),
        ("sam@demo.studio", "/rules/schema"),
        ("sam@demo.studio", "/rules/schema?view=json"),
        ("rita@demo.studio", "/bundles/publish"),
    ],
)
def test_editor_pages_have_no_serious_or_critical_accessibility_violations(
    page: Page, who: str, path: str
) -> None:
    sign_in(page, who)
    page.goto(path)
    if path == "/layouts/":
        page.get_by_role("link", name="Email response footer").click()
        expect(code_editor(page, "MJML source")).to_be_visible()
    page.wait_for_load_state("networkidle")
    found = _serious_violations(page)
    assert found == [], "\n".join(found)


def _settled(page: Page) -> None:
    """No htmx swap in flight (the preview pane, the problems list): what axe reads is
    the page as the author sees it. Not "networkidle", which a busy machine's slow
    preview and lint requests can keep from ever arriving."""
    expect(page.locator(".htmx-request")).to_have_count(0, timeout=20000)


def test_the_rules_editor_with_errors_shown_has_no_serious_violations(page: Page) -> None:
    sign_in(page, "sam@demo.studio")
    page.goto("/rules/retail_banking")
    replace_source(page, "rule Broken\n  when tone is furios\n  offer nothing_here\n")
    expect(page.locator(".cm-lintRange-error").first).to_be_visible(timeout=5000)
    _settled(page)
    found = _serious_violations(page)
    assert found == [], "\n".join(found)


def _save_in_another_tab(page: Page, path: str, change) -> None:
    """Someone saves the same thing first (here: the same person, in a second tab)."""
    other = page.context.new_page()
    other.goto(path)
    change(other)
    other.get_by_role("button", name="Save revision").click()
    expect(other.get_by_text(re.compile(r"Saved revision \d+"))).to_be_visible()
    other.close()


def test_the_conflict_box_with_its_choices_has_no_serious_violations(page: Page) -> None:
    sign_in(page, "mara@demo.studio")
    path = "/offers/click_to_chat/edit"
    page.goto(path)
    page.get_by_label("Headline").fill("Mine, typed in the first tab")
    _save_in_another_tab(page, path, lambda tab: tab.get_by_label("Headline").fill("Theirs"))
    page.get_by_role("button", name="Save revision").click()
    expect(page.get_by_role("group", name=re.compile("^Headline"))).to_be_visible()
    _settled(page)
    found = _serious_violations(page)
    assert found == [], "\n".join(found)


def test_a_ruleset_conflict_box_with_hunks_has_no_serious_violations(page: Page) -> None:
    sign_in(page, "mara@demo.studio")
    page.goto("/layouts/")
    page.get_by_role("link", name="Promotional email").click()
    expect(code_editor(page, "MJML source")).to_be_visible()
    path = page.url
    mine = page.locator("#source").input_value().replace('line-height="23px"', 'line-height="24px"')
    replace_source(page, mine, "MJML source")

    def theirs(tab: Page) -> None:
        text = tab.locator("#source").input_value()
        replace_source(
            tab, text.replace('color="#7b8794">You', 'color="#616e7c">You'), "MJML source"
        )

    _save_in_another_tab(page, path, theirs)
    page.get_by_role("button", name="Save revision").click()
    expect(page.get_by_role("group", name=re.compile("^Change 1 of 2"))).to_be_visible()
    _settled(page)
    found = _serious_violations(page)
    assert found == [], "\n".join(found)
