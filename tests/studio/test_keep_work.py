"""The browser keeps a draft of an editor's form until the studio says a save stored it:
the page after a stored save names the draft it sent; a refused save is marked unsaved."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.factories import make_user, post, sign_in_as
from tests.factories.offers import make_offer, offer_form


@pytest.fixture
def marketer(app: Flask, session):
    user = make_user(session, "marketer", name="Mara Lopez")
    return sign_in_as(app.test_client(), user), user


def test_the_page_after_a_stored_save_names_the_draft_once(marketer, session) -> None:
    client, user = marketer
    make_offer(session, user, "overdraft_protection")
    form = offer_form(
        "overdraft_protection", base_number="1", _keep_work="offer:overdraft_protection"
    )
    saved = post(client, "/offers/overdraft_protection/edit", form)
    assert saved.status_code == 302
    after = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert 'data-saved-work="offer:overdraft_protection"' in after
    assert "data-saved-work" not in client.get("/offers/").get_data(as_text=True)


def test_a_refused_save_draws_the_form_marked_unsaved_and_names_no_draft(marketer, session) -> None:
    client, user = marketer
    make_offer(session, user, "overdraft_protection")
    form = offer_form(
        "overdraft_protection",
        base_number="1",
        value="abc",
        _keep_work="offer:overdraft_protection",
    )
    refused = post(client, "/offers/overdraft_protection/edit", form)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'data-keep-work="offer:overdraft_protection" data-unsaved="1"' in page
    assert "data-saved-work" not in page
    assert "data-saved-work" not in client.get("/offers/").get_data(as_text=True)


def test_a_refused_save_draws_the_what_changed_note_again(marketer, session) -> None:
    client, user = marketer
    make_offer(session, user, "overdraft_protection")
    form = offer_form(
        "overdraft_protection", base_number="1", value="abc", summary='Raised the "value"'
    )
    page = post(client, "/offers/overdraft_protection/edit", form).get_data(as_text=True)
    assert 'name="summary" type="text" value="Raised the &#34;value&#34;"' in page
    shown = client.get("/offers/overdraft_protection/edit").get_data(as_text=True)
    assert 'name="summary" type="text" value=""' in shown


def test_the_editor_shown_for_editing_is_not_marked_unsaved(marketer, session) -> None:
    client, user = marketer
    make_offer(session, user, "overdraft_protection")
    page = client.get("/offers/overdraft_protection/edit").get_data(as_text=True)
    assert 'data-keep-work="offer:overdraft_protection">' in page
