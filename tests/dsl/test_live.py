"""Live diagnostics (the editor's, statement by statement with a memo) say exactly what
a whole compile says, keystroke after keystroke, typos and all."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dsl
from dsl.live import LiveSource
from dsl.offers import OfferInfo

from .conftest import EXAMPLES

OFFERS = {
    entry["key"]: OfferInfo.from_dict(entry)
    for entry in json.loads((EXAMPLES / "offers.json").read_text())
}
SURVEYS = ("nps_after_service",)
BASE = (EXAMPLES / "retail_banking.rules").read_text() + "\n".join(
    [
        "",
        'rule "Shadowed: platinum again"',
        "  when customer.authenticated and customer.tier is platinum and tone is positive",
        "  offer realtime_contact",
        "",
        'rule "Never true"',
        "  when tone.score > 0.5 and tone.score < 0.1",
        "  offer rewards_card",
        "",
        'rule "Asks a survey"',
        "  when inquiry.resolved",
        "  ask survey nps_after_service to 20% of customers",
        "",
    ]
)
#: What typing inserts: words of the language, typos, quotes, brackets, line breaks.
PIECES = st.sampled_from(
    [
        "x",
        " ",
        "\n",
        '"',
        "(",
        ")",
        "and ",
        " or ",
        "not ",
        "rule ",
        'rule "New"\n  when tone is positive\n  offer rewards_card\n',
        "never offer when tone is distressed\n",
        "limit offers to 1 per customer per 7 days\n",
        "at most 2 offers per response\n",
        "transactonal",
        "tone is negative",
        "offer unknown_offer",
        "priority 5",
        "# note\n",
        "\u202e",
        "((((((((",
    ]
)


@st.composite
def edits(draw: st.DrawFn, text: str) -> str:
    at = draw(st.integers(0, len(text)))
    if draw(st.booleans()):
        return text[:at] + draw(PIECES) + text[at:]
    end = min(len(text), at + draw(st.integers(1, 40)))
    return text[:at] + text[end:]


#: BASE without its contradiction (an error): most versions typed from it compile.
CLEAN = BASE.replace(
    'rule "Never true"\n  when tone.score > 0.5 and tone.score < 0.1\n  offer rewards_card\n', ""
)


@st.composite
def typing(draw: st.DrawFn, base: str = BASE) -> list[str]:
    versions = [base]
    for _ in range(draw(st.integers(1, 6))):
        versions.append(draw(edits(versions[-1])))
    return versions


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(typing())
def test_live_diagnostics_match_a_whole_compile_after_every_keystroke(versions: list[str]) -> None:
    live = LiveSource(dsl.default_schema(), OFFERS, SURVEYS)
    for source in versions:
        got = live.check(source)
        want = dsl.compile_ruleset(source, offers=OFFERS, surveys=SURVEYS)
        assert got.diagnostics == want.diagnostics, source
        assert got.ok == want.ok
        assert got.rules == (len(want.ir["rules"]) if want.ir else 0)


def test_a_keystroke_reparses_only_the_statement_it_changed() -> None:
    live = LiveSource(dsl.default_schema(), OFFERS, SURVEYS)
    live.check(BASE)
    edited = BASE.replace("priority 60", "priority 61", 1)
    assert edited != BASE
    kept = dict(live._old)  # what the first check parsed, by (first line, text)
    live.check(edited)
    reparsed = [key for key in live._old if key not in kept]
    assert len(reparsed) == 1 and "priority 61" in reparsed[0][1]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(typing(CLEAN))
def test_live_compile_gives_a_whole_compiles_ir_after_every_keystroke(versions: list[str]) -> None:
    assert dsl.compile_ruleset(CLEAN, offers=OFFERS, surveys=SURVEYS).ok
    live = LiveSource(dsl.default_schema(), OFFERS, SURVEYS)
    for source in versions:
        got = live.compile(source, name="Retail")
        want = dsl.compile_ruleset(source, offers=OFFERS, surveys=SURVEYS, name="Retail")
        assert got.diagnostics == want.diagnostics, source
        assert got.ok == want.ok
        assert got.ir == want.ir


def test_live_compile_of_a_source_checked_whole_keeps_its_name() -> None:
    live = LiveSource(dsl.default_schema(), OFFERS, SURVEYS)
    clean = (EXAMPLES / "retail_banking.rules").read_text()
    source = clean.replace("\n", "\r\n")  # carriage returns: compiled whole, not in pieces
    got = live.compile(source, name="Retail")
    want = dsl.compile_ruleset(source, offers=OFFERS, surveys=SURVEYS, name="Retail")
    assert got.ok and got.ir == want.ir and got.ir is not None and got.ir["name"] == "Retail"


def test_loading_an_edited_ruleset_compiles_only_the_pieces_it_changed(monkeypatch) -> None:
    from dsl import codegen

    compiled: list[str] = []
    real_compile = compile

    def counting(text: str, *args: object, **kwargs: object):
        compiled.append(text)
        return real_compile(text, *args, **kwargs)  # type: ignore[call-overload]

    first = dsl.compile_ruleset(CLEAN, offers=OFFERS, surveys=SURVEYS)
    assert first.ir is not None
    dsl.load_ruleset(first.ir)
    edited = dsl.compile_ruleset(
        CLEAN.replace("and inquiry.channel is email", "and inquiry.channel is chat", 1),
        offers=OFFERS,
        surveys=SURVEYS,
    )
    assert edited.ir is not None and edited.ir != first.ir
    monkeypatch.setattr(codegen, "compile", counting, raising=False)
    again = dsl.load_ruleset(first.ir)
    assert compiled == []  # every piece was compiled before
    pieces = [line for line in again.source.splitlines() if not line.startswith(" ")]
    dsl.load_ruleset(edited.ir)
    assert compiled and all("'chat'" in text or "chat" in text for text in compiled), compiled
    assert len(compiled) < len(pieces), (compiled, pieces)
    interaction = json.loads((EXAMPLES / "checkbook_order.json").read_text())
    assert (
        again.decide(interaction, OFFERS)["offers"]
        == dsl.load_ruleset(first.ir).decide(interaction, OFFERS)["offers"]
    )
