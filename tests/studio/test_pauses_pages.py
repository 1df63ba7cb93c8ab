"""The pages around complaints: thresholds, the pause review, the webhook and its log."""

from __future__ import annotations

from flask import Flask

from studio.models import OfferPause, Setting, WebhookDelivery
from studio.roles import ADMIN, MARKETER, REVIEWER
from studio.services import auto_pause
from tests.factories import make_user, post, sign_in_as
from tests.factories.offers import make_offer


def test_a_marketer_sets_a_threshold_and_a_bad_one_is_refused_with_the_form_kept(
    app: Flask, session
) -> None:
    marketer = make_user(session, MARKETER)
    make_offer(session, marketer, "card_plan")
    client = sign_in_as(app.test_client(), marketer)
    bad = post(
        client, "/pauses/thresholds", {"offer": "card_plan", "rate": "lots", "min_exposures": "50"}
    )
    assert bad.status_code == 422 and "Enter a complaint rate" in bad.get_data(as_text=True)
    assert auto_pause.thresholds(session) == {}
    good = post(
        client, "/pauses/thresholds", {"offer": "card_plan", "rate": "2.5", "min_exposures": "50"}
    )
    assert good.status_code == 302
    session.expire_all()
    assert auto_pause.thresholds(session)["card_plan"] == auto_pause.Threshold(0.025, 50)
    assert "2.5% complaints per shown" in client.get("/pauses/").get_data(as_text=True)
    removed = post(client, "/pauses/thresholds", {"offer": "card_plan", "rate": ""})
    assert removed.status_code == 302
    page = client.get("/pauses/").get_data(as_text=True)
    assert "Complaint threshold for card_plan removed: it is no longer paused" in page
    session.expire_all()
    assert auto_pause.thresholds(session) == {}


def test_the_pause_page_offers_keep_and_undo_to_reviewers_only(app: Flask, session) -> None:
    pause = OfferPause(
        offer_key="card_plan",
        status="paused",
        paused_version=3,
        evidence={
            "shown": 40,
            "complaints": 5,
            "rate": 0.125,
            "threshold_rate": 0.1,
            "min_exposures": 20,
        },
        offer_entry={"entry": {"key": "card_plan"}},
    )
    session.add(pause)
    session.commit()
    reviewer = sign_in_as(app.test_client(), make_user(session, REVIEWER))
    html = reviewer.get(f"/pauses/{pause.id}").get_data(as_text=True)
    assert "5 complaints in 40 shown (12.5%)" in html and "Undo the pause" in html
    marketer = sign_in_as(app.test_client(), make_user(session, MARKETER))
    html = marketer.get(f"/pauses/{pause.id}").get_data(as_text=True)
    assert "Undo the pause" not in html and "A reviewer keeps or undoes" in html
    refused = post(marketer, f"/pauses/{pause.id}/review", {"verdict": "undo"})
    assert refused.status_code == 403
    kept = post(reviewer, f"/pauses/{pause.id}/review", {"verdict": "keep"})
    assert kept.status_code == 302
    session.expire_all()
    assert session.get(OfferPause, pause.id).status == "kept"


def test_the_admin_webhook_page_saves_without_showing_the_secret_and_lists_deliveries(
    app: Flask, session
) -> None:
    session.add(
        WebhookDelivery(
            kind="complaint",
            url="https://example.com/h",
            body="{}",
            status="failed",
            attempts=8,
            last_status=500,
            last_error="The receiver answered 500.",
        )
    )
    session.commit()
    admin = sign_in_as(app.test_client(), make_user(session, ADMIN))
    saved = post(
        admin, "/admin/webhook", {"url": "https://example.com/h", "secret": "s3cret-s3cret-s3cret"}
    )
    assert saved.status_code == 302
    html = admin.get("/admin/webhook").get_data(as_text=True)
    assert "https://example.com/h" in html and "s3cret" not in html
    assert "The receiver answered 500." in html
    refused = post(admin, "/admin/webhook", {"url": "https://example.com/h", "secret": "x"})
    assert refused.status_code == 422


def test_an_admin_turns_raw_customer_ids_on(app: Flask, session) -> None:
    admin = sign_in_as(app.test_client(), make_user(session, ADMIN))
    assert post(admin, "/admin/decision-log", {"raw_customer_ids": "on"}).status_code == 302
    session.expire_all()
    assert session.get(Setting, "decision_log_raw_customer_ids").value is True
