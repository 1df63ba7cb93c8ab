"""The History pages: upload and import, search with facets, timelines, hidden text."""

from __future__ import annotations

import io
import json
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from studio.services import history_search
from tests.factories.interactions import csv_text, history, interaction
from tests.factories.people import make_user
from tests.factories.web import post, sign_in_as


def _upload(client: FlaskClient, rows: list, name: str = "h.jsonl"):
    data = "\n".join(json.dumps(r) for r in rows).encode()
    return post(
        client,
        "/history/imports",
        {"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_an_uploaded_file_is_imported_by_the_job_and_reported(
    session: Session, client: FlaskClient
) -> None:
    sign_in_as(client, make_user(session, "service_lead"))
    bad = interaction(99)
    bad["inquiry"]["channel"] = "fax"
    answer = _upload(client, history(30) + [bad])
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "done" in page and "30 imported" in page and "1 row refused" in page
    assert "inquiry.channel" in page
    problems = client.get(answer.headers["Location"] + "/problems.csv").get_data(as_text=True)
    assert problems.splitlines()[1].startswith("31,inquiry.channel,")


def test_a_wrong_file_type_is_refused_with_a_message(session: Session, client: FlaskClient) -> None:
    sign_in_as(client, make_user(session, "service_lead"))
    answer = _upload(client, history(2), name="h.xlsx")
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert re.search(
        r'<p id="upload-error"[^>]*role="alert"[^>]*>Nothing was imported: h.xlsx: name the '
        r"file .jsonl or .csv",
        page,
    )
    assert 'id="history-upload"' in page  # the form again, to choose another file


def test_search_filters_counts_facets_and_opens_a_timeline(
    session: Session, client: FlaskClient
) -> None:
    sign_in_as(client, make_user(session, "service_lead"))
    _upload(client, history(40) + [interaction(500, text="My card was stolen at the mall")])
    page = client.get("/history/?q=stolen+cards").get_data(as_text=True)
    assert "1 interactions" in page and "stolen at the mall" in page
    page = client.get("/history/?channel=phone").get_data(as_text=True)
    assert "8 interactions" in page
    timeline = client.get("/history/customers/c-3").get_data(as_text=True)
    assert "Customer c-3" in timeline and "i-3" in timeline


def test_a_marketer_searches_but_does_not_see_raw_text(
    session: Session, client: FlaskClient
) -> None:
    sign_in_as(client, make_user(session, "service_lead"))
    _upload(client, [interaction(1, text="secret words here")])
    sign_in_as(client, make_user(session, "marketer"))
    page = client.get("/history/?q=secret").get_data(as_text=True)
    assert "1 interactions" in page and "secret words here" not in page
    assert "hidden for your role" in page
    export = client.get("/history/export.csv?q=secret").get_data(as_text=True)
    assert "i-1" in export and "secret words" not in export


@pytest.mark.skipif(
    not history_search.parquet_available(),
    reason="Parquet export needs pyarrow: pip install -e '.[cluster]'",
)
def test_a_search_exports_to_parquet_with_every_match(
    session: Session, client: FlaskClient, tmp_path
) -> None:
    import pyarrow.parquet as pq

    sign_in_as(client, make_user(session, "service_lead"))
    _upload(client, history(30))
    answer = client.get("/history/export.parquet?channel=phone")
    assert answer.status_code == 200
    path = tmp_path / "out.parquet"
    path.write_bytes(answer.get_data())
    table = pq.read_table(path)
    assert table.num_rows == 6 and set(table.column("channel").to_pylist()) == {"phone"}
    assert table.column("text").to_pylist()[0].startswith("Contact number")


def test_an_interaction_is_copied_to_the_sample_library_redacted(
    session: Session, client: FlaskClient
) -> None:
    from studio.services import samples

    sign_in_as(client, make_user(session, "service_lead"))
    _upload(client, [interaction(7, text="Call me on 415 555 0100 about card 4111111111111111")])
    answer = post(client, "/history/i/i-7/promote", {"name": "Card worry"})
    assert answer.status_code == 302
    sample = samples.get(session, "history-i-7")
    assert sample.name == "Card worry" and sample.tags == ["history"]
    assert sample.body["inquiry"]["text"] == "Call me on [phone] about card [card]"


def test_an_interaction_opens_in_the_full_preview_with_text_only_for_raw_text_roles(
    session: Session, client: FlaskClient
) -> None:
    lead = make_user(session, "service_lead")
    sign_in_as(client, lead)
    row = interaction(7, text="Please refill my prescription, my email is ann@example.com")
    row["tone"] = {"label": "neutral", "score": 0.0}
    _upload(client, [row])
    page = client.get("/history/i/i-7/preview?backtest=3").get_data(as_text=True)
    assert "Preview of interaction i-7" in page and "/preview/history/i-7" in page
    assert "/history/backtests/3" in page
    pane = post(client, "/preview/history/i-7", {"part": "pane"}).get_data(as_text=True)
    assert "From history: i-7" in pane and "ann@example.com" in pane
    sign_in_as(client, make_user(session, "marketer"))
    hidden = post(client, "/preview/history/i-7", {"part": "pane"})
    assert hidden.status_code == 200
    assert "From history: i-7" in hidden.get_data(as_text=True)
    assert "ann@example.com" not in hidden.get_data(as_text=True)
    assert post(client, "/preview/history/nope", {"part": "pane"}).status_code == 404


def test_a_search_past_the_count_limit_says_more_than_on_the_page(
    session: Session, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_search, "COUNT_LIMIT", 30)
    sign_in_as(client, make_user(session, "service_lead"))
    _upload(client, [interaction(n, text=f"lost card {n}") for n in range(40)])
    page = client.get("/history/?q=card").get_data(as_text=True)
    assert "More than 30 interactions" in page and "Page 1 of 2 (the newest 30)" in page
    assert 'aria-label="channel"' not in page
    page = client.get("/history/?q=card&page=5").get_data(as_text=True)
    assert "Page 2 of 2" in page and "Next" not in page


def test_with_nothing_imported_the_empty_search_points_to_import(
    session: Session, client: FlaskClient
) -> None:
    sign_in_as(client, make_user(session, "marketer"))
    page = client.get("/history/").get_data(as_text=True)
    assert "Nothing imported yet." in page and 'href="/history/imports"' in page
    assert "No interaction matches." not in page
    _upload(client, history(3))
    page = client.get("/history/?channel=carrier-pigeon").get_data(as_text=True)
    assert "No interaction matches." in page and "Nothing imported yet." not in page


def test_dates_the_wrong_way_round_are_swapped_and_said_so(
    session: Session, client: FlaskClient
) -> None:
    sign_in_as(client, make_user(session, "service_lead"))
    _upload(client, history(30))
    in_order = client.get("/history/?date_from=2026-11-10&date_to=2026-11-20")
    swapped = client.get("/history/?date_from=2026-11-20&date_to=2026-11-10")
    page = swapped.get_data(as_text=True)
    assert "From was after To, so the dates were swapped" in page
    assert "searching 2026-11-10 to 2026-11-20" in page
    assert 'name="date_from" type="date" value="2026-11-10"' in page
    assert "11 interactions" in page and "11 interactions" in in_order.get_data(as_text=True)
    assert "were swapped" not in in_order.get_data(as_text=True)
    export = client.get("/history/export.csv?date_from=2026-11-20&date_to=2026-11-10")
    assert len(export.get_data(as_text=True).splitlines()) == 1 + 11


def _upload_text(client: FlaskClient, text: str, name: str):
    return post(
        client,
        "/history/imports",
        {"file": (io.BytesIO(text.encode()), name)},
        content_type="multipart/form-data",
    )


def test_a_csv_whose_header_cannot_be_used_says_what_to_fix_and_offers_no_resume(
    session: Session, client: FlaskClient
) -> None:
    """It offered "Continue from line 0", which reads the same header and fails again."""
    sign_in_as(client, make_user(session, "service_lead"))
    header = "id,at,favourite_colour\ni-1,2026-11-01T00:00:00Z,blue\n"
    answer = _upload_text(client, header, "h.csv")
    location = answer.headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert "failed" in page and "favourite_colour is not a field" in page
    assert "Correct the file&#39;s first line" in page and "upload the file again" in page
    assert "Upload a file" in page
    assert "Continue from line" not in page and "continue from there" not in page
    assert post(client, location + "/resume").status_code == 302
    assert "failed" in client.get(location).get_data(as_text=True)  # not queued again


def test_a_failed_import_that_can_get_further_still_offers_to_continue(
    session: Session, client: FlaskClient
) -> None:
    from studio.services import interaction_import

    sign_in_as(client, make_user(session, "service_lead"))
    answer = _upload_text(client, csv_text(history(5)), "h.csv")
    record = interaction_import.get(session, int(answer.headers["Location"].rsplit("/", 1)[1]))
    record.status, record.message = "failed", "the disk went away"  # as an OSError leaves it
    session.commit()
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Continue from line 6" in page  # the header and five rows were read


def test_the_none_facet_link_finds_the_interactions_without_a_value(
    session: Session, client: FlaskClient
) -> None:
    """The link asked for tone "(none)", the label, and found nothing."""
    sign_in_as(client, make_user(session, "service_lead"))
    toned = interaction(900)
    toned["tone"] = {"label": "angry", "score": -0.6}
    _upload(client, history(12) + [toned])
    page = client.get("/history/").get_data(as_text=True)
    link = re.search(r'href="([^"]*tone=\(none\))">\(none\)</a> <span class="muted">12<', page)
    assert link is not None
    found = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "12 interactions" in found
    export = client.get("/history/export.csv?tone=%28none%29").get_data(as_text=True)
    assert len(export.splitlines()) == 1 + 12


def test_a_search_saved_again_under_its_name_is_replaced_and_can_be_removed_after_asking(
    session: Session, client: FlaskClient
) -> None:
    sign_in_as(client, make_user(session, "service_lead"))
    _upload(client, history(12))
    for channel in ("phone", "email"):
        post(client, "/history/saved", {"name": "Calls", "channel": channel})
    page = client.get("/history/").get_data(as_text=True)
    assert page.count(">Calls</a>") == 1 and "channel=email" in page
    [link] = re.findall(r'href="(/history/saved/\d+/remove)"', page)
    asked = client.get(link).get_data(as_text=True)
    assert "Remove the saved search “Calls”?" in asked and "are not touched" in asked
    assert post(client, link).status_code == 302
    page = client.get("/history/").get_data(as_text=True)
    assert "Removed the saved search “Calls”." in page and ">Calls</a>" not in page
    other = sign_in_as(client.application.test_client(), make_user(session, "service_lead"))
    assert other.get(link).status_code == 404


def test_the_facet_fields_suggest_the_values_the_schema_allows(
    session: Session, client: FlaskClient
) -> None:
    """The search matches exactly: "Chat" found nothing, with nothing to say why."""
    sign_in_as(client, make_user(session, "service_lead"))
    page = client.get("/history/").get_data(as_text=True)
    assert 'name="channel" type="text" value="" maxlength="200" list="l-channel"' in page
    channels = page[page.index('<datalist id="l-channel">') :].split("</datalist>", 1)[0]
    assert '<option value="chat"></option>' in channels
    assert 'list="l-intent"' not in page  # free text: no list to offer
