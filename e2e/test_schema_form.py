"""A service lead edits the interaction schema as a form of fields, or as JSON."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from e2e.pages import sign_in


def _row(page: Page, path: str) -> str:
    """The row number of a field, from its path input's id (field-N-path)."""
    field = page.locator(f'input[name$="-path"][value="{path}"]')
    return field.get_attribute("id").split("-")[1]


def test_the_schema_form_refuses_a_bad_row_next_to_it_and_keeps_the_typing(page: Page) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "sam@demo.studio")
    page.goto("/rules/schema")
    n = _row(page, "customer.tier")
    page.get_by_label(f"Field {n} doc").fill("The customer's tier, from the CRM.")
    page.get_by_label(f"Field {n} path").fill("customer tier")  # a space: not a path
    page.get_by_role("button", name="Save schema").click()
    error = page.locator(f"#field-{n}-error")
    expect(error).to_contain_text("schema.fields.customer tier: is not a valid field path")
    expect(page.get_by_label(f"Field {n} doc")).to_have_value("The customer's tier, from the CRM.")
    page.screenshot(path="/tmp/editors-schema-error-1366.png")

    page.get_by_label(f"Field {n} path").fill("customer.tier")
    page.get_by_role("button", name="Edit as JSON").click()
    expect(page.get_by_label("Schema (JSON)")).to_contain_text("The customer's tier, from the CRM.")
    page.get_by_role("button", name="Edit as fields").click()
    page.get_by_role("button", name="Save schema").click()
    expect(page.get_by_text("Interaction schema saved.")).to_be_visible()
    expect(page.get_by_label(f"Field {n} doc")).to_have_value("The customer's tier, from the CRM.")
