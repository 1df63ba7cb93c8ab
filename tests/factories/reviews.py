"""Test data for review and publishing: offers, rulesets, change requests, a fake compiler.

`FakeToolchain` stands in for the rule language and MJML compilers so these tests pin
the studio's own rules (approval, pinning, all-or-nothing publishing) and stay fast;
one test in test_publish.py runs the real `DslToolchain` when the dsl facade exists.
People come from `tests.factories.make_user`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from studio.models import Artifact, Bundle, ChangeRequest, User
from studio.services import approvals, artifacts, publish, signing, submission, verdicts
from studio.services.toolchain import Compiled, OfferRef


def offer_body(key: str, headline: str = "Earn 2% back", **fields: Any) -> dict[str, Any]:
    """A valid `content.model.Offer.to_dict()` body."""
    body: dict[str, Any] = {
        "key": key,
        "name": key.replace("_", " ").title(),
        "description": "",
        "owner": "Marketing",
        "valid_from": "2020-01-01",
        "valid_to": None,
        "value": 10.0,
        "eligible_when": "",
        "status": "active",
        "blocks": {
            "headline": headline,
            "body_html": "<p>Ask us how.</p>",
            "image_url": "",
            "image_alt": "",
            "cta_label": "Learn more",
            "cta_url": "https://bank.example/offer",
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
    body.update(fields)
    return body


def make_offer(session: Session, author: User, key: str, **fields: Any) -> Artifact:
    artifact = artifacts.create(
        session,
        kind="offer",
        key=key,
        name=key.replace("_", " "),
        body=offer_body(key, **fields),
        actor_id=author.id,
    )
    session.commit()
    return artifact


def make_ruleset(session: Session, author: User, key: str, source: str) -> Artifact:
    artifact = artifacts.create(
        session,
        kind="ruleset",
        key=key,
        name=key.replace("_", " "),
        body={"source": source},
        actor_id=author.id,
    )
    session.commit()
    return artifact


def edit_offer(session: Session, artifact: Artifact, author: User, **fields: Any) -> None:
    body = {**artifacts.head(session, artifact).body, **fields}
    artifacts.save(
        session, artifact, body=body, base_number=artifact.head_number, actor_id=author.id
    )
    session.commit()


def submit(
    session: Session, author: User, *items: Artifact, title: str = "A change"
) -> ChangeRequest:
    request = submission.submit(
        session, author=author, title=title, description="", artifact_ids=[a.id for a in items]
    )
    session.commit()
    return request


def approve(session: Session, request: ChangeRequest, reviewer: User) -> None:
    verdicts.review(
        session,
        request,
        reviewer=reviewer,
        verdict="approve",
        body="",
        seen=approvals.pins_token(request),
    )
    session.commit()


def approved_offer(
    session: Session, author: User, reviewer: User, key: str, **fields: Any
) -> Artifact:
    artifact = make_offer(session, author, key, **fields)
    approve(session, submit(session, author, artifact, title=f"New {key}"), reviewer)
    return artifact


def ring(app: Flask) -> signing.KeyRing:
    return signing.load_or_create_keys(app.instance_path)


def publish_now(app: Flask, session: Session, actor: User, **kwargs: Any) -> Bundle:
    bundle = publish.publish(
        session,
        actor=actor,
        ring=ring(app),
        toolchain=kwargs.pop("toolchain", FakeToolchain()),
        **kwargs,
    )
    session.commit()
    return bundle


_OFFER = re.compile(r"^\s*(?:offer|follow up after \d+ days with offer)\s+(\w+)", re.M)


class FakeToolchain:
    """Rules are lines `when <intent> offer <key>`; `error` anywhere fails to compile."""

    def default_schema(self) -> dict[str, Any]:
        return {"fields": {"inquiry.intent": {"type": "string"}}}

    def compile_ruleset(
        self,
        source: str,
        *,
        schema: Mapping[str, Any],
        offers: Mapping[str, Mapping[str, Any]],
        name: str,
        surveys: Iterable[str] | None = None,
    ) -> Compiled:
        if "error" in source:
            return Compiled(
                False,
                [
                    {
                        "code": "E100",
                        "severity": "error",
                        "line": 1,
                        "column": 1,
                        "message": "unexpected word",
                        "hint": None,
                    }
                ],
            )
        rules = [
            {"when": m.group(1), "offer": m.group(2)}
            for m in re.finditer(r"when (\w+) offer (\w+)", source)
        ]
        return Compiled(True, [], {"name": name, "rules": rules})

    def compile_eligibility(self, source: str, *, schema: Mapping[str, Any]) -> Compiled:
        if "error" in source:
            return Compiled(
                False,
                [
                    {
                        "code": "E200",
                        "severity": "error",
                        "line": 1,
                        "column": 1,
                        "message": "unknown field",
                        "hint": None,
                    }
                ],
            )
        return Compiled(True, [], {"expr": source})

    def offer_refs(self, source: str) -> list[OfferRef]:
        refs = []
        for number, line in enumerate(source.splitlines(), start=1):
            for match in re.finditer(r"offer (\w+)", line):
                refs.append(OfferRef(match.group(1), number, match.start(1) + 1, f"rule {number}"))
        return refs

    def compile_mjml(self, source: str) -> str:
        return "<html><body>compiled</body></html>"

    def decide(
        self,
        ir: Mapping[str, Any],
        interaction: Mapping[str, Any],
        offers: Mapping[str, Mapping[str, Any]],
    ) -> dict[str, Any]:
        intent = (interaction.get("inquiry") or {}).get("intent")
        return {
            "offers": [
                {"offer": r["offer"]}
                for r in ir["rules"]
                if r["when"] == intent and r["offer"] in offers
            ]
        }
