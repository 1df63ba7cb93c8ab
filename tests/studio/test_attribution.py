"""Against holdout, trends and exports, read from the rollups."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from flask import Flask

from studio.services import analytics, attribution, decision_log, events, parquet_files
from tests.factories import make_user, sign_in_as

WINDOW = analytics.Window(date(2026, 11, 1), date(2026, 11, 30))


def _log(
    session,
    n_treated: int,
    n_held: int,
    accepted_treated: int,
    accepted_held: int,
    *,
    offer: str = "autopay",
    value: str | None = None,
) -> None:
    records, outcomes = [], []
    for arm, count, accepted in (("t", n_treated, accepted_treated), ("h", n_held, accepted_held)):
        for n in range(count):
            entry = {"ruleset": "billing", "offer": offer, "rule": "Late fee"}
            records.append(
                {
                    "decision_id": f"{offer}-{arm}-{n:05d}",
                    "bundle_version": 2,
                    "decided_at": f"2026-11-{1 + n % 20:02d}T09:00:00Z",
                    "channel": "chat",
                    "category": "billing",
                    "offers": [entry] if arm == "t" else [],
                    "holdouts": [entry] if arm == "h" else [],
                }
            )
            if n < accepted:
                event = {
                    "event_id": f"acc-{offer}-{arm}-{n}",
                    "type": "accepted",
                    "offer_key": offer,
                    "decision_id": f"{offer}-{arm}-{n:05d}",
                    "at": "2026-11-21T10:00:00Z",
                }
                if value:
                    event["value"] = value
                outcomes.append(event)
    for start in range(0, len(records), 500):
        decision_log.ingest(session, {"decisions": records[start : start + 500]})
    for start in range(0, len(outcomes), 500):
        events.ingest(session, {"events": outcomes[start : start + 500]})
    session.commit()


def test_an_offer_clearly_better_than_holdout_is_flagged_scale_up(session) -> None:
    _log(session, 200, 200, 60, 20, value="10.00")
    found = attribution.attribution(session, WINDOW, attribution.Filters())
    [line] = found.offers
    assert (line.treatment.decisions, line.holdout.decisions) == (200, 200)
    assert line.acceptance.verdict == "better than holdout" and line.scale_up
    assert line.acceptance.difference.estimate == pytest.approx(0.2)
    assert line.arpu_lift_cents == (600_00 - 200_00) / 200
    [rule] = found.rules
    assert rule.rule == "Late fee"


def test_a_small_sample_is_shown_as_counts_with_the_exposures_still_needed(
    app: Flask, session
) -> None:
    _log(session, 3, 1, 3, 0)
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    html = client.get("/analytics/lift?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    assert "3 of 3" in html and "small sample" in html and "100.0%" not in html
    assert "not enough data yet: 56 more exposures needed" in html


def test_the_trend_chart_is_an_svg_without_script(app: Flask, session) -> None:
    _log(session, 100, 20, 30, 2)
    client = sign_in_as(app.test_client(), make_user(session, "service_lead"))
    chart = client.get("/analytics/trend.svg?start=2026-11-01&end=2026-11-30&by=channel&grain=week")
    assert chart.mimetype == "image/svg+xml" and b"<script" not in chart.data
    assert b"chat" in chart.data


def test_a_trend_with_too_few_decisions_says_why_at_the_size_of_its_labels() -> None:
    thin = attribution.Trend(
        "day", "offer", [date(2026, 11, 2)], {"autopay": {date(2026, 11, 2): (3, 1)}}
    )
    chart = attribution.trend_chart(thin)
    assert "No day has 5 or more decisions yet" in chart
    assert "font-size:64px" not in chart


def test_trends_split_by_week_and_filter_by_channel(session) -> None:
    _log(session, 40, 0, 10, 0)
    by_week = attribution.trend(session, WINDOW, attribution.Filters(), grain="week")
    assert sum(d for d, _ in by_week.series["autopay"].values()) == 40
    assert all(p.weekday() == 0 for p in by_week.series["autopay"])
    none = attribution.trend(session, WINDOW, attribution.Filters(channel="sms"))
    assert none.series == {}


def test_csv_exports_carry_the_rollups_and_the_raw_logs(app: Flask, session) -> None:
    _log(session, 5, 5, 1, 0, offer="-cmd")
    client = sign_in_as(app.test_client(), make_user(session, "reviewer"))
    base = "/analytics/export.csv?start=2026-11-01&end=2026-11-30"
    rollups = list(csv.reader(io.StringIO(client.get(base).get_data(as_text=True))))
    assert rollups[0][:3] == ["day", "offer_key", "ruleset"]
    assert sum(int(r[8]) for r in rollups[1:]) == 10, rollups
    assert all(r[1] == "'-cmd" for r in rollups[1:])  # no formula reaches a spreadsheet
    decisions = client.get(base + "&table=decisions").get_data(as_text=True).splitlines()
    assert len(decisions) == 11
    logged = client.get(base + "&table=events").get_data(as_text=True).splitlines()
    assert len(logged) == 2 and "acc--cmd-t-0" in logged[1]


def test_the_rollup_csv_read_in_sql_is_the_one_written_cell_by_cell(session) -> None:
    """The fast rollup export (formulas quoted in SQL, no Python step per cell) writes
    exactly what converting each cell writes, formula-like text, days and empty cells
    included."""
    import dataclasses

    from studio.views.analytics import _csv_chunks

    for offer in ("-cmd", "plain"):
        _log(session, 4, 3, 1, 0, offer=offer)
    found = attribution.export(session, "rollups", WINDOW, attribution.Filters())
    assert found.csv_text is not None
    fast = "".join(_csv_chunks(found))
    again = attribution.export(session, "rollups", WINDOW, attribution.Filters())
    slow = "".join(_csv_chunks(dataclasses.replace(again, csv_text=None)))
    assert fast == slow
    rows = list(csv.reader(io.StringIO(fast)))
    assert {r[1] for r in rows[1:]} == {"'-cmd", "plain"}
    assert rows[1][0] == "2026-11-01" and len(rows) > 4


def test_a_csv_export_streamed_in_pieces_keeps_every_row_once_in_order(
    app: Flask, session, monkeypatch
) -> None:
    from studio.views import analytics as analytics_views

    _log(session, 5, 5, 1, 0)
    client = sign_in_as(app.test_client(), make_user(session, "reviewer"))
    url = "/analytics/export.csv?start=2026-11-01&end=2026-11-30&table=decisions"
    whole = client.get(url).get_data(as_text=True).splitlines()
    monkeypatch.setattr(analytics_views, "_CSV_ROWS_PER_CHUNK", 3)  # 10 rows: 3+3+3+1
    response = client.get(url)
    chunks = [c for c in response.response if c]  # the body as the server streams it
    assert len(chunks) == 4
    body = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
    assert body.decode().splitlines() == whole and len(whole) == 11


@pytest.mark.skipif(not parquet_files.available(), reason="Parquet export needs pyarrow")
def test_parquet_exports_carry_the_same_tables_with_typed_columns(
    app: Flask, session, tmp_path
) -> None:
    import pyarrow.parquet as pq

    _log(session, 5, 5, 1, 0, value="12.50")
    client = sign_in_as(app.test_client(), make_user(session, "reviewer"))
    html = client.get("/analytics/lift?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    assert "Export Parquet" in html and "export.parquet?table=decisions" in html
    base = "/analytics/export.parquet?start=2026-11-01&end=2026-11-30"
    tables = {}
    for name in ("rollups", "decisions", "events"):
        answer = client.get(f"{base}&table={name}")
        assert answer.status_code == 200
        assert answer.headers["Content-Disposition"].endswith(
            f"{name}-2026-11-01-2026-11-30.parquet"
        )
        path = tmp_path / f"{name}.parquet"
        path.write_bytes(answer.get_data())
        tables[name] = pq.read_table(path)
    rollups = tables["rollups"].to_pylist()
    assert sum(r["decisions"] for r in rollups) == 10
    assert {r["day"] for r in rollups} <= {date(2026, 11, d) for d in range(1, 31)}
    assert sum(r["value_cents"] for r in rollups) == 1250
    decisions = tables["decisions"].to_pylist()
    assert len(decisions) == 10 and decisions[0]["decided_at"].tzinfo is not None
    [accepted] = tables["events"].to_pylist()
    assert (accepted["type"], accepted["value_cents"]) == ("accepted", 1250)


def test_a_parquet_export_is_written_in_row_groups(tmp_path) -> None:
    import pyarrow.parquet as pq

    if not parquet_files.available():
        pytest.skip("Parquet export needs pyarrow")
    rows = ([n, f"row {n}"] for n in range(25))  # an iterator: never a list in memory
    path = tmp_path / "out.parquet"
    assert parquet_files.write(path, ("n", "label"), {"n": "int"}, rows, batch=10) == 25
    read = pq.ParquetFile(path)
    assert read.metadata.num_row_groups == 3
    assert read.read().column("n").to_pylist() == list(range(25))


def test_the_owner_is_told_once_when_an_offer_qualifies_to_scale_up(session) -> None:
    from datetime import UTC, datetime

    from studio.models import Notification
    from studio.services import scale_up
    from tests.factories.offers import make_offer

    owner = make_user(session, "marketer")
    make_offer(session, owner, "autopay")
    _log(session, 200, 200, 60, 20)
    today = datetime(2026, 11, 25, tzinfo=UTC)
    assert scale_up.flag(session, today=today) == ["autopay"]
    assert scale_up.flag(session, today=today) == []
    [note] = session.query(Notification).filter_by(user_id=owner.id, kind="scale_up").all()
    assert "does better than its holdout" in note.message


def test_the_lift_filters_are_styled_boxes_and_the_offer_a_list_of_logged_offers(
    app: Flask, session
) -> None:
    """The offer, channel, category and bundle boxes had no type, so no style: tiny
    boxes beside the date and list fields. The offer is now a list, as on Analytics."""
    _log(session, 3, 1, 1, 0)
    _log(session, 3, 1, 1, 0, offer="refill")
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    html = client.get("/analytics/lift?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    offer_list = html[html.index('<select id="l-offer"') : html.index("</select>")]
    assert '<option value="">Every offer</option>' in offer_list
    assert '<option value="autopay" >autopay</option>' in offer_list
    assert '<option value="refill" >refill</option>' in offer_list
    for name in ("channel", "category", "bundle"):
        assert f'<input id="l-{name}" type="text" name="{name}"' in html
    # A link naming an offer no decision made keeps it chosen (and shows nothing for it).
    html = client.get("/analytics/lift?offer=gone&start=2026-11-01&end=2026-11-30").get_data(
        as_text=True
    )
    assert '<option value="gone" selected>gone</option>' in html
    assert "No logged decisions match offer <code>gone</code> in this window." in html
    chosen = client.get("/analytics/lift?offer=refill&start=2026-11-01&end=2026-11-30")
    assert '<option value="refill" selected>refill</option>' in chosen.get_data(as_text=True)


def test_declines_are_shown_for_the_treatment_arm_without_a_verdict_against_holdout(
    app: Flask, session
) -> None:
    """Held-out customers are never offered the offer: a decline comparison called every
    offer with declines "worse than holdout"."""
    _log(session, 200, 200, 60, 20)
    declines = [
        {
            "event_id": f"dec-{n}",
            "type": "declined",
            "offer_key": "autopay",
            "decision_id": f"autopay-t-{100 + n:05d}",
            "at": "2026-11-21T10:00:00Z",
        }
        for n in range(50)
    ]
    events.ingest(session, {"events": declines})
    session.commit()
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    html = client.get("/analytics/lift?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    rule_table = html[html.index("<h2>Per rule</h2>") :]
    assert "no holdout comparison: held-out customers are not offered it" in rule_table
    assert "25.0%" in rule_table and "worse than holdout" not in rule_table


def test_both_value_columns_are_value_per_decision(app: Flask, session) -> None:
    """The per-rule column showed the total (30.00) beside a per-offer 0.15."""
    _log(session, 200, 200, 60, 20, value="10.00")
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    html = client.get("/analytics/lift?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    offers, rules = html.split("<h2>Per rule</h2>")
    assert "3.00" in offers and "3.00" in rules  # 60 accepted x 10.00 over 200 decisions
    assert "600.00" not in rules and "Value per decision" in rules


def test_a_filter_that_matches_nothing_says_which_and_how_values_match(app: Flask, session) -> None:
    _log(session, 40, 40, 10, 5)
    client = sign_in_as(app.test_client(), make_user(session, "marketer"))
    html = client.get("/analytics/lift?start=2026-11-01&end=2026-11-30&channel=Chat").get_data(
        as_text=True
    )
    assert "No logged decisions match channel <code>Chat</code> in this window." in html
    assert "Values match exactly" in html and "Show every decision</a>" in html


def test_the_trend_axis_starts_at_zero_and_a_line_of_only_gaps_is_not_in_the_legend() -> None:
    days = [date(2026, 11, d) for d in (2, 3, 4)]
    found = attribution.Trend(
        "day",
        "offer",
        days,
        {
            "autopay": {d: (100, 9 - n) for n, d in enumerate(days)},
            "rare_offer": {days[0]: (3, 1)},  # under 5 decisions every day: gaps only
        },
    )
    chart = attribution.trend_chart(found)
    assert "autopay" in chart and "rare_offer" not in chart
    assert ">0.0%<" in chart  # the axis is drawn from 0, not from the lowest point
