"""Loading a bundle names the part that cannot be run."""

from __future__ import annotations

from typing import Any

import pytest

from bundle.format import FORMAT
from bundle.runtime import BundleLoadError, BundleRuntime

PAGE = "<html><body><p>{{ offer.headline }}</p></body></html>"


def _load(**parts: Any) -> BundleRuntime:
    return BundleRuntime.from_bundle({"format": FORMAT, "version": 1, **parts})


@pytest.mark.parametrize(("layout", "where"), [
    ({"key": "page", "channel": "sms", "compiled_html": PAGE}, "layouts[page].channel"),
    ({"key": "page", "channel": "message_center"}, "layouts[page]"),
    ({"channel": "message_center", "compiled_html": PAGE}, "layouts[0]"),
])
def test_a_layout_that_cannot_be_used_is_named(layout: dict[str, Any], where: str) -> None:
    with pytest.raises(BundleLoadError) as caught:
        _load(layouts=[layout])
    assert caught.value.where == where


def test_layouts_load_with_their_channel_default() -> None:
    runtime = _load(layouts=[{"key": "page", "channel": "message_center", "html": PAGE},
                             {"key": "other", "name": "Other", "channel": "message_center",
                              "compiled_html": PAGE}],
                    default_layouts={"message_center": "other"})
    assert runtime.layouts["page"].name == "page" and runtime.layouts["page"].compiled_html == PAGE
    assert runtime.default_layouts == {"message_center": "other"}


def test_another_format_is_refused() -> None:
    with pytest.raises(BundleLoadError) as caught:
        BundleRuntime.from_bundle({"format": "pos-studio-bundle/2", "version": 1})
    assert caught.value.where == "format"
