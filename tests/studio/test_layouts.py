"""Marketers write channel layouts in MJML or HTML; only layouts that compile are stored."""

from __future__ import annotations

import pytest
from flask import Flask

from studio.models import Artifact, Revision
from studio.services import artifacts
from tests.factories import make_user, post, sign_in_as
from tests.factories.offers import EMAIL_LAYOUT, make_layout, make_offer

BROKEN = EMAIL_LAYOUT.replace("</mj-column>\n", "", 1)


@pytest.fixture
def marketer(app: Flask, session):
    user = make_user(session, "marketer")
    return sign_in_as(app.test_client(), user), user


def _new(client, key: str = "promo_email", source: str = EMAIL_LAYOUT, channel: str = "email_html"):
    return post(
        client,
        "/layouts/new",
        {"key": key, "name": "Promo email", "channel": channel, "source": source},
    )


def test_empty_layouts_page_offers_a_first_layout(marketer) -> None:
    client, _ = marketer
    html = client.get("/layouts/").get_data(as_text=True)
    assert "No layouts yet." in html and "Write the first email layout" in html


def test_a_layout_that_compiles_is_stored_with_its_html(marketer, session) -> None:
    client, _ = marketer
    assert _new(client).status_code == 302
    body = artifacts.head(session, artifacts.find(session, "layout", "promo_email")).body
    assert body["channel"] == "email_html" and body["source"] == EMAIL_LAYOUT
    assert "<html" in body["compiled_html"] and "offer.headline" in body["compiled_html"]
    listing = client.get("/layouts/").get_data(as_text=True)
    assert "Promo email" in listing and "Email (MJML)" in listing


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param(BROKEN, "line", id="unclosed-tag"),
        pytest.param(
            EMAIL_LAYOUT.replace("customer.first_name", "custmer.first_name"),
            "custmer",
            id="unknown-variable",
        ),
        pytest.param(
            EMAIL_LAYOUT.replace(
                "<mj-text>Hello", "<mj-raw><script>alert(1)</script></mj-raw><mj-text>Hello"
            ),
            "script",
            id="script-element",
        ),
        pytest.param("<p>{{ offer.headline }}</p>", "MJML", id="email-not-mjml"),
    ],
)
def test_a_layout_that_does_not_compile_is_refused_with_a_line_number(
    marketer, session, source, message
) -> None:
    client, _ = marketer
    response = _new(client, source=source)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="source-error"' in html and message.lower() in html.lower()
    assert "data-jump-line" in html
    assert session.query(Artifact).filter_by(kind="layout").count() == 0


def test_live_check_reports_compile_errors_by_line_and_column(marketer) -> None:
    client, _ = marketer
    html = post(
        client,
        "/layouts/check",
        {"source": BROKEN, "channel": "email_html"},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert "Does not compile" in html and "line " in html and "column" in html
    assert "<html" not in html
    ok = post(client, "/layouts/check", {"source": EMAIL_LAYOUT, "channel": "email_html"})
    assert "Compiles cleanly" in ok.get_data(as_text=True)


def test_unsupported_mjml_features_are_named_in_the_editor_and_flagged_in_use(marketer) -> None:
    client, _ = marketer
    page = client.get("/layouts/new").get_data(as_text=True)
    assert "mj-html-attributes" in page and "mj-style inline" in page
    source = EMAIL_LAYOUT.replace(
        "<mjml>", '<mjml><mj-head><mj-style inline="inline">p { color: red }</mj-style></mj-head>'
    )
    html = post(client, "/layouts/check", {"source": source, "channel": "email_html"}).get_data(
        as_text=True
    )
    assert "is not inlined by mjml-python" in html


def test_message_center_pages_are_html(marketer, session) -> None:
    client, _ = marketer
    assert "<!doctype html>" in client.get("/layouts/new?channel=message_center").get_data(
        as_text=True
    )
    source = '<html><body><h1>{{ offer.headline }}</h1><a href="{{ offer.cta_url }}">Go</a></body></html>'
    assert _new(client, "center", source, "message_center").status_code == 302
    body = artifacts.head(session, artifacts.find(session, "layout", "center")).body
    assert "url_attribute" in body["compiled_html"]


def test_saving_makes_a_revision_and_a_broken_save_stores_nothing(marketer, session) -> None:
    client, user = marketer
    make_layout(session, user, "promo_email")
    changed = EMAIL_LAYOUT.replace("Hello", "Hi")
    assert (
        post(
            client, "/layouts/promo_email", {"name": "Promo", "source": changed, "base_number": "1"}
        ).status_code
        == 302
    )
    response = post(
        client, "/layouts/promo_email", {"name": "Promo", "source": BROKEN, "base_number": "2"}
    )
    assert response.status_code == 422
    assert "mj-column" in response.get_data(as_text=True)
    assert session.query(Revision).count() == 2


def test_a_concurrent_layout_edit_gets_a_conflict_keeping_the_source(marketer, session) -> None:
    client, user = marketer
    make_layout(session, user, "promo_email")
    post(
        client,
        "/layouts/promo_email",
        {"name": "Promo", "source": EMAIL_LAYOUT.replace("Hello", "Hey"), "base_number": "1"},
    )
    mine = EMAIL_LAYOUT.replace("Hello", "Dear")
    response = post(
        client, "/layouts/promo_email", {"name": "Promo", "source": mine, "base_number": "1"}
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Dear {{ customer.first_name }}" in html and "Hey {{ customer.first_name }}" in html


def test_layout_preview_fills_a_sample_offer_in_a_sandboxed_document(marketer, session) -> None:
    client, user = marketer
    make_layout(session, user, "promo_email")
    make_offer(session, user, "overdraft_protection")
    assert 'sandbox=""' in client.get("/layouts/promo_email").get_data(as_text=True)
    response = client.get("/layouts/promo_email/preview.html")
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "Never bounce a check again" in response.get_data(as_text=True)


def test_archiving_a_layout_asks_first(marketer, session) -> None:
    client, user = marketer
    make_layout(session, user, "promo_email")
    assert "Archive Promo Email?" in client.get("/layouts/promo_email/archive").get_data(
        as_text=True
    )
    post(client, "/layouts/promo_email/archive")
    assert artifacts.find(session, "layout", "promo_email").archived
    assert "No layouts yet." in client.get("/layouts/").get_data(as_text=True)


@pytest.mark.parametrize(
    "hostile",
    [
        '<p title="<!--"><img src=x onerror=alert(1)>--></p>',
        "<svg><p><style><img src=x onerror=alert(1)>",
        "<img src=x {# c #}onerror=alert(1)>",
        '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
        '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
        '<div style="position:fixed;top:0;left:0;width:100%;height:100%">x</div>',
    ],
)
def test_a_layout_the_sanitizer_would_change_is_refused_with_its_line(
    marketer, session, hostile: str
) -> None:
    client, _ = marketer
    source = f"<h1>{{{{ offer.headline }}}}</h1>\n<p>fine</p>\n{hostile}\n{{{{ offer.body }}}}"
    response = _new(client, "center", source, "message_center")
    assert response.status_code == 422
    assert "Line 3" in response.get_data(as_text=True)
    assert artifacts.find(session, "layout", "center") is None


def test_an_mjml_layout_with_hostile_raw_html_is_refused_with_its_line(marketer, session) -> None:
    client, _ = marketer
    source = EMAIL_LAYOUT.replace(
        "</mj-column>", "<mj-raw>\n<img src=x onerror=alert(1)></mj-raw></mj-column>", 1
    )
    line = source[: source.index("<img src=x")].count("\n") + 1
    response = _new(client, source=source)
    assert response.status_code == 422 and f"Line {line}" in response.get_data(as_text=True)


def test_a_notification_email_layout_needs_the_message_link_and_is_refused_without_it(
    marketer, session
) -> None:
    from studio.services import layouts as layout_service

    client, _ = marketer
    starter = layout_service.STARTERS["notification_email"]
    refused = _new(
        client,
        key="answer_ready",
        channel="notification_email",
        source=starter.replace("{{ message_center_url() }}", "https://example.com"),
    )
    assert refused.status_code == 422 and "never links" in refused.get_data(as_text=True)
    assert session.query(Artifact).filter_by(kind="layout").count() == 0
    assert (
        _new(client, key="answer_ready", channel="notification_email", source=starter).status_code
        == 302
    )
    body = artifacts.head(session, artifacts.find(session, "layout", "answer_ready")).body
    assert (
        body["channel"] == "notification_email"
        and "<title>Your answer is ready</title>" in body["compiled_html"]
    )


def test_a_layout_posted_with_the_browsers_crlf_line_breaks_compiles_and_is_stored_with_lf(
    marketer, session
) -> None:
    client, user = marketer
    layout = make_layout(session, user, "promo_email")
    sent = EMAIL_LAYOUT.replace("Hello", "Hi").replace("\n", "\r\n")
    response = post(
        client, "/layouts/promo_email", {"name": "Promo", "source": sent, "base_number": "1"}
    )
    assert response.status_code == 302
    session.expire_all()
    stored = artifacts.head(session, layout).body["source"]
    assert "\r" not in stored and "Hi" in stored
