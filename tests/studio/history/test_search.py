"""History search on both databases: full text, filters, facets, pages, saved searches."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from studio.errors import FieldError
from studio.models import FeedbackEvent, SavedSearch, utcnow
from studio.services import history_search, interaction_import
from studio.services.history_search import SearchParams
from tests.factories.interactions import history, interaction, write_jsonl


def _store(session: Session, tmp_path: Path, rows: list[dict]) -> None:
    path = write_jsonl(tmp_path / "h.jsonl", rows)
    record = interaction_import.create(
        session, path=path, filename=path.name, redact=False, actor_id=None
    )
    assert interaction_import.run(session, record.id).imported == len(rows)


def _search(session: Session, **args: str) -> history_search.SearchResult:
    return history_search.search(session, SearchParams.from_args(args), raw_text=True)


def test_text_search_matches_every_word_stemmed_and_ignores_query_syntax(
    session: Session, tmp_path: Path
) -> None:
    _store(
        session,
        tmp_path,
        [interaction(n, text=f"Neutral contact {n}") for n in range(20)]
        + [
            interaction(100, text="My cards were stolen yesterday"),
            interaction(101, text="Stolen phone, not a card"),
            interaction(102, text='Weird "quotes" AND NOT (syntax) * here'),
        ],
    )
    assert {h.interaction_id for h in _search(session, q="stolen card").items} == {"i-100", "i-101"}
    assert [h.interaction_id for h in _search(session, q='"quotes" NOT (syntax*').items] == [
        "i-102"
    ]
    assert _search(session, q="nothingmatchesthis").total == 0


def test_filters_combine_and_facets_count_the_matches(session: Session, tmp_path: Path) -> None:
    _store(session, tmp_path, history(60))
    result = _search(session, channel="phone")
    assert result.total == 12 and {h.channel for h in result.items} == {"phone"}
    assert result.facets["channel"] == [("phone", 12)]
    assert sum(n for _v, n in result.facets["intent"]) == 12
    both = _search(session, channel="phone", attribute="tier=gold")
    assert both.total == len([n for n in range(60) if n % 5 == 1 and n % 3 == 0])
    dated = _search(session, date_from="2026-11-25", date_to="2026-11-29")
    expected = [r["id"] for r in history(60) if "2026-11-25" <= r["at"][:10] <= "2026-11-29"]
    assert dated.total == len(expected) > 0


def test_pages_hold_25_rows_newest_first(session: Session, tmp_path: Path) -> None:
    _store(session, tmp_path, history(60))
    first, third = _search(session), history_search.search(session, SearchParams(), page=3)
    assert (first.total, len(first.items), len(third.items), third.page) == (60, 25, 10, 3)
    assert [h.at for h in first.items] == sorted((h.at for h in first.items), reverse=True)


def test_received_offer_and_complained_join_the_customers_events(
    session: Session, tmp_path: Path
) -> None:
    _store(session, tmp_path, history(30))
    session.add_all(
        [
            FeedbackEvent(
                event_id="e1",
                type="shown",
                offer_key="refill_savings",
                customer_id="c-3",
                at=utcnow(),
            ),
            FeedbackEvent(
                event_id="e2", type="complaint", offer_key="", customer_id="c-4", at=utcnow()
            ),
        ]
    )
    session.flush()
    assert {h.customer_id for h in _search(session, received_offer="refill_savings").items} == {
        "c-3"
    }
    assert {h.customer_id for h in _search(session, complained="1").items} == {"c-4"}


def test_a_bad_date_or_attribute_is_a_problem_not_an_error(session: Session) -> None:
    result = _search(session, date_from="30/11/2026", attribute="tier")
    assert [p.field for p in result.problems] == ["date_from", "attribute"]


def test_saved_searches_come_back_with_their_filters(session: Session) -> None:
    saved = history_search.save(
        session,
        name="Phone complaints",
        params=SearchParams(channel="phone", complained="1"),
        owner_id=None,
    )
    assert isinstance(saved, SavedSearch)
    assert [s.name for s in history_search.saved_for(session, None)] == ["Phone complaints"]
    assert history_search.params_of(saved) == SearchParams(channel="phone", complained="1")
    refused = history_search.save(session, name="Empty", params=SearchParams(), owner_id=None)
    assert isinstance(refused, FieldError)
    assert refused.field == "q"


def _scanned(session: Session, params: SearchParams) -> tuple[int, dict]:
    """Total and facets counted by scanning the interactions themselves."""
    where, _problems = history_search.conditions(session, params)
    total = session.scalar(
        history_search.select(history_search.func.count())
        .select_from(history_search.Interaction)
        .where(*where)
    )
    return total, history_search.facet_counts(session, where)


def test_searches_by_facets_attributes_and_dates_count_exactly_what_a_scan_counts_after_deletes(
    session: Session, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from studio.services import retention

    _store(session, tmp_path, history(90))
    asks = [
        {},
        {"channel": "phone"},
        {"intent": "refill", "resolution": "confirmed"},
        {"date_from": "2026-11-10", "date_to": "2026-11-20"},
        {"category": "diagnostic", "date_from": "2026-11-25"},
        {"attribute": "tier=gold"},
        {"attribute": "tier=silver", "channel": "chat", "date_to": "2026-11-28"},
    ]
    for args in asks:
        params = SearchParams.from_args(args)
        result = history_search.search(session, params)
        assert (result.total, result.facets) == _scanned(session, params), args
    retention.set_retention_days(session, 20, actor_id=None)
    assert retention.apply(session, now=datetime(2026, 11, 30, 12, tzinfo=UTC)) > 0
    for args in asks:
        params = SearchParams.from_args(args)
        result = history_search.search(session, params)
        assert (result.total, result.facets) == _scanned(session, params), args


def test_the_attribute_filter_matches_text_and_true_or_false(
    session: Session, tmp_path: Path
) -> None:
    rows = [interaction(n) for n in range(6)]
    rows[0]["customer"]["authenticated"] = False
    _store(session, tmp_path, rows)
    assert _search(session, attribute="tier=gold").total == 2
    assert _search(session, attribute="authenticated=false").total == 1
    assert _search(session, attribute="authenticated=true").total == 5
    assert _search(session, attribute="state=NY").total == 0


def test_a_text_search_past_the_count_limit_says_more_than_and_pages_the_newest(
    session: Session, tmp_path: Path
) -> None:
    _store(
        session,
        tmp_path,
        [interaction(n, text=f"lost card {n}") for n in range(40)]
        + [interaction(n, text=f"refill {n}") for n in range(40, 45)],
    )
    params = SearchParams(q="card")
    capped = history_search.search(session, params, per_page=5, count_limit=12)
    assert (capped.capped, capped.total, capped.pages, capped.facets) == (True, 12, 3, {})
    newest = sorted(
        (h for h in history_search.search(session, params, per_page=40).items),
        key=lambda h: (h.at, h.id),
        reverse=True,
    )
    last = history_search.search(session, params, page=9, per_page=5, count_limit=12)
    assert last.page == 3 and [h.id for h in last.items] == [h.id for h in newest[10:15]]
    exact = history_search.search(session, SearchParams(q="refill"), count_limit=12)
    assert (exact.capped, exact.total) == (False, 5)
    assert exact.facets["channel"] and sum(n for _v, n in exact.facets["intent"]) == 5
    at_limit = history_search.search(session, params, count_limit=40)
    assert (at_limit.capped, at_limit.total) == (False, 40)
