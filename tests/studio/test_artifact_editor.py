"""The editor flow every kind shares: a stale save shows the one conflict box and keeps
what the person typed; archive asks first and restore brings the artifact back."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from studio.models import User
from studio.services import artifacts, rulesets, samples
from tests.factories import make_user, post, sign_in_as
from tests.factories.offers import EMAIL_LAYOUT, make_layout, make_offer, offer_form
from tests.factories.reviews import make_ruleset


@dataclass(frozen=True)
class StaleSave:
    url: str
    theirs: dict[str, str]
    mine: dict[str, str]
    shows: tuple[str, ...]
    next_base: str
    setup: Callable[[Session, User], object] = lambda _session, _user: None


def _schema_text(session: Session) -> str:
    return json.dumps(rulesets.current_schema(session).to_dict(), indent=2)


def _sample(session: Session, user: User) -> None:
    samples.create(session, key="s1", name="One", tags="", body={}, actor_id=user.id)
    session.commit()


STALE_SAVES = {
    "offer": StaleSave(
        "/offers/card_offer/edit",
        offer_form("card_offer", name="Their name", base_number="1"),
        offer_form("card_offer", name="My name", base_number="1"),
        ("Their name", "My name"),
        'name="base_number" value="2"',
        lambda session, user: make_offer(session, user, "card_offer"),
    ),
    "layout": StaleSave(
        "/layouts/promo_email",
        {"name": "Promo", "source": EMAIL_LAYOUT.replace("Hello", "Hey"), "base_number": "1"},
        {"name": "Promo", "source": EMAIL_LAYOUT.replace("Hello", "Dear"), "base_number": "1"},
        ("Hey {{ customer.first_name }}", "Dear {{ customer.first_name }}"),
        'name="base_number" value="2"',
        lambda session, user: make_layout(session, user, "promo_email"),
    ),
    "ruleset": StaleSave(
        "/rules/retail",
        {"name": "Retail", "source": "# their note\n", "base_number": "1"},
        {"name": "Retail", "source": "# my note\n", "base_number": "1"},
        ("# their note", "# my note"),
        'name="base_number" value="2"',
        lambda session, user: make_ruleset(session, user, "retail", "# first\n"),
    ),
    "lexicon": StaleSave(
        "/rules/lexicon",
        {"terms": "stolen\ntheir-term", "base_number": "0"},
        {"terms": "stolen\nmy-term", "base_number": "0"},
        ("their-term", "my-term"),
        'name="base_number" value="1"',
    ),
    "sample": StaleSave(
        "/interactions/s1/edit",
        {
            "mode": "json",
            "name": "One",
            "tags": "",
            "lock_version": "1",
            "json": '{"inquiry": {"channel": "sms"}}',
        },
        {
            "mode": "json",
            "name": "One",
            "tags": "",
            "lock_version": "1",
            "json": '{"inquiry": {"channel": "chat"}}',
        },
        ("&#34;sms&#34;", "&#34;chat&#34;"),
        'name="lock_version" value="2"',
        _sample,
    ),
}


@pytest.fixture
def author(app: Flask, session: Session) -> tuple[FlaskClient, User]:
    user = make_user(session, "marketer", "service_lead", name="Casey Both")
    return sign_in_as(app.test_client(), user), user


@pytest.mark.parametrize("kind", sorted(STALE_SAVES))
def test_every_editor_shows_the_shared_conflict_box_and_keeps_the_typed_text(
    author: tuple[FlaskClient, User], session: Session, kind: str
) -> None:
    client, user = author
    case = STALE_SAVES[kind]
    case.setup(session, user)
    assert post(client, case.url, case.theirs).status_code == 302
    response = post(client, case.url, case.mine)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'class="conflict card"' in html and "Someone else saved this" in html
    assert "Not saved" in html and 'class="diff"' in html
    for text in case.shows:
        assert text in html
    assert case.next_base in html


@pytest.mark.parametrize(
    ("kind", "choice"),
    [
        ("offer", '<legend>Name <span class="status status-warn">changed by both of you'),
        ("ruleset", "Change 1 of 1, at line 1 of theirs"),
        ("layout", "Change 1 of 1"),
    ],
)
def test_offers_offer_a_choice_per_field_and_sources_a_choice_per_hunk(
    author: tuple[FlaskClient, User], session: Session, kind: str, choice: str
) -> None:
    client, user = author
    case = STALE_SAVES[kind]
    case.setup(session, user)
    post(client, case.url, case.theirs)
    html = post(client, case.url, case.mine).get_data(as_text=True)
    assert choice in html
    assert 'value="theirs"' in html and 'value="mine"' in html
    assert '<script type="application/json" id="conflict-choices">' in html


def test_the_schema_editor_shows_the_shared_conflict_box_too(
    author: tuple[FlaskClient, User], session: Session
) -> None:
    client, _ = author
    text = _schema_text(session)
    assert post(client, "/rules/schema", {"schema": text, "base_number": "0"}).status_code == 302
    response = post(client, "/rules/schema", {"schema": text, "base_number": "0"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'class="conflict card"' in html and "Casey Both saved revision 1" in html
    assert 'name="base_number" value="1"' in html


ARCHIVABLE = {
    "offer": ("/offers", "/offers/card_offer", lambda s, u: make_offer(s, u, "card_offer")),
    "layout": ("/layouts", "/layouts/promo_email", lambda s, u: make_layout(s, u, "promo_email")),
    "ruleset": ("/rules", "/rules/retail", lambda s, u: make_ruleset(s, u, "retail", "# r\n")),
}


@pytest.mark.parametrize("kind", sorted(ARCHIVABLE))
def test_archive_asks_first_then_restore_brings_it_back_as_new_revisions(
    author: tuple[FlaskClient, User], session: Session, kind: str
) -> None:
    client, user = author
    index, page, make = ARCHIVABLE[kind]
    artifact = make(session, user)
    ask = client.get(f"{page}/archive")
    assert ask.status_code == 200 and artifact.name in ask.get_data(as_text=True)
    assert not _fresh(session, kind, artifact.key).archived

    archived = post(client, f"{page}/archive")
    assert archived.status_code == 302 and archived.headers["Location"] == f"{index}/"
    stored = _fresh(session, kind, artifact.key)
    assert stored.archived and artifacts.head(session, stored).summary == "Archived"
    assert "is archived" in client.get(f"{index}/").get_data(as_text=True)

    restored = post(client, f"{page}/restore")
    assert restored.status_code == 302
    stored = _fresh(session, kind, artifact.key)
    assert not stored.archived and stored.head_number == 3
    assert f"{artifact.name} is restored." in client.get(restored.headers["Location"]).get_data(
        as_text=True
    )


def _fresh(session: Session, kind: str, key: str):
    session.expire_all()
    return artifacts.find(session, kind, key)
