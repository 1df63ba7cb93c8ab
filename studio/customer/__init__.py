"""The customer's side: the message page at `/m/<token>` and what a customer does there.

Its own blueprint with its own base template and headers: no script at all, no staff
session or CSRF cookie (the token in the address is what authorizes a click), and
`Referrer-Policy: no-referrer` so the token never leaks to a site an offer links to.
"""

from __future__ import annotations

from studio.customer.views import bp

__all__ = ["bp"]
