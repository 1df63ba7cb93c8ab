"""Searching and slicing imported history: full-text search plus filters, facet counts,
pagination, saved searches, a customer's timeline, and CSV export.

Full-text search uses the database's own index (the migration makes both): SQLite's FTS5
table `interactions_fts` (porter stemming), PostgreSQL's generated `search_vector`
(english) with a GIN index. Every word must match; punctuation is ignored, so what
people type never reaches either engine as query syntax.

"received offer X" and "complained" join the downstream events (`feedback_events`) on
the customer id: a customer matches when an event of that kind exists for them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Select, and_, exists, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from studio.errors import FieldError
from studio.models import (
    FeedbackEvent,
    Interaction,
    InteractionAttribute,
    InteractionAttributeCount,
    InteractionFacetCount,
    SavedSearch,
)
from studio.services import date_range, parquet_files
from studio.services.pagination import Page, clamp

PER_PAGE: Final = 25
FACETS: Final = ("category", "intent", "channel", "tone", "resolution")
FACET_LIMIT: Final = 12
MAX_WORDS: Final = 20
#: A search that is not counted from the kept counts (text, a customer, events) counts its
#: matches up to this many; past it the page says "more than 10,000", counts no facets and
#: pages through the newest 10,000 only.
COUNT_LIMIT: Final = 10_000
ATTRIBUTE_RE: Final = re.compile(r"^([a-z][a-z0-9_]{0,40})=(.{1,100})$")
EXPORT_COLUMNS: Final = (
    "interaction_id",
    "at",
    "customer_id",
    "category",
    "intent",
    "channel",
    "tone",
    "resolution",
    "text",
)


@dataclass(frozen=True)
class SearchParams:
    """What someone asked for: free text and filters, all optional."""

    q: str = ""
    category: str = ""
    intent: str = ""
    channel: str = ""
    tone: str = ""
    resolution: str = ""
    date_from: str = ""
    date_to: str = ""
    customer: str = ""
    attribute: str = ""  # customer attribute, "tier=gold"
    received_offer: str = ""
    complained: str = ""  # "1" when only customers who complained

    @classmethod
    def from_args(cls, args: Mapping[str, Any], *, in_order: bool = True) -> SearchParams:
        """What `args` ask for; with `in_order`, a From after To is swapped (as Analytics
        swaps them): the range someone meant, not one that can match nothing."""
        names = cls.__dataclass_fields__
        asked = cls(**{k: str(args.get(k, "") or "").strip()[:200] for k in names})
        return asked.dates_in_order() if in_order else asked

    def dates_in_order(self) -> SearchParams:
        start, end = date_range.iso_day(self.date_from), date_range.iso_day(self.date_to)
        if start and end and start > end:
            return replace(self, date_from=self.date_to, date_to=self.date_from)
        return self

    def to_args(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}

    @property
    def empty(self) -> bool:
        return not self.to_args()


@dataclass(frozen=True)
class Hit:
    id: int
    interaction_id: str
    customer_id: str
    at: datetime
    category: str
    intent: str
    channel: str
    tone: str
    resolution: str
    text: str | None  # None when the reader's roles do not see raw text


@dataclass(frozen=True)
class SearchResult(Page[Hit]):
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    problems: list[FieldError] = field(default_factory=list)
    #: True when more than `total` (COUNT_LIMIT) interactions match: `total` is then the
    #: number that can be paged through, not the number of matches.
    capped: bool = False


def words(query: str) -> list[str]:
    return re.findall(r"\w+", query.lower())[:MAX_WORDS]


def anything_imported(session: Session) -> bool:
    """Whether any interaction is stored at all (for the empty state: import first)."""
    return session.scalar(select(Interaction.id).limit(1)) is not None


def conditions(
    session: Session, params: SearchParams, *, by_date: bool = False
) -> tuple[list[Any], list[FieldError]]:
    """The WHERE clauses for `params`, and the problems with what was asked.

    `by_date` words the text and attribute clauses so that no index drives them (SQLite's
    full-text match as `+id IN (...)`, the attribute as a correlated EXISTS): the database
    then walks a date-ordered index newest first (`ix_interactions_at`, or a facet's or the
    customer's `ix_interactions_<column>_at`) and checks each row, which finds a page of a
    broad search in a few hundred rows instead of reading every match and sorting them all.
    """
    problems: list[FieldError] = []
    where: list[Any] = []
    for name in FACETS:
        value = getattr(params, name)
        if value:
            column = getattr(Interaction, name)
            where.append(column == _stored_facet(value))
    start, end = (
        date_range.day(params.date_from, "date_from", problems),
        date_range.day(params.date_to, "date_to", problems),
    )
    if start:
        where.append(Interaction.at >= datetime.combine(start, datetime.min.time(), UTC))
    if end:
        where.append(
            Interaction.at < datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC)
        )
    if params.customer:
        where.append(Interaction.customer_id == params.customer)
    if params.attribute:
        match = ATTRIBUTE_RE.match(params.attribute)
        if match is None:
            problems.append(
                FieldError(
                    "attribute",
                    "Write a customer attribute as name=value, like tier=gold or state=CA.",
                )
            )
        else:
            name, value = match.groups()
            named = (InteractionAttribute.name == name, InteractionAttribute.value == value)
            if by_date:  # probe the attribute index row by row, newest first
                where.append(
                    exists().where(*named, InteractionAttribute.interaction_row == Interaction.id)
                )
            else:
                where.append(
                    Interaction.id.in_(select(InteractionAttribute.interaction_row).where(*named))
                )
    if params.received_offer:
        where.append(
            exists().where(
                and_(
                    FeedbackEvent.customer_id == Interaction.customer_id,
                    FeedbackEvent.offer_key == params.received_offer,
                    FeedbackEvent.type.in_(("shown", "clicked", "accepted", "declined")),
                )
            )
        )
    if params.complained:
        where.append(
            exists().where(
                and_(
                    FeedbackEvent.customer_id == Interaction.customer_id,
                    FeedbackEvent.type == "complaint",
                )
            )
        )
    terms = words(params.q)
    if terms:
        if session.get_bind().dialect.name == "postgresql":
            where.append(
                text("interactions.search_vector @@ plainto_tsquery('english', :fts)").bindparams(
                    fts=" ".join(terms)
                )
            )
        else:
            matched: Select[Any]
            matched = (
                select(literal_column("rowid"))
                .select_from(table("interactions_fts"))
                .where(
                    text("interactions_fts MATCH :fts").bindparams(
                        fts=" ".join(f'"{w}"' for w in terms)
                    )
                )
            )
            where.append(((Interaction.id + 0) if by_date else Interaction.id).in_(matched))
    return where, problems


def _hit(row: Any, raw_text: bool) -> Hit:
    return Hit(
        row.id,
        row.interaction_id,
        row.customer_id,
        _aware(row.at),
        row.category,
        row.intent,
        row.channel,
        row.tone,
        row.resolution,
        row.text if raw_text else None,
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_COLUMNS: Final = (
    Interaction.id,
    Interaction.interaction_id,
    Interaction.customer_id,
    Interaction.at,
    Interaction.category,
    Interaction.intent,
    Interaction.channel,
    Interaction.tone,
    Interaction.resolution,
    Interaction.text,
)


def search(
    session: Session,
    params: SearchParams,
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
    raw_text: bool = False,
    facets: bool = True,
    count_limit: int | None = None,
) -> SearchResult:
    """A page of interactions matching `params`, newest first, with facet counts.

    A search by facets, dates and an attribute is counted exactly from the kept counts;
    any other is counted up to `count_limit` (COUNT_LIMIT): past it the result is `capped` (its `total`
    is `count_limit`, the matches one can page through, newest first) and has no facets.
    """
    where, problems = conditions(session, params)
    if problems:
        return SearchResult([], 1, per_page, 0, problems=problems)
    counted = _from_facet_counts(session, params, facets)
    capped = False
    if counted is not None:
        total, counts = counted
    else:
        limit = COUNT_LIMIT if count_limit is None else count_limit
        total = bounded_count(session, params, where, limit)
        capped = total > limit
        total = min(total, limit)
        counts = {}
    page = clamp(page, total=total, per_page=per_page)
    newest: Any = Interaction.at
    if capped or (counted is not None and where and _common(session, total)):
        where, _problems = conditions(session, params, by_date=True)
    elif words(params.q):
        # At most COUNT_LIMIT matches: find them through the text index and sort them. A
        # key no index provides keeps the database from walking the date index instead
        # (PostgreSQL guesses thousands of matches for a rare word and reads every row).
        newest = func.coalesce(Interaction.at, Interaction.at)
    rows = session.execute(
        select(*_COLUMNS)
        .where(*where)
        .order_by(newest.desc(), Interaction.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    if counted is None and facets and total and not capped:
        counts = facet_counts(session, where)
    return SearchResult(
        [_hit(r, raw_text) for r in rows], page, per_page, total, facets=counts, capped=capped
    )


def bounded_count(
    session: Session, params: SearchParams, where: list[Any], limit: int = COUNT_LIMIT
) -> int:
    """How many interactions match `params` (whose clauses are `where`), counted up to
    `limit` + 1: the database stops reading at the first `limit` + 1 matches, so a word in
    a quarter of a million rows costs what ten thousand do. On SQLite a search
    by text alone is counted from the FTS5 table joined to the interactions, which reads
    the matches as FTS5 finds them (`id IN (...)` would first collect every match; with
    other filters SQLite would drive the join from their index instead)."""
    first: Any
    terms = words(params.q)
    if terms and session.get_bind().dialect.name == "sqlite" and replace(params, q="").empty:
        fts = table("interactions_fts", literal_column("rowid"))
        first = (
            select(Interaction.id)
            .select_from(
                fts.join(Interaction, Interaction.id == literal_column("interactions_fts.rowid"))
            )
            .where(
                text("interactions_fts MATCH :fts").bindparams(
                    fts=" ".join(f'"{w}"' for w in terms)
                )
            )
            .limit(limit + 1)
            .subquery()
        )
    else:
        first = select(Interaction.id).where(*where).limit(limit + 1).subquery()
    return int(session.scalar(select(func.count()).select_from(first)) or 0)


#: What a search may ask for and still be counted from the kept counts.
_COUNTED_PARAMS: Final = frozenset({*FACETS, "date_from", "date_to", "attribute"})


def _from_facet_counts(
    session: Session, params: SearchParams, facets: bool
) -> tuple[int, dict[str, list[tuple[str, int]]]] | None:
    """The total and facets of a search by facets, dates and at most one customer
    attribute, from the counts kept per day and facet values (`interaction_facet_counts`,
    or `interaction_attribute_counts` for an attribute): a few thousand rows whatever the
    history's size. None when the search asks for anything else (text, a customer,
    events)."""
    if not set(params.to_args()) <= _COUNTED_PARAMS:
        return None
    table: Any = InteractionFacetCount
    where: list[Any] = []
    if params.attribute:
        match = ATTRIBUTE_RE.match(params.attribute)
        if match is None:
            return None
        table = InteractionAttributeCount
        where += [table.name == match.group(1), table.value == match.group(2)]
    where += [
        getattr(table, name) == _stored_facet(getattr(params, name))
        for name in FACETS
        if getattr(params, name)
    ]
    if params.date_from:
        where.append(table.day >= date.fromisoformat(params.date_from))
    if params.date_to:
        where.append(table.day <= date.fromisoformat(params.date_to))
    columns = [getattr(table, name) for name in FACETS]
    rows = session.execute(
        select(*columns, func.sum(table.n)).where(*where).group_by(*columns)
    ).all()
    total = sum(int(row[-1]) for row in rows)
    return total, (_add_up(rows) if facets and total else {})


def _common(session: Session, total: int) -> bool:
    """Whether `total` matches are at least 1% of every stored interaction."""
    everything = session.scalar(select(func.sum(InteractionFacetCount.n))) or 0
    return total * 100 >= int(everything)


#: Above this many distinct (category, intent, channel, tone, resolution) combinations the
#: facets are counted one GROUP BY each instead of from one grouped scan.
MAX_COMBINATIONS: Final = 5_000


def facet_counts(session: Session, where: list[Any]) -> dict[str, list[tuple[str, int]]]:
    """Counts per value of each facet over the matches: one grouped scan, added up here."""
    columns = [getattr(Interaction, name) for name in FACETS]
    rows = session.execute(
        select(*columns, func.count()).where(*where).group_by(*columns).limit(MAX_COMBINATIONS + 1)
    ).all()
    if len(rows) > MAX_COMBINATIONS:
        return _facet_counts_each(session, where)
    return _add_up(rows)


#: How a facet without a value is listed (and asked for, from its link).
NO_VALUE: Final = "(none)"


def _stored_facet(value: str) -> str:
    """The stored value a facet filter asks for: "(none)", the listed name of interactions
    without a value, asks for the empty value they are stored with."""
    return "" if value == NO_VALUE else value


def _add_up(rows: Sequence[Any]) -> dict[str, list[tuple[str, int]]]:
    """Facet counts from rows of (the five facet values, a count)."""
    totals: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    for row in rows:
        n = int(row[-1])
        for index, name in enumerate(FACETS):
            value = row[index] or NO_VALUE
            totals[name][value] = totals[name].get(value, 0) + n
    return {
        name: sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_LIMIT]
        for name, counts in totals.items()
    }


def _facet_counts_each(session: Session, where: list[Any]) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {}
    for name in FACETS:
        column = getattr(Interaction, name)
        number = func.count()
        rows = session.execute(
            select(column, number)
            .where(*where)
            .group_by(column)
            .order_by(number.desc(), column)
            .limit(FACET_LIMIT)
        )
        out[name] = [(value or NO_VALUE, int(n)) for value, n in rows]
    return out


def matching(session: Session, params: SearchParams) -> Select[Any]:
    """The SELECT of every matching interaction (for export and backtests)."""
    where, _problems = conditions(session, params)
    return select(Interaction).where(*where).order_by(Interaction.at, Interaction.id)


def export_csv(session: Session, params: SearchParams, *, raw_text: bool) -> Iterator[str]:
    """Every matching interaction as CSV, streamed in pages of 1,000 rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    where, _problems = conditions(session, params)
    rows = session.execute(
        select(*_COLUMNS)
        .where(*where)
        .order_by(Interaction.at, Interaction.id)
        .execution_options(yield_per=1000)
    )
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            [
                row.interaction_id,
                _aware(row.at).isoformat(),
                row.customer_id,
                row.category,
                row.intent,
                row.channel,
                row.tone,
                row.resolution,
                row.text if raw_text else "",
            ]
        )
        yield buffer.getvalue()


def parquet_available() -> bool:
    """Parquet export needs pyarrow (the `cluster` extra)."""
    return parquet_files.available()


def export_parquet(
    session: Session, params: SearchParams, path: Path, *, raw_text: bool, batch: int = 10_000
) -> int:
    """Every matching interaction written to `path` as Parquet; the row count.

    Written in row groups of `batch` rows (`parquet_files`), so memory stays bounded
    however many match.
    """
    where, _problems = conditions(session, params)
    rows = session.execute(
        select(*_COLUMNS)
        .where(*where)
        .order_by(Interaction.at, Interaction.id)
        .execution_options(yield_per=batch)
    )
    return parquet_files.write(
        path,
        EXPORT_COLUMNS,
        {"at": "timestamp"},
        (
            [
                "" if name == "text" and not raw_text else getattr(row, name)
                for name in EXPORT_COLUMNS
            ]
            for row in rows
        ),
        batch=batch,
    )


# --- a customer's timeline -------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "interaction" or an event type (shown, accepted, complaint, ...)
    title: str
    detail: str
    interaction_id: str = ""


def timeline(
    session: Session, customer_id: str, *, raw_text: bool, limit: int = 500
) -> list[TimelineEntry]:
    """The customer's interactions and the events about them, oldest first."""
    entries = [
        TimelineEntry(
            _aware(r.at),
            "interaction",
            f"{r.intent or r.category} by {r.channel or 'unknown channel'}",
            (r.text if raw_text else "") or "",
            r.interaction_id,
        )
        for r in session.execute(
            select(*_COLUMNS)
            .where(Interaction.customer_id == customer_id)
            .order_by(Interaction.at.desc())
            .limit(limit)
        )
    ]
    for event in session.scalars(
        select(FeedbackEvent)
        .where(FeedbackEvent.customer_id == customer_id)
        .order_by(FeedbackEvent.at.desc())
        .limit(limit)
    ):
        what = f"offer {event.offer_key}" if event.offer_key else event.type
        entries.append(
            TimelineEntry(
                _aware(event.at), event.type, f"{event.type}: {what}", event.rule or "", ""
            )
        )
    return sorted(entries, key=lambda e: e.at)


def without_text(body: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an interaction's body without its raw text (`inquiry.text`), for the
    roles that do not see it."""
    out = dict(body)
    inquiry = out.get("inquiry")
    if isinstance(inquiry, Mapping):
        out["inquiry"] = {k: v for k, v in inquiry.items() if k != "text"}
    return out


def interaction(session: Session, interaction_id: str) -> Interaction | None:
    return session.scalar(select(Interaction).where(Interaction.interaction_id == interaction_id))


# --- saved searches ---------------------------------------------------------------------------


def save(
    session: Session, *, name: str, params: SearchParams, owner_id: int | None
) -> SavedSearch | FieldError:
    name = name.strip()
    if not name or len(name) > 200:
        return FieldError(
            "name",
            "Name the search (up to 200 characters), like “Complaints by phone in November”.",
        )
    if params.empty:
        return FieldError("q", "Search for something first, then save it.")
    saved = session.scalar(
        select(SavedSearch).where(SavedSearch.owner_id == owner_id, SavedSearch.name == name)
    )
    if saved is None:  # a name saved again replaces what it searches for
        saved = SavedSearch(name=name, params=params.to_args(), owner_id=owner_id)
        session.add(saved)
    else:
        saved.params = params.to_args()
    session.flush()
    return saved


def saved_one(session: Session, saved_id: int, owner_id: int | None) -> SavedSearch | None:
    """One of `owner_id`'s saved searches (None for anyone else's)."""
    saved = session.get(SavedSearch, saved_id)
    return saved if saved is not None and saved.owner_id == owner_id else None


def remove_saved(session: Session, saved: SavedSearch) -> None:
    session.delete(saved)
    session.flush()


def saved_for(session: Session, owner_id: int | None) -> list[SavedSearch]:
    return list(
        session.scalars(
            select(SavedSearch)
            .where(SavedSearch.owner_id == owner_id)
            .order_by(SavedSearch.name, SavedSearch.id)
        )
    )


def params_of(saved: SavedSearch) -> SearchParams:
    return replace(
        SearchParams(),
        **{
            k: str(v)
            for k, v in (saved.params or {}).items()
            if k in SearchParams.__dataclass_fields__
        },
    )
