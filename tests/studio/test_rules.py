"""Service leads write rulesets in the studio: checked as they type, saved as revisions."""

from __future__ import annotations

import pytest
from flask import Flask

from studio.models import Artifact, Revision
from studio.services import artifacts, rulesets
from studio.services.rulesets import MAX_SOURCE
from tests.factories import make_user, post, sign_in_as

GOOD = """never offer when tone is distressed

rule "Platinum customers can always reach a person"
  when customer.authenticated and customer.tier is platinum
  offer realtime_contact
  priority 100

never offer when tone is unknown
"""


@pytest.fixture
def lead(app: Flask, session):
    user = make_user(session, "service_lead")
    artifacts.create(
        session,
        kind="offer",
        key="realtime_contact",
        name="Real-time contact",
        body={"key": "realtime_contact", "value": 10},
        actor_id=user.id,
    )
    session.commit()
    return sign_in_as(app.test_client(), user), user


def test_rules_page_shows_an_empty_state_with_a_way_to_start(lead) -> None:
    client, _ = lead
    html = client.get("/rules/").get_data(as_text=True)
    assert "No rulesets yet." in html and "Write the first ruleset" in html


def test_service_lead_creates_a_ruleset_and_sees_it_compile(lead, session) -> None:
    client, _ = lead
    response = post(
        client, "/rules/new", {"key": "retail_banking", "name": "Retail banking", "source": GOOD}
    )
    assert response.status_code == 302
    page = client.get("/rules/retail_banking").get_data(as_text=True)
    assert "Compiles cleanly: 1 rule" in page
    assert session.query(Artifact).filter_by(kind="ruleset").count() == 1


def test_live_check_names_the_typo_with_line_column_and_suggestion(lead) -> None:
    client, _ = lead
    source = 'rule "x"\n  when inquiry.category is transactonal\n  offer realtime_contact\n'
    html = post(
        client, "/rules/check", {"source": source}, headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "1 error" in html
    assert "line 2, column 28" in html
    assert "transactional" in html
    assert "<html" not in html


def test_live_check_flags_an_offer_that_is_not_in_the_library(lead) -> None:
    client, _ = lead
    source = 'rule "x"\n  when tone is positive\n  offer golden_parachute\n'
    html = post(client, "/rules/check", {"source": source}).get_data(as_text=True)
    assert "golden_parachute" in html and "error" in html


def test_saving_keeps_every_revision_and_flags_errors(lead, session) -> None:
    client, _ = lead
    post(client, "/rules/new", {"key": "retail_banking", "name": "Retail banking", "source": GOOD})
    broken = GOOD.replace("platinum", "platnum")
    response = post(
        client,
        "/rules/retail_banking",
        {"name": "Retail banking", "source": broken, "base_number": "1"},
    )
    assert response.status_code == 302
    page = client.get("/rules/retail_banking").get_data(as_text=True)
    assert "with 1 error: fix it" in page and "platnum" in page
    assert session.query(Revision).count() == 3  # the offer, and two ruleset revisions


def test_second_editor_gets_a_conflict_with_both_versions_and_keeps_their_text(
    lead, session
) -> None:
    client, _ = lead
    post(client, "/rules/new", {"key": "retail_banking", "name": "Retail banking", "source": GOOD})
    post(
        client,
        "/rules/retail_banking",
        {"name": "Retail banking", "source": GOOD + "\n# first", "base_number": "1"},
    )
    response = post(
        client,
        "/rules/retail_banking",
        {"name": "Retail banking", "source": GOOD + "\n# second", "base_number": "1"},
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Not saved" in html and "# first" in html and "# second" in html
    ruleset = artifacts.find(session, "ruleset", "retail_banking")
    assert artifacts.head(session, ruleset).body["source"].endswith("# first")


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"key": "Bad Key", "name": "X"}, "Use 2-64 lowercase letters"),
        ({"key": "schema", "name": "X"}, "reserved word"),
        ({"key": "ok_key", "name": "  "}, "Give the ruleset a name."),
        (
            {"key": "ok_key", "name": "X", "source": "x" * (MAX_SOURCE + 1)},
            f"over {MAX_SOURCE:,} characters; split it into several",
        ),
    ],
)
def test_bad_new_ruleset_is_refused_with_a_message_and_saves_nothing(
    lead, session, form: dict, message: str
) -> None:
    client, _ = lead
    response = post(client, "/rules/new", {"source": GOOD, **form})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert session.query(Artifact).filter_by(kind="ruleset").count() == 0


def test_duplicate_key_is_refused(lead) -> None:
    client, _ = lead
    post(client, "/rules/new", {"key": "retail_banking", "name": "A", "source": GOOD})
    response = post(client, "/rules/new", {"key": "retail_banking", "name": "B", "source": GOOD})
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)


def test_format_returns_the_canonical_layout(lead) -> None:
    client, _ = lead
    messy = 'rule "x"   when tone is positive\n offer realtime_contact'
    response = post(client, "/rules/format", {"source": messy})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "rule &#34;x&#34;\n  when tone is positive\n  offer realtime_contact" in html


def test_format_refuses_source_that_does_not_parse_and_keeps_it(lead) -> None:
    client, _ = lead
    response = post(client, "/rules/format", {"source": "rule rule rule"})
    assert response.status_code == 422
    assert "rule rule rule" in response.get_data(as_text=True)


def test_archive_asks_first_then_hides_the_ruleset(lead, session) -> None:
    client, _ = lead
    post(client, "/rules/new", {"key": "retail_banking", "name": "Retail banking", "source": GOOD})
    assert "Archive Retail banking?" in client.get("/rules/retail_banking/archive").get_data(
        as_text=True
    )
    post(client, "/rules/retail_banking/archive")
    assert "No rulesets yet." in client.get("/rules/").get_data(as_text=True)
    assert "Retail banking" in client.get("/rules/?archived=1").get_data(as_text=True)


def test_schema_editor_refuses_invalid_json_and_keeps_the_text(lead, session) -> None:
    client, _ = lead
    response = post(client, "/rules/schema", {"schema": '{"fields": [', "base_number": "0"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This is not valid JSON" in html and "{&#34;fields&#34;: [" in html
    assert session.query(Artifact).filter_by(kind="schema").count() == 0


def test_schema_editor_saves_the_default_as_a_first_revision(lead, session) -> None:
    client, _ = lead
    page = client.get("/rules/schema?view=json").get_data(as_text=True)
    assert "built-in default" in page
    import html as html_lib
    import re

    text = html_lib.unescape(re.search(r'name="schema"[^>]*>(.*?)</textarea>', page, re.S).group(1))
    assert post(client, "/rules/schema", {"schema": text, "base_number": "0"}).status_code == 302
    assert session.query(Artifact).filter_by(kind="schema").count() == 1


def test_unapproved_revision_offers_a_way_to_submit_it_for_review(lead) -> None:
    client, _ = lead
    post(client, "/rules/new", {"key": "retail_banking", "name": "Retail banking", "source": GOOD})
    page = client.get("/rules/retail_banking").get_data(as_text=True)
    assert "Submit for review…" in page and "/reviews/new?artifact=" in page


def test_a_refused_save_keeps_the_revision_the_editor_started_from(lead, session) -> None:
    client, _ = lead
    post(client, "/rules/new", {"key": "retail_banking", "name": "Retail banking", "source": GOOD})
    post(
        client,
        "/rules/retail_banking",
        {"name": "Retail banking", "source": GOOD + "# theirs", "base_number": "1"},
    )
    refused = post(
        client,
        "/rules/retail_banking",
        {"name": " ", "source": GOOD + "# mine", "base_number": "1"},
    )
    assert refused.status_code == 422
    assert 'name="base_number" value="1"' in refused.get_data(as_text=True)
    again = post(
        client,
        "/rules/retail_banking",
        {"name": "Retail banking", "source": GOOD + "# mine", "base_number": "1"},
    )
    assert again.status_code == 409


def _rules(count: int) -> str:
    note = "# " + "a note on why this rule exists, " * 10 + "\n"
    return "never offer when tone is unknown\n" + "".join(
        f'{note}rule "Rule {n}"\n  when inquiry.intent is "intent_{n}" and customer.authenticated\n'
        f"  offer realtime_contact\n  priority {n % 100}\n\n"
        for n in range(count)
    )


def test_a_ruleset_larger_than_the_app_wide_form_limit_is_created_and_compiles(
    lead, session
) -> None:
    source = _rules(7_000)  # about 3 MB: over the 2 MiB every other form may send
    assert len(source) > 2 * 1024 * 1024
    response = post(
        client := lead[0],
        "/rules/new",
        {"key": "large", "name": "Large", "source": source},
    )
    assert response.status_code == 302
    page = client.get("/rules/large").get_data(as_text=True)
    assert "Compiles cleanly: 7000 rules" in page or "Compiles cleanly: 7,000 rules" in page


def _schema_form(client) -> dict[str, str]:
    """The schema page's form fields as a browser would post them (the fields view)."""
    import html as html_lib
    import re

    page = client.get("/rules/schema").get_data(as_text=True)
    data = {
        name: html_lib.unescape(value)
        for name, value in re.findall(
            r'name="(field-\d+-(?:path|values|doc|derive))"[^>]*?value="([^"]*)"', page
        )
    }
    for name, value in re.findall(
        r'name="(field-\d+-type)">.*?<option value="([^"]+)" selected', page, re.S
    ):
        data[name] = value
    settings = re.search(r'name="settings"[^>]*>(.*?)</textarea>', page, re.S)
    data["settings"] = html_lib.unescape(settings.group(1))
    return {**data, "view": "form", "base_number": "0"}


def test_the_schema_is_edited_as_a_form_of_fields(lead, session) -> None:
    client, _ = lead
    page = client.get("/rules/schema").get_data(as_text=True)
    assert "Field 1 path" in page and "Edit as JSON" in page
    form = _schema_form(client)
    paths = {k: v for k, v in form.items() if k.endswith("-path") and v}
    number = next(k for k, v in paths.items() if v == "customer.tier").split("-")[1]
    form[f"field-{number}-values"] = "basic, silver, gold, platinum, diamond"
    blank = max(int(k.split("-")[1]) for k in form if k.endswith("-path"))
    form[f"field-{blank}-path"] = "customer.segment"
    form[f"field-{blank}-type"] = "string"
    form[f"field-{blank}-doc"] = "The marketing segment."
    assert post(client, "/rules/schema", form).status_code == 302
    saved = rulesets.current_schema(session).to_dict()
    assert saved["fields"]["customer.tier"]["values"][-1] == "diamond"
    assert saved["fields"]["customer.segment"] == {
        "type": "string",
        "doc": "The marketing segment.",
    }
    derived = saved["fields"]["inquiry.resolved"]["derive"]
    assert derived == {"from": "inquiry.resolution", "is": "confirmed"}  # kept as it was


def test_a_bad_field_is_refused_next_to_its_row_with_the_json_views_message(lead, session) -> None:
    client, _ = lead
    form = _schema_form(client)
    form["field-1-type"] = "strng"
    response = post(client, "/rules/schema", form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="field-1-error"' in html and "schema.fields.id: type" in html
    assert 'value="strng" selected' in html  # what was typed is still there
    assert session.query(Artifact).filter_by(kind="schema").count() == 0
    as_json = post(
        client,
        "/rules/schema",
        {"schema": '{"fields": {"id": {"type": "strng"}}}', "base_number": "0"},
    ).get_data(as_text=True)
    assert "schema.fields.id: type" in as_json


def test_switching_views_keeps_what_was_typed_without_saving(lead, session) -> None:
    client, _ = lead
    form = _schema_form(client)
    form["field-1-doc"] = "Typed before switching."
    response = post(client, "/rules/schema", {**form, "switch": "json"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Typed before switching." in html
    assert 'name="schema"' in html and "Not saved yet" in html
    assert session.query(Artifact).filter_by(kind="schema").count() == 0
