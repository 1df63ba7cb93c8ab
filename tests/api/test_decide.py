"""`POST /api/v1/decide`: decisions on the published bundle, with rendered variants."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask.testing import FlaskClient

from studio.models import Bundle
from tests.api.conftest import CHECKBOOK, STOLEN_CARD, StoreBundle


def _decide(client: FlaskClient, auth: dict[str, str], **body: Any):
    return client.post("/api/v1/decide", json=body, headers=auth)


def test_checkbook_order_gets_overdraft_protection_rendered_for_email(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    response = _decide(client, auth, interaction=CHECKBOOK)
    assert response.status_code == 200
    decision = response.get_json()
    assert decision["bundle"] == {"version": published.version, "digest": published.digest}
    assert decision["channels"] == ["email_html", "email_text"]
    [offer] = decision["offers"]
    assert offer["offer"] == "overdraft_protection" and offer["ruleset"] == "retail_banking"
    assert set(offer["variants"]) == {"email_html", "email_text"}
    assert "bounce a check" in offer["variants"]["email_text"]["text"]
    assert "trace" not in decision["rulesets"][0]


def test_stolen_card_makes_no_offer_but_schedules_card_protection(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    decision = _decide(client, auth, interaction=STOLEN_CARD).get_json()
    assert decision["offers"] == []
    assert {"offer": "card_protection_plan", "ruleset": "retail_banking"}.items() <= next(
        f for f in decision["follow_ups"] if f["ruleset"] == "retail_banking"
    ).items()
    banking = next(r for r in decision["rulesets"] if r["key"] == "retail_banking")
    assert banking["guards"]


def test_explain_adds_the_trace_of_every_ruleset(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    decision = _decide(client, auth, interaction=CHECKBOOK, explain=True).get_json()
    assert all("trace" in ruleset for ruleset in decision["rulesets"])


def test_variants_asked_for_replace_the_channels_defaults(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    decision = _decide(
        client, auth, interaction=CHECKBOOK, channels=["sms", "chat", "agent"]
    ).get_json()
    variants = decision["offers"][0]["variants"]
    assert set(variants) == {"sms", "chat", "agent"}
    assert variants["sms"]["sms"]["segments"] >= 1
    assert variants["chat"]["buttons"]


def test_a_named_layout_carries_the_email(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    decision = _decide(
        client,
        auth,
        interaction=CHECKBOOK,
        channels=["email_html"],
        layouts={"email_html": "promotional_email"},
    ).get_json()
    assert decision["offers"][0]["variants"]["email_html"]["ok"]


def test_an_older_version_can_be_named(
    client: FlaskClient, store_bundle: StoreBundle, auth: dict[str, str]
) -> None:
    first = store_bundle()
    store_bundle()
    decision = _decide(client, auth, interaction=CHECKBOOK, version=first.version).get_json()
    assert decision["bundle"]["version"] == first.version


def _with(path: str, value: Any) -> dict[str, Any]:
    interaction = copy.deepcopy(CHECKBOOK)
    node = interaction
    *parents, last = path.split(".")
    for name in parents:
        node = node.setdefault(name, {})
    node[last] = value
    return interaction


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({}, 400, "missing_field", "interaction"),
        ({"interaction": CHECKBOOK, "colour": "red"}, 400, "unknown_field", "colour"),
        ({"interaction": []}, 400, "invalid_type", "interaction"),
        ({"interaction": None}, 400, "invalid_type", "interaction"),
        ({"interaction": CHECKBOOK, "explain": "yes"}, 400, "invalid_type", "explain"),
        ({"interaction": CHECKBOOK, "channels": ["fax"]}, 400, "unknown_channel", "channels[0]"),
        ({"interaction": CHECKBOOK, "version": 0}, 400, "invalid_version", "version"),
        ({"interaction": CHECKBOOK, "version": 42}, 404, "unknown_version", "version"),
        (
            {"interaction": CHECKBOOK, "layouts": {"sms": "x"}},
            400,
            "unknown_layout_channel",
            "layouts.sms",
        ),
        (
            {"interaction": CHECKBOOK, "layouts": {"email_html": "nope"}},
            400,
            "unknown_layout",
            "layouts.email_html",
        ),
        (
            {"interaction": CHECKBOOK, "layouts": {"email_html": "message_center_page"}},
            400,
            "unknown_layout",
            "layouts.email_html",
        ),
        (
            {"interaction": _with("tone.label", "furious")},
            400,
            "invalid_interaction",
            "interaction.tone.label",
        ),
        (
            {"interaction": _with("inquiry.categroy", "transactional")},
            400,
            "invalid_interaction",
            "interaction.inquiry.categroy",
        ),
        (
            {"interaction": _with("customer.products", "checking")},
            400,
            "invalid_interaction",
            "interaction.customer.products",
        ),
    ],
)
def test_bad_requests_point_at_the_field(
    client: FlaskClient,
    published: Bundle,
    auth: dict[str, str],
    body: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    response = client.post("/api/v1/decide", json=body, headers=auth)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]


def test_before_any_publish_decide_is_404(client: FlaskClient, auth: dict[str, str]) -> None:
    response = _decide(client, auth, interaction=CHECKBOOK)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "no_bundle"


def test_unknown_interaction_field_gets_a_suggestion(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    response = _decide(client, auth, interaction=_with("inquiry.categroy", "transactional"))
    assert "inquiry.category" in response.get_json()["error"]["message"]


def test_a_hostile_layout_stored_before_the_sanitizer_reaches_customers_inert(
    client: FlaskClient,
    store_bundle: StoreBundle,
    demo_bundle_body: dict[str, Any],
    auth: dict[str, str],
) -> None:
    hostile = (
        "<h1>{{ offer.headline }}</h1><svg><p><style><img src=x onerror=alert(1)>"
        "</style></p></svg><img src=x {# c #}onerror=alert(2)>"
        '<meta http-equiv="refresh" content="0;url=javascript:alert(3)">'
        '<div style="position:fixed;top:0;width:100%;height:100%">{{ offer.body }}</div>'
    )
    layouts = [
        dict(layout, compiled_html=hostile) if layout["channel"] == "message_center" else layout
        for layout in demo_bundle_body["layouts"]
    ]
    store_bundle(layouts=layouts)
    decision = _decide(client, auth, interaction=CHECKBOOK, channels=["message_center"]).get_json()
    html = decision["offers"][0]["variants"]["message_center"]["html"]
    assert "bounce a check" in html.lower() or "<h1>" in html
    for active in ("onerror", "<svg", "<style", "refresh", "position", "<meta http-equiv"):
        assert active not in html, html


def test_without_at_the_decision_uses_the_server_time_and_says_so(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    from datetime import UTC, datetime, timedelta

    interaction = {k: v for k, v in CHECKBOOK.items() if k != "at"}
    decision = _decide(client, auth, interaction=interaction).get_json()
    assert decision["at"]["source"] == "server"
    moment = datetime.fromisoformat(decision["at"]["value"].replace("Z", "+00:00"))
    assert abs(moment - datetime.now(UTC)) < timedelta(minutes=1)
    assert [o["offer"] for o in decision["offers"]] == ["overdraft_protection"]
    given = _decide(client, auth, interaction=CHECKBOOK).get_json()
    assert given["at"] == {"value": CHECKBOOK["at"], "source": "interaction"}


def test_a_tone_label_string_is_read_as_the_tone_so_the_guard_fires(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    response = _decide(client, auth, interaction={**CHECKBOOK, "tone": "distressed"})
    assert response.status_code == 200
    decision = response.get_json()
    assert decision["offers"] == []
    assert decision["interaction"] == {"valid": True, "expanded": ["tone"]}


def test_text_without_tone_gets_the_bundle_lexicons_tone(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    body = {k: v for k, v in CHECKBOOK.items() if k != "tone"}
    body["inquiry"] = {**CHECKBOOK["inquiry"], "text": "I was robbed yesterday, new checks please"}
    decision = _decide(client, auth, interaction=body).get_json()
    assert decision["offers"] == []
    assert decision["interaction"]["inferred_tone"]["words"] == ["robbed"]


def test_every_field_at_fault_is_counted_in_the_refusal(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    body = _with("tone.label", "furious")
    body["customer"]["tier"] = "diamond"
    error = _decide(client, auth, interaction=body).get_json()["error"]
    fields = {"interaction.tone.label", "interaction.customer.tier"}
    assert error["field"] in fields
    assert (fields - {error["field"]}).pop() in error["message"]


def test_the_customers_first_name_is_accepted_and_greets_them_in_the_offer(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    response = _decide(client, auth, interaction=_with("customer.first_name", "Dana"))
    assert response.status_code == 200, response.get_json()
    [offer] = response.get_json()["offers"]
    assert "Dana" in offer["variants"]["email_text"]["text"]


def test_a_refusal_names_the_field_in_its_message_too(
    client: FlaskClient, published: Bundle, auth: dict[str, str]
) -> None:
    response = _decide(client, auth, interaction=_with("customer.nickname", "Dee"))
    error = response.get_json()["error"]
    assert error["field"] == "interaction.customer.nickname"
    assert error["message"].startswith("interaction.customer.nickname: is not a field")
