from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from dsl.__main__ import main

from .conftest import EXAMPLES

RULES = str(EXAMPLES / "retail_banking.rules")
OFFERS = str(EXAMPLES / "offers.json")


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), input=stdin)


def test_check_passes_the_example() -> None:
    result = run("check", RULES, "--offers", OFFERS)
    assert result.exit_code == 0 and result.output == ""


def test_check_prints_file_line_column_then_excerpt(tmp_path) -> None:
    path = tmp_path / "bad.rules"
    path.write_text('rule "r"\n  when inquiry.category is transactonal\n  offer rewards_card\n')
    result = run("check", str(path))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert (
        lines[0]
        == f"{path}:2:28: error E201: `transactonal` is not a possible `inquiry.category`: it is one of informational, diagnostic, transactional, advisory, feedback"
    )
    assert lines[1] == "   2 |   when inquiry.category is transactonal"
    assert lines[2] == "     | " + " " * 27 + "^" * 12
    assert lines[3] == "     = hint: did you mean `transactional`?"


def test_check_exits_zero_on_warnings_only(tmp_path) -> None:
    path = tmp_path / "warn.rules"
    path.write_text(
        'never offer when tone is distressed\nrule "r" when tone is distressed offer x\n'
        "never offer when tone is unknown\n"
    )
    result = run("check", str(path))
    assert result.exit_code == 0
    assert re.match(rf"{re.escape(str(path))}:2:6: warning W400: ", result.output)


def test_check_reports_unknown_offers_against_the_offers_file(tmp_path) -> None:
    path = tmp_path / "r.rules"
    path.write_text('rule "r" when customer.authenticated offer rewards_crd\n')
    result = run("check", str(path), "--offers", OFFERS)
    assert result.exit_code == 1 and "E203" in result.output and "rewards_card" in result.output


def test_fmt_check_accepts_canonical_and_rejects_other_layouts(tmp_path) -> None:
    assert run("fmt", "--check", RULES).exit_code == 0
    messy = tmp_path / "messy.rules"
    messy.write_text('rule "r" when   customer.authenticated    offer x')
    result = run("fmt", "--check", str(messy))
    assert result.exit_code == 1 and "not in canonical layout" in result.output


def test_fmt_prints_and_writes_canonical_layout(tmp_path) -> None:
    messy = tmp_path / "messy.rules"
    messy.write_text('rule "r" when   customer.authenticated    offer x')
    expected = 'rule "r"\n  when customer.authenticated\n  offer x\n'
    assert run("fmt", str(messy)).output == expected
    assert run("fmt", "--write", str(messy)).exit_code == 0
    assert messy.read_text() == expected


def test_fmt_reports_syntax_errors(tmp_path) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text("rule x")
    result = run("fmt", str(bad))
    assert result.exit_code == 1 and "E100" in result.output


@pytest.mark.parametrize("explain", [False, True])
def test_decide_prints_the_decision_as_json(explain: bool) -> None:
    stdin = (EXAMPLES / "stolen_card.json").read_text()
    args = ["decide", "--rules", RULES, "--offers", OFFERS, "--interaction", "-"] + (
        ["--explain"] if explain else []
    )
    result = run(*args, stdin=stdin)
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["offers"] == []
    assert decision["follow_ups"] == [
        {
            "offer": "card_protection_plan",
            "rule": "Card protection a week after a stolen card",
            "after": "P7D",
        }
    ]
    assert [g["line"] for g in decision["guards"]] == [3, 5]
    assert ("trace" in decision) is explain


def test_decide_reads_the_interaction_from_a_file() -> None:
    result = run(
        "decide",
        "--rules",
        RULES,
        "--offers",
        OFFERS,
        "--interaction",
        str(EXAMPLES / "checkbook_order.json"),
    )
    assert json.loads(result.output)["offers"][0]["offer"] == "realtime_contact"


def test_decide_refuses_rules_with_errors(tmp_path) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text('rule "r" when tone is sad offer rewards_card')
    result = run(
        "decide", "--rules", str(bad), "--offers", OFFERS, "--interaction", "-", stdin="{}"
    )
    assert result.exit_code == 1 and "E201" in result.output


def test_decide_reports_bad_json(tmp_path) -> None:
    result = run(
        "decide", "--rules", RULES, "--offers", OFFERS, "--interaction", "-", stdin="{nope"
    )
    assert result.exit_code == 1 and "not valid JSON" in result.output


def test_decide_reports_bad_offer_eligibility(tmp_path) -> None:
    offers = tmp_path / "offers.json"
    offers.write_text(
        json.dumps([{"key": "x", "value": 1, "eligible_when": "customer.tier is dimond"}])
    )
    result = run(
        "decide", "--rules", RULES, "--offers", str(offers), "--interaction", "-", stdin="{}"
    )
    assert result.exit_code == 1 and "E201" in result.output


def test_decide_reads_a_tone_label_string_so_the_distress_guard_fires() -> None:
    body = json.loads((EXAMPLES / "checkbook_order.json").read_text())
    body["tone"] = "distressed"
    result = run(
        "decide", "--rules", RULES, "--offers", OFFERS, "--interaction", "-", stdin=json.dumps(body)
    )
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["offers"] == [] and decision["guards"]
    assert decision["interaction"] == {"valid": True, "expanded": ["tone"]}


def test_decide_refuses_an_interaction_that_does_not_fit_naming_the_field() -> None:
    body = json.loads((EXAMPLES / "checkbook_order.json").read_text())
    body["tone"] = {"label": "furious"}
    body["customer"]["tier"] = "diamond"
    result = run(
        "decide", "--rules", RULES, "--offers", OFFERS, "--interaction", "-", stdin=json.dumps(body)
    )
    assert result.exit_code == 1
    assert "-: interaction.tone.label: 'furious' is not one of" in result.output
    assert "interaction.customer.tier" in result.output and "nothing was decided" in result.output


def test_decide_with_allow_invalid_records_the_problems(tmp_path) -> None:
    body = json.loads((EXAMPLES / "checkbook_order.json").read_text())
    body["customer"]["tier"] = "diamond"
    result = run(
        "decide",
        "--rules",
        RULES,
        "--offers",
        OFFERS,
        "--interaction",
        "-",
        "--allow-invalid",
        stdin=json.dumps(body),
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)["interaction"]
    assert record["valid"] is False and record["allowed_invalid"] is True
    assert record["problems"][0]["field"] == "interaction.customer.tier"


def test_decide_infers_a_distressed_tone_from_text_with_the_given_lexicon(tmp_path) -> None:
    body = json.loads((EXAMPLES / "checkbook_order.json").read_text())
    del body["tone"]
    body["inquiry"]["text"] = "I lost my job, please send the checkbook"
    lexicon = tmp_path / "lexicon.json"
    lexicon.write_text(json.dumps({"distress": ["lost my job"]}))
    args = ["decide", "--rules", RULES, "--offers", OFFERS, "--interaction", "-"]
    with_lexicon = json.loads(run(*args, "--lexicon", str(lexicon), stdin=json.dumps(body)).output)
    assert (
        with_lexicon["offers"] == []
        and with_lexicon["interaction"]["inferred_tone"]["label"] == "distressed"
    )
    default = json.loads(run(*args, stdin=json.dumps(body)).output)
    assert "inferred_tone" not in default["interaction"]
