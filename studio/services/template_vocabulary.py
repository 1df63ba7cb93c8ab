"""The names a template may use, for completion in the layout and template editors:
the vocabulary roots with their fields, the filters and the helpers."""

from __future__ import annotations

from typing import Any, Final

from content import templates
from dsl.schema import Schema

#: What `offer.` holds in a layout (meta plus the rendered content blocks).
OFFER_FIELDS: Final = (
    ("offer.headline", "the offer's headline"),
    ("offer.body", "the rich body, already sanitized"),
    ("offer.image_url", "the offer's image"),
    ("offer.image_alt", "the image's description"),
    ("offer.cta_label", "the call-to-action label"),
    ("offer.cta_url", "the call-to-action link"),
    ("offer.terms", "the small print"),
    ("offer.key", "the offer's key"),
    ("offer.name", "the offer's name"),
    ("offer.description", "the offer's description"),
    ("offer.value", "the business value of one acceptance"),
    ("offer.valid_from", "the first day the offer is valid"),
    ("offer.valid_to", "the last day the offer is valid"),
    ("offer.status", "the offer's status"),
)


def vocabulary(schema: Schema) -> dict[str, Any]:
    """Roots, fields (from the interaction schema), filters and helpers, with docs."""
    names: list[dict[str, str]] = [
        {
            "name": root,
            "doc": f"the {root} of the interaction"
            if root != "offer"
            else "the offer being rendered",
            "kind": "root",
        }
        for root in templates.VOCABULARY
    ]
    for spec in schema.fields:
        if spec.path.split(".")[0] in ("customer", "inquiry"):
            names.append({"name": spec.path, "doc": spec.doc or spec.describe(), "kind": "field"})
    names.extend({"name": path, "doc": doc, "kind": "field"} for path, doc in OFFER_FIELDS)
    names.append(
        {"name": "data.", "doc": "extra payload sent with the interaction", "kind": "root"}
    )
    helpers = [
        {"name": f"{name}()", "doc": "a link for this customer", "kind": "helper"}
        for name in templates.HELPERS
    ]
    filters = sorted(
        name
        for name in templates.environment(True).filters
        if not name.endswith("_guard") and name != "url_attribute"
    )
    return {
        "names": names,
        "helpers": helpers,
        "filters": filters,
        "tags": ["if", "elif", "else", "endif", "for", "endfor", "set", "with", "endwith"],
    }
