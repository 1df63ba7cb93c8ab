"""SMS encoding detection and segment counting (GSM 03.38 / UCS-2).

An SMS carries 140 bytes. Text that fits the GSM-7 alphabet uses 7-bit septets (160 per
message, 153 per part when concatenated, the rest holding the joining header); one
character outside it (a curly quote, an emoji) switches the whole message to UCS-2 with
70 / 67 UTF-16 units. Extension characters such as ``€`` or ``{`` cost two septets, and a
part never splits an escape pair or a surrogate pair. Marketing pays per part, so the
editor shows the count and warns past one part.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal

from content.diagnostics import Diagnostic

GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION: Final = frozenset("^{}\\[~]|€\f")

SINGLE: Final = {"GSM-7": 160, "UCS-2": 70}
PART: Final = {"GSM-7": 153, "UCS-2": 67}

Encoding = Literal["GSM-7", "UCS-2"]

# Characters that never belong in a short message: C0/C1 controls other than line breaks
# and tabs (NUL, ESC sequences, form feed), and the bidirectional embeddings, overrides,
# isolates and marks that make a phone show text in another order than it was written.
UNSAFE_TEXT: Final = re.compile(
    "[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def unsafe_characters(text: str) -> list[tuple[int, int, str]]:
    """Every control or bidi character in `text` as (line, column, name), 1-based."""
    out = []
    for match in UNSAFE_TEXT.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        char = match.group(0)
        name = unicodedata.name(char, "control character")
        out.append((line, column, f"{name.lower()} (U+{ord(char):04X})"))
    return out


def without_unsafe_characters(text: str) -> str:
    """`text` with control and bidi characters removed (for values a template inserts)."""
    return UNSAFE_TEXT.sub("", text)


@dataclass(frozen=True, slots=True)
class SmsInfo:
    """How a text travels as SMS: encoding, size in characters and units, parts, warnings."""

    encoding: Encoding
    characters: int
    units: int
    segments: int
    warnings: tuple[Diagnostic, ...] = ()
    non_gsm: tuple[str, ...] = ()

    @property
    def per_segment(self) -> int:
        return SINGLE[self.encoding] if self.segments <= 1 else PART[self.encoding]


def _cost(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def _count_segments(text: str, encoding: Encoding, units: int) -> int:
    if units == 0:
        return 0
    if units <= SINGLE[encoding]:
        return 1
    part, segments, used = PART[encoding], 1, 0
    for char in text:
        cost = _cost(char, encoding)
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return segments


def analyze_sms(text: str, *, field: str | None = None) -> SmsInfo:
    """Detect the encoding of `text` and count characters, units and segments."""
    non_gsm = tuple(
        dict.fromkeys(c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENSION)
    )
    encoding: Encoding = "UCS-2" if non_gsm else "GSM-7"
    units = sum(_cost(c, encoding) for c in text)
    segments = _count_segments(text, encoding, units)
    warnings: list[Diagnostic] = []
    if not text.strip():
        warnings.append(
            Diagnostic("sms-empty", "the SMS text is empty", field=field, severity="warning")
        )
    if segments > 1:
        warnings.append(
            Diagnostic(
                "sms-segments",
                f"{units} {'septets' if encoding == 'GSM-7' else 'UTF-16 units'} in {encoding} "
                f"need {segments} SMS parts",
                field=field,
                severity="warning",
                hint=f"one part holds {SINGLE[encoding]}; shorten the text"
                + (f" or replace {''.join(non_gsm[:5])!r} to stay in GSM-7" if non_gsm else ""),
            )
        )
    elif non_gsm:
        warnings.append(
            Diagnostic(
                "sms-ucs2",
                f"{''.join(non_gsm[:5])!r} switches the SMS to UCS-2 (70 per part)",
                field=field,
                severity="info",
                hint="straight quotes and plain letters stay in GSM-7",
            )
        )
    return SmsInfo(encoding, len(text), units, segments, tuple(warnings), non_gsm)
