"""Web addresses in a plain-text answer, made into links the customer can open.

A service reply written as plain text ("Reset it at https://bank.example/reset.") reaches
the message center as text; without this the customer had to copy the address by hand,
on a phone. Only `http://` and `https://` addresses become links (never `javascript:` or
another scheme), everything else stays escaped text, and punctuation that ends a
sentence is left outside the link. The pattern has no nested repetition, so a hostile
text is scanned in linear time.
"""

from __future__ import annotations

import re
from typing import Final

from markupsafe import Markup, escape

#: An address runs to the first space, quote or angle bracket.
_ADDRESS: Final = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
#: Characters that end a sentence rather than an address, when they end the match.
_TRAILING: Final = ".,;:!?)]}*_~"
#: An address longer than this is left as text (no real link is this long).
MAX_ADDRESS: Final = 2000


def linkify(text: str) -> Markup:
    """`text`, escaped, with each http(s) address in it made a link."""
    out: list[str] = []
    last = 0
    for found in _ADDRESS.finditer(text):
        if len(found.group()) > MAX_ADDRESS + len(_TRAILING):
            continue  # stays text: no real address is this long
        address = _trim(found.group())
        if address.endswith("//") or len(address) > MAX_ADDRESS:
            continue  # nothing after the scheme, or too long
        out.append(str(escape(text[last : found.start()])))
        out.append(
            f'<a href="{escape(address)}" rel="noopener noreferrer nofollow">{escape(address)}</a>'
        )
        last = found.start() + len(address)
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


_OPENING: Final = {")": "(", "]": "[", "}": "{"}


def _trim(address: str) -> str:
    """The address without the sentence's punctuation after it; a closing bracket stays
    when the address opened one (`https://en.wikipedia.org/wiki/Foo_(bar)`)."""
    opened = {closing: address.count(opening) for closing, opening in _OPENING.items()}
    closed = {closing: address.count(closing) for closing in _OPENING}
    end = len(address)
    while end and address[end - 1] in _TRAILING:
        last = address[end - 1]
        if last in _OPENING:
            if opened[last] >= closed[last]:
                break
            closed[last] -= 1
        end -= 1
    return address[:end]
