"""How long publishing takes: the demo workspace, and a generated one with 1,000 offers
and 5,000 rules (ten rulesets of 500), compiled with the real rule language.

Prints, for each workspace, the median of a few publishes (compile, sign, store, in one
transaction, rolled back between runs so each run publishes the same content) and the
size of the resulting bundle. Setup (seeding, approving) is not timed.

Run: .venv/bin/python benchmarks/publish_speed.py [--runs 3] [--offers 1000] [--rules 5000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsl.parser import forget_recent
from studio import create_app, migrate
from studio.db import get_database
from studio.demo import seed_demo
from studio.models import Artifact, Bundle, Revision, User, UserRole
from studio.services import publish, signing

CATEGORIES = ("informational", "diagnostic", "transactional", "advisory", "feedback")
CHANNELS = ("email", "chat", "sms", "phone", "web")
TONES = ("positive", "neutral", "negative")


def _offer(n: int) -> dict:
    return {
        "key": f"offer_{n:04d}",
        "name": f"Offer {n}",
        "description": "",
        "owner": "Bench",
        "valid_from": "2020-01-01",
        "valid_to": None,
        "value": float(n % 200),
        "eligible_when": 'customer.state not in ["NY"]' if n % 4 == 0 else "",
        "status": "active",
        "blocks": {
            "headline": f"Offer number {n}",
            "body_html": "<p>Good for you.</p>",
            "image_url": "",
            "image_alt": "",
            "cta_label": "Go",
            "cta_url": "https://bank.example/go",
            "terms": "",
        },
        "overrides": {
            "sms_text": "",
            "email_text": "",
            "chat_text": "",
            "chat_buttons": [],
            "agent_script": "",
        },
    }


def _ruleset(index: int, rules: int, offers: int) -> str:
    lines = [
        f"# Generated ruleset {index}",
        "never offer when tone is distressed",
        "limit offers to 3 per customer per 30 days",
        "at most 2 offers per response",
        "",
    ]
    for r in range(rules):
        n = index * rules + r
        lines += [
            f'rule "Rule {n}"',
            f"  when inquiry.category is {CATEGORIES[n % len(CATEGORIES)]}",
            f"   and inquiry.channel is {CHANNELS[n % len(CHANNELS)]}",
            f"   and tone is not {TONES[n % len(TONES)]}",
            f"  offer offer_{n % offers:04d}",
            f"  priority {n % 100}",
            "",
        ]
    return "\n".join(lines)


def _generated(session: Session, *, offers: int, rulesets: int, rules_each: int) -> None:
    """Approved artifacts written directly: the benchmark measures publishing, not review."""
    rows = [("offer", f"offer_{n:04d}", f"Offer {n}", _offer(n)) for n in range(offers)]
    rows += [
        ("ruleset", f"bench_{i}", f"Bench {i}", {"source": _ruleset(i, rules_each, offers)})
        for i in range(rulesets)
    ]
    for kind, key, name, body in rows:
        artifact = Artifact(kind=kind, key=key, name=name, head_number=1, approved_number=1)
        session.add(artifact)
        session.flush()
        session.add(Revision(artifact_id=artifact.id, number=1, body=body))
    session.commit()


def _publisher(session: Session) -> User:
    user = User(email="bench@example.com", name="Bench", password_hash="!", active=True)
    user.role_rows = [UserRole(role="reviewer")]
    session.add(user)
    session.commit()
    return user


def _time_publish(
    session: Session, actor: User, ring: signing.KeyRing, runs: int
) -> tuple[float, int, int, float]:
    """Median wall seconds, bundle bytes, warnings, and the median CPU seconds of this
    process (on a shared machine the wall time mostly measures the other work)."""
    times = []
    cpu = []
    size = warnings = 0
    for _ in range(runs):
        forget_recent()  # each run parses cold, as a publish after an edit does
        start, started_cpu = time.perf_counter(), time.process_time()
        bundle = publish.publish(session, actor=actor, ring=ring)
        session.flush()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - started_cpu)
        size = len(bundle.body.encode())
        warnings = bundle.summary.get("warnings", 0)
        session.rollback()
    return statistics.median(times), size, warnings, statistics.median(cpu)


def _app(folder: Path, url: str | None):  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    url = url or f"sqlite:///{folder / 'bench.sqlite3'}"
    migrate.upgrade(url)
    return create_app(
        {"DATABASE_URL": url, "INSTANCE_PATH": folder / "instance", "SECRET_KEY": "bench"}
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--offers", type=int, default=1000)
    parser.add_argument("--rules", type=int, default=5000)
    args = parser.parse_args(argv)
    rulesets = 10
    with tempfile.TemporaryDirectory() as tmp:
        demo_app = _app(Path(tmp) / "demo", None)
        with demo_app.app_context():
            session = get_database(demo_app).session()
            seed_demo(session)
            reviewer = session.scalar(select(User).where(User.email == "rita@demo.studio"))
            ring = signing.load_or_create_keys(demo_app.instance_path)
            # The demo seed published v1; unmark it so the same content counts as new again.
            for bundle in session.scalars(select(Bundle)):
                bundle.is_current = False
            session.commit()
            seconds, size, warnings, cpu = _time_publish(session, reviewer, ring, args.runs)
            count = session.query(Artifact).count()
            print(
                f"demo workspace ({count} artifacts): publish {seconds * 1000:.0f} ms "
                f"(CPU {cpu * 1000:.0f} ms), bundle {size / 1024:.0f} KiB, {warnings} warnings"
            )
            session.close()

        big_app = _app(Path(tmp) / "big", None)
        with big_app.app_context():
            session = get_database(big_app).session()
            start = time.perf_counter()
            _generated(
                session, offers=args.offers, rulesets=rulesets, rules_each=args.rules // rulesets
            )
            setup = time.perf_counter() - start
            actor = _publisher(session)
            ring = signing.load_or_create_keys(big_app.instance_path)
            plan = publish.prepare(session)
            if plan.errors:
                for problem in plan.errors[:5]:
                    print(f"  error: {problem.ref}:{problem.line} {problem.message}")
                return 1
            seconds, size, warnings, cpu = _time_publish(session, actor, ring, args.runs)
            print(
                f"generated workspace ({args.offers:,} offers, {args.rules:,} rules in "
                f"{rulesets} rulesets; setup {setup:.1f} s untimed): publish "
                f"{seconds:.2f} s (CPU {cpu:.2f} s; ceiling 5 s: {cpu / 5:.2f}x of it), "
                f"bundle {size / 1024 / 1024:.1f} MiB, {warnings} warnings"
            )
            print(f"load average: {os.getloadavg()}")
            session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
