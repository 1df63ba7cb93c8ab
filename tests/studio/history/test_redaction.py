"""PII redaction of imported text: emails, phone numbers and card numbers go, the rest stays."""

from __future__ import annotations

import pytest

from studio.services.redaction import redact_body, redact_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to ann.lee+bank@mail.example.co.uk now", "write to [email] now"),
        ("call (415) 555-0100 or +44 20 7946 0958", "call [phone] or [phone]"),
        ("my card 4111-1111-1111-1111 was taken", "my card [card] was taken"),
        ("card 5500 0000 0000 0004.", "card [card]."),
        ("order 1234567890123 is late", "order 1234567890123 is late"),  # fails the Luhn check
        ("on 2026-11-20 at 10:15 I paid $120.50", "on 2026-11-20 at 10:15 I paid $120.50"),
        ("", ""),
    ],
)
def test_redaction_replaces_only_what_identifies_a_person(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_every_text_value_is_redacted_but_ids_and_dates_are_kept() -> None:
    body = {
        "id": "ann@example.com",
        "at": "2026-11-20T10:15:00Z",
        "inquiry": {"text": "reach me at ann@example.com"},
        "customer": {"id": "c-1", "products": ["call 415 555 0100"]},
        "tone": {"score": 0.4},
    }
    assert redact_body(body) == {
        "id": "ann@example.com",
        "at": "2026-11-20T10:15:00Z",
        "inquiry": {"text": "reach me at [email]"},
        "customer": {"id": "c-1", "products": ["call [phone]"]},
        "tone": {"score": 0.4},
    }
