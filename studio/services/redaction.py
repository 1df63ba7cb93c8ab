"""PII redaction for imported interaction text: emails, phone numbers, card numbers.

An optional step of the history import (docs/history.md): each match is replaced by a
bracketed label, so a search for "[card]" finds contacts where a customer typed one. Card
numbers are 13-19 digits (spaces or dashes allowed between groups) that pass the Luhn
check, so order numbers and dates stay; phone numbers are 7-15 digits in the shapes
people write them (+1 415 555 0100, (415) 555-0100, 415.555.0100).
"""

from __future__ import annotations

import re
from typing import Any, Final

EMAIL: Final = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
CARD: Final = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
PHONE: Final = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]?\d{3,4}(?!\w)"
)

#: Seven digits with at most two separators between each: the least a card or phone
#: number has; text without it skips both patterns (most values of a row).
_SEVEN_DIGITS: Final = re.compile(r"\d(?:\D{0,2}\d){6}")


def _luhn(digits: str) -> bool:
    total, odd = 0, True
    for char in reversed(digits):
        value = int(char)
        if not odd:
            value *= 2
            if value > 9:
                value -= 9
        total += value
        odd = not odd
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[card]" if _luhn(digits) else match.group(0)


def redact_text(text: str) -> str:
    """`text` with emails, card numbers and phone numbers replaced by labels."""
    if not text:
        return text
    out = EMAIL.sub("[email]", text) if "@" in text else text
    if _SEVEN_DIGITS.search(out) is None:  # neither a card nor a phone number can be here
        return out
    out = CARD.sub(_card, out)
    return PHONE.sub("[phone]", out)


def redact_body(body: Any) -> Any:
    """A copy of an interaction with every text value redacted (keys and ids kept)."""
    if isinstance(body, dict):
        return {k: (v if k in ("id", "at") else redact_body(v)) for k, v in body.items()}
    if isinstance(body, list):
        return [redact_body(v) for v in body]
    if isinstance(body, str):
        return redact_text(body)
    return body
