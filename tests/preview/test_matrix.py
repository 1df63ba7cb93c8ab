"""The matrix: one ruleset or one offer against every sample interaction."""

from __future__ import annotations

import pytest

from preview import Sample, run_matrix
from studio.demo.samples import demo_samples
from tests.factories.samples import demo_workspace


@pytest.fixture(scope="module")
def ws():
    return demo_workspace()


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    return [Sample(s["key"], s["name"], s["interaction"], tuple(s["tags"])) for s in demo_samples()]


def _cells(matrix):
    return {row.sample.key: row.cell for row in matrix.rows}


def test_a_ruleset_matrix_says_who_gets_what_and_why_not(ws, samples) -> None:
    cells = _cells(run_matrix(ws, samples, kind="ruleset", key="retail_banking"))
    assert cells["checkbook-order"].offers == ("overdraft_protection",)
    stolen = cells["stolen-card-distress"]
    assert stolen.status == "follow_up" and "guard" in stolen.why
    assert stolen.follow_ups == ("card_protection_plan after 7 days",)
    assert cells["anonymous-web-question"].why == "no rule matched"


def test_an_offer_matrix_shows_where_it_is_made_and_why_elsewhere_not(ws, samples) -> None:
    matrix = run_matrix(ws, samples, kind="offer", key="refill_savings")
    cells = _cells(matrix)
    assert cells["pharmacy-refill-8pct"].status == "offer"
    assert cells["hotel-complaint"].why == "no rule offers it for this interaction"
    assert sum(matrix.counts.values()) == len(samples)


@pytest.mark.parametrize(
    ("kind", "key", "title"),
    [("offer", "no_such_offer", "Unknown offer"), ("ruleset", "nope", "Unknown ruleset")],
)
def test_an_unknown_key_is_a_message_not_an_error(ws, samples, kind, key, title) -> None:
    matrix = run_matrix(ws, samples, kind=kind, key=key)
    assert matrix.blocked and matrix.blocking_title == title


def test_a_ruleset_saved_with_errors_is_reported_with_its_diagnostics(samples) -> None:
    ws = demo_workspace(rulesets={"broken": {"name": "Broken", "source": 'rule "a" when x\n'}})
    matrix = run_matrix(ws, samples, kind="ruleset", key="broken")
    assert matrix.blocked and matrix.problems[0].line == 1


def test_a_tone_only_the_preview_guesses_is_marked_and_a_distressed_one_is_not(ws) -> None:
    texts = {
        "guessed": "Thanks so much, the new card works great and I love the app",
        "distressed": "My card was stolen and I am scared",
        "given": "Please send a new checkbook",
    }
    samples = [
        Sample(key, key, {"inquiry": {"channel": "email", "text": text}}, ())
        for key, text in texts.items()
    ]
    samples[2] = Sample("given", "given", {**samples[2].body, "tone": {"label": "calm"}}, ())
    matrix = run_matrix(ws, samples, kind="ruleset", key="retail_banking")
    rows = {row.sample.key: row for row in matrix.rows}
    assert (rows["guessed"].tone, rows["guessed"].tone_guessed) == ("positive", True)
    assert (rows["distressed"].tone, rows["distressed"].tone_guessed) == ("distressed", False)
    assert rows["given"].tone_guessed is False
    assert matrix.guessed_tones == 1
