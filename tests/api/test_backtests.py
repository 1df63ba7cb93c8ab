"""Backtests in the studio: drafts against the published bundle, in-process and on Dask."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import delete
from sqlalchemy.orm import Session

from bundle.runtime import BundleRuntime
from studio.models import Backtest
from studio.services import artifacts, backtests, interaction_import
from studio.services.history_search import SearchParams
from tests.api.conftest import publish_demo
from tests.factories.interactions import write_jsonl
from tests.factories.people import make_user
from tests.factories.web import sign_in_as

DEMO = Path(__file__).parents[2] / "studio" / "demo" / "interactions.json"
HAS_DASK = (
    importlib.util.find_spec("distributed") is not None
    and importlib.util.find_spec("pyarrow") is not None
)


def _drop_refill_savings_rule(session: Session) -> None:
    artifact = artifacts.find(session, "ruleset", "pharmacy")
    source = artifacts.head(session, artifact).body["source"]
    start = source.index('rule "Refill savings')
    end = source.index("rule ", start + 5)
    artifacts.save(
        session,
        artifact,
        body={"source": source[:start] + source[end:]},
        base_number=artifact.head_number,
        actor_id=None,
        summary="no savings",
    )
    session.commit()


def _history(session: Session, tmp_path: Path, copies: int = 15) -> list[dict]:
    samples = [entry["interaction"] for entry in json.loads(DEMO.read_text())]
    # History rows carry the tone the contact centre measured (the demo rulesets never
    # offer when the tone is unknown).
    rows = [
        {**s, "id": f"{s['id']}-{n}", "tone": s.get("tone") or {"label": "neutral", "score": 0.0}}
        for n in range(copies)
        for s in samples
    ]
    path = write_jsonl(tmp_path / "h.jsonl", rows)
    record = interaction_import.create(
        session, path=path, filename=path.name, redact=False, actor_id=None
    )
    assert interaction_import.run(session, record.id).imported == len(rows)
    return rows


def _direct(session: Session, rows: list[dict]) -> tuple[int, dict[str, int]]:
    before_body, after_body = backtests.bundles_to_compare(session)
    before, after = BundleRuntime.from_bundle(before_body), BundleRuntime.from_bundle(after_body)
    changed = 0
    offers: dict[str, int] = {}
    for row in rows:
        old = sorted(o["offer"] for o in before.decide(row, channels=())["offers"])
        new = sorted(o["offer"] for o in after.decide(row, channels=())["offers"])
        changed += old != new
        for key in new:
            offers[key] = offers.get(key, 0) + 1
    return changed, offers


def test_a_backtest_counts_what_a_direct_loop_over_the_same_rows_counts(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    with app.app_context():
        publish_demo(app, session)
        _drop_refill_savings_rule(session)
        rows = _history(session, tmp_path)
        row = backtests.create(session, params=SearchParams(), actor_id=None)
        done = backtests.run(session, row.id, chunk_size=40)
        changed, offers = _direct(session, rows)
    assert done.status == "done" and done.total == len(rows)
    assert done.result["decided"] == len(rows)
    assert done.result["changed"] == changed > 0
    assert done.result["after"]["offers"] == offers
    assert "refill_savings" not in done.result["after"]["offers"]


def test_without_history_a_backtest_replays_the_sample_library(
    app: Flask, session: Session
) -> None:
    with app.app_context():
        publish_demo(app, session)
        _drop_refill_savings_rule(session)
        row = backtests.create(session, params=SearchParams(), actor_id=None)
        done = backtests.run(session, row.id)
    samples = json.loads(DEMO.read_text())
    assert done.result["decided"] == len(samples) and done.result["changed"] >= 1
    keys = {entry["key"] for entry in samples}
    assert done.result["examples"] and all(e["key"] in keys for e in done.result["examples"])


def test_nothing_published_fails_the_backtest_with_the_reason(app: Flask, session: Session) -> None:
    with app.app_context():
        row = backtests.create(session, params=SearchParams(), actor_id=None)
        done = backtests.run(session, row.id)
    assert done.status == "failed" and "nothing is published yet" in done.message


@pytest.mark.skipif(
    not HAS_DASK, reason="the Dask backtest needs the cluster extra: pip install -e '.[cluster]'"
)
def test_the_same_backtest_on_a_dask_cluster_gives_the_same_counts(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    from distributed import LocalCluster

    with app.app_context():
        publish_demo(app, session)
        _drop_refill_savings_rule(session)
        _history(session, tmp_path)
        local = backtests.run(
            session, backtests.create(session, params=SearchParams(), actor_id=None).id
        )
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster:
            on_dask = backtests.run(
                session,
                backtests.create(session, params=SearchParams(), actor_id=None).id,
                scheduler=cluster.scheduler_address,
                partitions_folder=tmp_path / "parts",
            )
    assert on_dask.status == "done" and "Dask cluster" in on_dask.message
    assert len(list((tmp_path / "parts").glob("*.parquet"))) >= 1
    strip = lambda r: {k: v for k, v in r.items() if k != "examples"}  # noqa: E731
    assert strip(on_dask.result) == strip(local.result)


def test_a_pool_of_two_processes_counts_what_one_process_counts(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    with app.app_context():
        publish_demo(app, session)
        _drop_refill_savings_rule(session)
        _history(session, tmp_path, copies=6)
        one = backtests.run(
            session, backtests.create(session, params=SearchParams(), actor_id=None).id
        )
        two = backtests.run(
            session,
            backtests.create(session, params=SearchParams(), actor_id=None).id,
            processes=2,
            chunk_size=7,
        )
    assert two.status == "done" and two.total == one.total == two.done
    for name in ("decided", "changed", "before", "after"):
        assert two.result[name] == one.result[name], name


def test_expected_value_uses_the_acceptance_observed_in_the_closed_loop(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from studio.models import DecisionRollup
    from studio.services import backtest_value

    with app.app_context():
        publish_demo(app, session)
        _drop_refill_savings_rule(session)
        _history(session, tmp_path, copies=2)
        before, after = backtests.bundles_to_compare(session)
        made = backtests.run(
            session, backtests.create(session, params=SearchParams(), actor_id=None).id
        ).result
        measured = max(made["after"]["offers"], key=made["after"]["offers"].get)
        # The demo's own closed loop is left out: the acceptance is the one set here.
        session.execute(delete(DecisionRollup))
        session.add(
            DecisionRollup(
                day=datetime.now(UTC).date(),
                offer_key=measured,
                ruleset="r",
                rule="x",
                channel="email",
                category="transactional",
                bundle_version=1,
                arm="treatment",
                decisions=40,
                accepted=10,
            )
        )
        session.flush()
        value = backtest_value.expected_value(session, made, before, after)
    worth = next(o["value"] for o in after["offers"] if o["key"] == measured)
    assert value["rates"] == {measured: {"decisions": 40, "accepted": 10}}
    assert value["after"] == round(made["after"]["offers"][measured] * 0.25 * worth, 2)
    assert measured not in value["unmeasured"]
    assert set(value["unmeasured"]) == (
        set(made["before"]["offers"]) | set(made["after"]["offers"])
    ) - {measured}


def _finished_backtest(app: Flask, session: Session, tmp_path: Path) -> Backtest:
    """A backtest of the demo without its refill-savings rule over a small history, run."""
    with app.app_context():
        publish_demo(app, session)
        _drop_refill_savings_rule(session)
        _history(session, tmp_path, copies=1)
        return backtests.run(
            session, backtests.create(session, params=SearchParams(), actor_id=None).id
        )


def test_the_backtest_page_opens_each_changed_interaction_in_the_full_preview(
    app: Flask, session: Session, tmp_path: Path, client
) -> None:
    done = _finished_backtest(app, session, tmp_path)
    sign_in_as(client, make_user(session, "service_lead"))
    page = client.get(f"/history/backtests/{done.id}").get_data(as_text=True)
    first = done.result["examples"][0]["id"]
    assert f"/history/i/{first}/preview?backtest={done.id}" in page
    # The demo's logged decisions give the offers made here an observed acceptance.
    assert "Expected value: offers made × the acceptance rate observed" in page


def test_a_backtests_charts_are_images_drawn_under_the_chart_policy(
    app: Flask, session: Session, tmp_path: Path, client
) -> None:
    """pygal styles its SVG with a <style>: inside the page the page policy refused it
    and the bars drew as black boxes; as their own image documents they are styled."""
    done = _finished_backtest(app, session, tmp_path)
    sign_in_as(client, make_user(session, "reviewer"))
    page = client.get(f"/history/backtests/{done.id}").get_data(as_text=True)
    assert "<svg" not in page
    for name in ("offers", "rules"):
        assert f'<img src="/history/backtests/{done.id}/charts/{name}.svg"' in page
        chart = client.get(f"/history/backtests/{done.id}/charts/{name}.svg")
        assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
        assert (
            chart.headers["Content-Security-Policy"]
            == "default-src 'none'; style-src 'unsafe-inline'"
        )
        assert b"<style" in chart.data and b"<script" not in chart.data
    offers = client.get(f"/history/backtests/{done.id}/charts/offers.svg").data
    assert b"refill_savings" in offers  # the offer the dropped rule made
    assert client.get(f"/history/backtests/{done.id}/charts/nope.svg").status_code == 404
    assert client.get(f"/history/backtests/{done.id + 99}/charts/offers.svg").status_code == 404


def test_the_summary_counts_interactions_and_does_not_contradict_itself(
    app: Flask, session: Session, tmp_path: Path, client
) -> None:
    """ "16 of 16 interactions" sat beside "Stopped by a guard 84" (guards summed per
    ruleset): every figure of the summary now counts interactions, at most once each."""
    done = _finished_backtest(app, session, tmp_path)
    decided = done.result["decided"]
    sign_in_as(client, make_user(session, "service_lead"))
    page = client.get(f"/history/backtests/{done.id}").get_data(as_text=True)
    assert f"Of {decided:,} interactions decided" in page
    for side in ("before", "after"):
        counts = [done.result[side][name] for name in ("reached", "held_out", "guarded")]
        assert all(0 <= n <= decided for n in counts), counts
    guarded = done.result["before"]["guarded"]
    assert (
        f'<th scope="row">A guard fired (in a ruleset or the contact policy)</th><td>{guarded}'
        in page
    )
    assert "Each row counts interactions, each at most once" in page
    # A result stored before the per-interaction counts is labelled for what it counted.
    done.result = {
        **done.result,
        "before": {k: v for k, v in done.result["before"].items() if k != "guarded"},
    }
    session.commit()
    old = client.get(f"/history/backtests/{done.id}").get_data(as_text=True)
    assert "Guards fired, counted per ruleset" in old and "A guard fired" not in old
