"""The review's rendered before/after: the samples the offer is made to, in the layout
each channel really uses, with samples dated today."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.demo import seed_demo
from studio.models import Artifact, ChangeRequest, Setting, User
from studio.services import artifacts, rendered_impact, submission
from studio.services.rendered_impact import as_of_today
from tests.factories import sign_in_as


def _change_offer(session: Session, key: str, **fields) -> ChangeRequest:
    author = session.scalar(select(User).where(User.email == "mara@demo.studio"))
    offer = artifacts.find(session, "offer", key)
    body = {**artifacts.head(session, offer).body, **fields}
    artifacts.save(
        session, offer, body=body, base_number=offer.head_number, actor_id=author.id, summary="edit"
    )
    return submission.submit(
        session, author=author, title=f"Edit {key}", description="", artifact_ids=[str(offer.id)]
    )


def test_an_offer_renders_for_the_samples_that_get_it(app: Flask, session: Session) -> None:
    with app.app_context():
        seed_demo(session)
        change = _change_offer(session, "refill_savings", name="Refill savings, reworded")
        impact = rendered_impact.impact(session, change)
    renders = next(iter(impact.renders.values()))
    assert [r.sample_key for r in renders][:2] == ["pharmacy-refill-3pct", "pharmacy-refill-8pct"]


def _email(app: Flask, session: Session) -> str:
    with app.app_context():
        change = _change_offer(session, "refill_savings", name="Refill savings, reworded")
        impact = rendered_impact.impact(session, change)
    return str(next(iter(impact.renders.values()))[0].after["email_html"]["html"])


def test_the_email_renders_in_the_channels_default_layout_not_the_first_by_name(
    app: Flask, session: Session
) -> None:
    with app.app_context():
        seed_demo(session)
    html = _email(app, session)  # email_response_footer: the first email layout made
    assert "While you" in html and "Your conversation history" not in html


def test_the_admins_default_layout_choice_is_the_one_rendered(app: Flask, session: Session) -> None:
    with app.app_context():
        seed_demo(session)
    session.merge(Setting(key="default_layouts", value={"email_html": "promotional_email"}))
    session.flush()
    html = _email(app, session)
    assert "Personal offer for" in html and "While you" not in html


def test_a_sample_is_decided_as_if_it_happened_today() -> None:
    moved = as_of_today(
        {"at": "2026-11-20T10:15:00Z", "id": "x"}, datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    )
    assert moved == {"at": "2026-12-02T09:30:00Z", "id": "x"}
    assert date.fromisoformat(moved["at"][:10]) == date(2026, 12, 2)


def _save_head(session: Session, kind: str, key: str, email: str, source: str) -> None:
    author = session.scalar(select(User).where(User.email == email))
    artifact = artifacts.find(session, kind, key)
    body = {**artifacts.head(session, artifact).body, "source": source}
    artifacts.save(
        session,
        artifact,
        body=body,
        base_number=artifact.head_number,
        actor_id=author.id,
        summary="x",
    )


def _drop_the_checkbook_rule(session: Session) -> Artifact:
    """Save a head of retail_banking without its checkbook-order rule; the ruleset."""
    banking = artifacts.find(session, "ruleset", "retail_banking")
    source = str(artifacts.head(session, banking).body["source"])
    start = source.index('rule "Overdraft protection with a checkbook order"')
    end = source.find("\n\n", start)
    without = source[:start] + (source[end + 2 :] if end != -1 else "")
    _save_head(session, "ruleset", "retail_banking", "sam@demo.studio", without)
    return banking


def test_sample_decisions_that_change_are_what_the_customer_gets_after_the_contact_policy(
    app: Flask, session: Session
) -> None:
    with app.app_context():
        seed_demo(session)
        banking = _drop_the_checkbook_rule(session)
        author = session.scalar(select(User).where(User.email == "sam@demo.studio"))
        change = submission.submit(
            session, author=author, title="Drop", description="", artifact_ids=[str(banking.id)]
        )
        listed = rendered_impact.impact(session, change).decisions[banking.id]
        assert [(c.sample_key, c.before, c.after) for c in listed] == [
            ("checkbook-order", ["overdraft_protection"], [])
        ]

        # The contact policy already keeps chat customers from every offer: dropping the
        # rule changes nothing any customer gets, so no sample is listed.
        policy = artifacts.find(session, "policy", "contact")
        policy_source = str(artifacts.head(session, policy).body["source"])
        _save_head(
            session,
            "policy",
            policy.key,
            "sam@demo.studio",
            "never offer when inquiry.channel is chat\n" + policy_source,
        )
        assert rendered_impact.impact(session, change).decisions[banking.id] == []


def test_the_review_page_loads_a_rulesets_sample_decisions_on_their_own(
    app: Flask, session: Session
) -> None:
    """The page answers at once; the comparison (every ruleset compiled and run over the
    samples) comes in its own request, or in the page with `inline=1` (no JavaScript)."""
    with app.app_context():
        seed_demo(session)
        banking = _drop_the_checkbook_rule(session)
        author = session.scalar(select(User).where(User.email == "sam@demo.studio"))
        rita = session.scalar(select(User).where(User.email == "rita@demo.studio"))
        change = submission.submit(
            session, author=author, title="Drop", description="", artifact_ids=[str(banking.id)]
        )
        offer = artifacts.find(session, "offer", "mobile_alerts")
        session.commit()
    client = sign_in_as(app.test_client(), rita)
    part = f"/reviews/{change.id}?part=decisions&item={banking.id}"
    page = client.get(f"/reviews/{change.id}").get_data(as_text=True)
    assert f'hx-get="{part.replace("&", "&amp;")}"' in page
    assert (
        "Comparing what each sample customer gets" in page
        and "<table" not in page.split('id="decisions-')[1].split("</div>")[0]
    )

    htmx = {"HX-Request": "true"}
    answer = client.get(part, headers=htmx).get_data(as_text=True)
    assert "<html" not in answer and f'id="decisions-{banking.id}"' in answer
    assert "Checkbook order by chat" in answer and "overdraft_protection" in answer
    inline = client.get(f"/reviews/{change.id}?inline=1").get_data(as_text=True)
    assert "Checkbook order by chat" in inline and "Comparing what each" not in inline

    # Opened without htmx, a part leads to the whole page; a wrong item or part is a 404.
    opened = client.get(part)
    assert opened.status_code == 302 and opened.headers["Location"].endswith("inline=1")
    assert (
        client.get(f"/reviews/{change.id}?part=decisions&item={offer.id}", headers=htmx).status_code
        == 404
    )
    assert (
        client.get(f"/reviews/{change.id}?part=decisions&item=x", headers=htmx).status_code == 404
    )
    assert client.get(f"/reviews/{change.id}?part=nope", headers=htmx).status_code == 404
