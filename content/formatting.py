"""The `money`, `date` and `percent` filters marketing uses in templates.

They are total: a missing or malformed value renders as an empty string rather than an
error, because interaction payloads vary by channel and a customer should see a shorter
sentence, not a broken message. They are locale-free on purpose (English copy, ISO input)
so the same offer renders the same in every channel and in the preview.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Final

CURRENCY_SYMBOLS: Final = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CAD": "CA$",
    "AUD": "A$",
    "CHF": "CHF ",
}
ZERO_DECIMAL_CURRENCIES: Final = frozenset({"JPY"})
DATE_STYLES: Final = {
    "long": "%B {day}, %Y",
    "medium": "%b {day}, %Y",
    "short": "%Y-%m-%d",
    "weekday": "%A, %B {day}",
}
MAX_DATE_PATTERN: Final = 64


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and abs(number) < Decimal(10) ** 15 else None


def format_money(value: Any, currency: str = "USD", digits: int | None = None) -> str:
    """``1234.5|money`` -> ``$1,234.50``; ``5|money('EUR')`` -> ``€5.00``."""
    number = _number(value)
    if number is None:
        return ""
    code = str(currency).upper()[:3]
    places = (
        (0 if code in ZERO_DECIMAL_CURRENCIES else 2)
        if digits is None
        else min(max(int(digits), 0), 4)
    )
    symbol = CURRENCY_SYMBOLS.get(code, f"{code} ")
    sign = "-" if number < 0 else ""
    return f"{sign}{symbol}{_rounded(abs(number), places):,.{places}f}"


def _rounded(number: Decimal, places: int) -> Decimal:
    """Round half up, as people and receipts do (8.405 -> 8.41), not half to even."""
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_percent(value: Any, digits: int | None = None, ratio: bool = False) -> str:
    """``12.5|percent`` -> ``12.5%``; ``20|percent`` -> ``20%``; ``0.15|percent(ratio=True)``
    -> ``15%``.

    Values are percentages by default because payloads carry them that way
    (``data.refill.savings_pct``); pass ``ratio=True`` for fractions. Without `digits`,
    whole numbers show none and others one.
    """
    number = _number(value)
    if number is None:
        return ""
    if ratio:
        number *= 100
    if digits is None:
        places = 0 if number == number.to_integral_value() else 1
    else:
        places = min(max(int(digits), 0), 4)
    return f"{_rounded(number, places):,.{places}f}%"


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str) and 8 <= len(value.strip()) <= 40:
        text = value.strip().replace("Z", "+00:00")
        for parse in (datetime.fromisoformat, date.fromisoformat):
            try:
                return parse(text)
            except ValueError:
                continue
    return None


def format_date(value: Any, style: str = "long") -> str:
    """``offer.valid_to|date`` -> ``March 5, 2026``; styles long, medium, short, weekday,
    or a strftime pattern of at most 64 characters."""
    day = _as_date(value)
    if day is None:
        return ""
    pattern = DATE_STYLES.get(style)
    if pattern is None:
        pattern = str(style)[:MAX_DATE_PATTERN]
    return day.strftime(pattern.replace("{day}", str(day.day))) if pattern else ""
