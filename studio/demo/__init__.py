"""The demo workspace: people for every role plus the white paper's offers, layouts,
rules and sample interactions. Seeding is idempotent: running it twice changes nothing.
"""

from __future__ import annotations

from studio.demo.seed import DEMO_PASSWORD, DEMO_PEOPLE, seed_demo

__all__ = ["DEMO_PASSWORD", "DEMO_PEOPLE", "seed_demo"]
