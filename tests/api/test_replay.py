"""The backtest's replay counts exactly what a direct loop over /decide's runtime counts."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bundle.replay import merge, replay_bundles
from bundle.runtime import BundleRuntime

DEMO = Path(__file__).parents[2] / "studio" / "demo" / "interactions.json"


def _rows() -> list[dict[str, Any]]:
    samples = [entry["interaction"] for entry in json.loads(DEMO.read_text())]
    # Real history carries the tone the contact centre measured (the demo rulesets never
    # offer when the tone is unknown).
    return [
        {**s, "id": f"{s['id']}-{n}", "tone": s.get("tone") or {"label": "neutral", "score": 0.0}}
        for n in range(20)
        for s in samples
    ]


def _without_first_ruleset(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "rulesets": body["rulesets"][1:]}


def test_replay_counts_equal_a_direct_loop_over_the_runtime(
    demo_bundle_body: dict[str, Any],
) -> None:
    after_body = _without_first_ruleset(demo_bundle_body)
    rows = _rows()
    tally = replay_bundles(demo_bundle_body, after_body, rows)
    before, after = (
        BundleRuntime.from_bundle(demo_bundle_body),
        BundleRuntime.from_bundle(after_body),
    )
    offers_before: dict[str, int] = {}
    changed = 0
    for row in rows:
        old = sorted(o["offer"] for o in before.decide(row, channels=())["offers"])
        new = sorted(o["offer"] for o in after.decide(row, channels=())["offers"])
        for key in old:
            offers_before[key] = offers_before.get(key, 0) + 1
        changed += old != new
    assert tally["decided"] == len(rows)
    assert tally["before"]["offers"] == offers_before and offers_before
    assert tally["changed"] == changed > 0


def test_chunks_decided_in_two_processes_add_up_to_one_run(
    demo_bundle_body: dict[str, Any],
) -> None:
    after_body = _without_first_ruleset(demo_bundle_body)
    rows = _rows()
    whole = replay_bundles(demo_bundle_body, after_body, rows)
    chunks = [rows[i : i + 37] for i in range(0, len(rows), 37)]
    with ProcessPoolExecutor(2) as pool:
        parts = list(
            pool.map(
                replay_bundles, [demo_bundle_body] * len(chunks), [after_body] * len(chunks), chunks
            )
        )
    merged = merge(parts)
    assert {k: v for k, v in merged.items() if k != "examples"} == {
        k: v for k, v in whole.items() if k != "examples"
    }


def test_holdouts_and_guards_are_counted_once_per_interaction(
    demo_bundle_body: dict[str, Any],
) -> None:
    """The summary said "16 of 16 interactions" beside "Stopped by a guard 84": guards were
    summed per ruleset. `held_out` and `guarded` count interactions, as `reached` does."""
    distressed = {"label": "distressed", "score": -0.9}  # every demo ruleset guards it
    rows = _rows() + [{**r, "id": f"{r['id']}-d", "tone": distressed} for r in _rows()[:20]]
    tally = replay_bundles(demo_bundle_body, demo_bundle_body, rows)
    runtime = BundleRuntime.from_bundle(demo_bundle_body)
    reached = held_out = guarded = 0
    for row in rows:
        decision = runtime.decide(row, channels=())
        rulesets = decision["rulesets"]
        reached += bool(decision["offers"])
        held_out += any(r.get("holdouts") for r in rulesets)
        guarded += any(r.get("guards") for r in rulesets) or bool(
            (decision.get("policy") or {}).get("guards")
        )
    side = tally["before"]
    assert (side["reached"], side["held_out"], side["guarded"]) == (reached, held_out, guarded)
    assert 0 < guarded < sum(side["guards"].values())  # one guard fires in several rulesets
    assert max(reached, held_out, guarded) <= tally["decided"]
