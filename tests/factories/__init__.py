"""Test data that reads like the domain, one module per area.

- `apps`: a studio app configured for tests (`make_app`, cheap password hashes).
- `people`: `make_user`, the one way to make a person, and their `PASSWORD`.
- `web`: `sign_in_as` a person and `post` forms with the CSRF token.
- `offers`: offer bodies and editor forms, layouts, image bytes (the offer library).
- `reviews`: rulesets, change requests, approvals, publishing, `FakeToolchain`.
- `samples`: the demo workspace as plain data and a small seeded preview workspace.

The helpers nearly every web test needs are importable from the package itself.
"""

from __future__ import annotations

from tests.factories.people import PASSWORD, make_user
from tests.factories.web import CSRF, post, sign_in_as

__all__ = ["CSRF", "PASSWORD", "make_user", "post", "sign_in_as"]
