"""axe-core finds no serious or critical problem on the editor pages.

axe-core comes from npm (devDependencies) and is evaluated in the page through the
browser's debugging protocol, which the page's CSP does not govern; nothing is served.
"""

from __future__ import annotations

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


def test_the_rules_editor_with_errors_shown_has_no_serious_violations(page: Page) -> None:
    sign_in(page, "sam@demo.studio")
    page.goto("/rules/retail_banking")
    replace_source(page, "rule Broken\n  when tone is furios\n  offer nothing_here\n")
    expect(page.locator(".cm-lintRange-error").first).to_be_visible(timeout=5000)
    page.wait_for_load_state("networkidle")
    found = _serious_violations(page)
    assert found == [], "\n".join(found)
