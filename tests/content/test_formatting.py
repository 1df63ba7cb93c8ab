from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from content.formatting import format_date, format_money, format_percent


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((1234.5,), "$1,234.50"),
        ((8.405,), "$8.41"),
        ((-20,), "-$20.00"),
        ((5, "EUR"), "€5.00"),
        ((1000, "JPY"), "¥1,000"),
        ((3, "SEK"), "SEK 3.00"),
        (("12.5",), "$12.50"),
        ((None,), ""),
        (("n/a",), ""),
        ((True,), ""),
        ((float("inf"),), ""),
    ],
)
def test_money(args: tuple[Any, ...], expected: str) -> None:
    assert format_money(*args) == expected


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((12.5,), {}, "12.5%"),
        ((20,), {}, "20%"),
        ((0.155,), {"ratio": True}, "15.5%"),
        ((33.333, 2), {}, "33.33%"),
        ((None,), {}, ""),
    ],
)
def test_percent(args: tuple[Any, ...], kwargs: dict[str, Any], expected: str) -> None:
    assert format_percent(*args, **kwargs) == expected


@pytest.mark.parametrize(
    ("value", "style", "expected"),
    [
        (date(2026, 3, 5), "long", "March 5, 2026"),
        ("2026-03-05", "medium", "Mar 5, 2026"),
        ("2026-03-05T10:00:00Z", "short", "2026-03-05"),
        (datetime(2026, 3, 5, 9), "weekday", "Thursday, March 5"),
        ("2026-03-05", "%d/%m/%Y", "05/03/2026"),
        ("not a date", "long", ""),
        (None, "long", ""),
    ],
)
def test_date(value: Any, style: str, expected: str) -> None:
    assert format_date(value, style) == expected
