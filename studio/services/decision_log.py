"""The decision log: every decision kept with what it was made from and why.

Decisions made by `/api/v1/decide` are stored in the request's transaction; decisions a
client made locally are reported in batches to `POST /api/v1/decisions`, stored once
per decision id (a retried batch is reported as duplicates) and checked one by one, so
one bad record never costs the good ones. Customers are kept as a sha256 hash; the raw
id only while the workspace setting `decision_log_raw_customer_ids` is on.

Every decision needs that setting, so each process keeps it for `SETTING_TTL` seconds
instead of reading it per decision: a change made in this process is seen by its next
decision (the cache is cleared when the change is made and again when its transaction
ends, committed or not); other workers see it within `SETTING_TTL` seconds.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, cast

from sqlalchemy import Table, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bundle.decision_record import decision_record, new_decision_id
from studio import audit
from studio.errors import NotAllowed, Refusal
from studio.models import Decision, FeedbackEvent, Setting, User, utcnow
from studio.roles import ADMIN
from studio.services import bulk_sql, rollups
from studio.services.batch_report import BatchReport, refusal_dict
from studio.services.json_shape import check_lengths, check_object, expect_types, is_int
from studio.services.messages import hash_customer

RAW_IDS: Final = "decision_log_raw_customer_ids"
MAX_DECISIONS: Final = 500
ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
RECORD_FIELDS: Final = (
    "decision_id",
    "decided_at",
    "bundle_version",
    "bundle_digest",
    "channel",
    "category",
    "tone",
    "customer_id",
    "rules",
    "offers",
    "guards",
    "holdouts",
    "withheld",
    "trace",
    "gating",
)
LIST_FIELDS: Final = ("rules", "offers", "guards", "holdouts", "withheld")
MAX_LIST: Final = 200
#: The longest text each reported decision's field may hold, in characters.
_TEXT_LIMITS: Final = {
    "bundle_digest": 100,
    "channel": 32,
    "category": 32,
    "tone": 32,
    "customer_id": 100,
}


SETTING_TTL: Final = 2.0
_CHANGED: Final = "decision_log_setting_changed"
_DECISIONS: Final = cast(Table, Decision.__table__)
_DECISION_COLUMNS: Final = tuple(column.key for column in _DECISIONS.columns)
_cached: dict[str, tuple[float, bool]] = {}
_cache_lock = threading.Lock()


def _stored_raw_ids(session: Session) -> bool:
    row = session.get(Setting, RAW_IDS)
    return bool(row is not None and row.value is True)


def raw_ids_allowed(session: Session) -> bool:
    """The setting, read at most once per `SETTING_TTL` seconds per database and process
    (a session that changed it reads its own value)."""
    if session.info.get(_CHANGED):
        return _stored_raw_ids(session)
    where = str(session.get_bind().engine.url)
    now = time.monotonic()
    held = _cached.get(where)
    if held is not None and now - held[0] < SETTING_TTL:
        return held[1]
    value = _stored_raw_ids(session)
    with _cache_lock:
        _cached[where] = (now, value)
    return value


def _forget_setting(session: Session) -> None:
    with _cache_lock:
        _cached.clear()
    if _CHANGED not in session.info:
        event.listen(session, "after_transaction_end", _changed_transaction_ended)
    session.info[_CHANGED] = True


def _changed_transaction_ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None and session.info.get(_CHANGED):
        with _cache_lock:
            _cached.clear()
        session.info[_CHANGED] = False


def set_raw_ids_allowed(session: Session, allowed: bool, *, actor: User) -> None:
    """Admins decide whether the log keeps raw customer ids (audited)."""
    if ADMIN not in actor.roles:
        raise NotAllowed("Only admins change what the decision log keeps.")
    _forget_setting(session)
    before = _stored_raw_ids(session)
    row = session.get(Setting, RAW_IDS)
    if row is None:
        session.add(Setting(key=RAW_IDS, value=bool(allowed), updated_by=actor.id))
    else:
        row.value = bool(allowed)
        row.updated_by = actor.id
        row.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        "settings.change",
        actor_id=actor.id,
        object_type="setting",
        object_id=RAW_IDS,
        before=before,
        after=bool(allowed),
    )


def record_decision(
    session: Session,
    decision: Mapping[str, Any],
    interaction: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> str:
    """Store a decision `/decide` just made (flushed, not committed); return its id: the
    decision's own `decision_id` (the one its contacts were recorded under), else a new one."""
    given = decision.get("decision_id")
    decision_id = given if isinstance(given, str) and given else new_decision_id()
    record = decision_record(decision, interaction, decision_id=decision_id, decided_at=now)
    row = _row(session, record, "studio", now or datetime.now(UTC), raw=raw_ids_allowed(session))
    # One plain INSERT on the driver's cursor (`bulk_sql`), not an ORM flush: this runs
    # for every `/api/v1/decide`. The row object stays out of the session; it only
    # carries the values to the rollups.
    stored = bulk_sql.execute_rows(
        session,
        _DECISIONS,
        [{name: getattr(row, name) for name in _DECISION_COLUMNS}],
        conflict=("id",),
        returning="id",
    )
    if not stored:  # ids are drawn at random: never counted twice in the rollups
        raise ValueError(f"decision {row.id} is already in the decision log")
    rollups.decisions_stored(session, [row], early_events=False)
    return str(record["decision_id"])


def _row(
    session: Session, record: Mapping[str, Any], source: str, now: datetime, *, raw: bool
) -> Decision:
    customer = record.get("customer_id")
    decided = _moment(record.get("decided_at")) or now
    return Decision(
        id=record["decision_id"],
        source=source,
        bundle_version=record.get("bundle_version"),
        bundle_digest=record.get("bundle_digest") or "",
        channel=record.get("channel") or "",
        category=record.get("category") or "",
        tone=record.get("tone") or "",
        customer_hash=hash_customer(customer) if customer else "",
        customer_id=customer if raw and customer else None,
        rules=list(record.get("rules") or []),
        offers=list(record.get("offers") or []),
        guards=list(record.get("guards") or []),
        holdouts=list(record.get("holdouts") or []),
        withheld=list(record.get("withheld") or []),
        trace=record.get("trace"),
        gating=record.get("gating"),
        decided_at=decided,
        received_at=now,
    )


@dataclass(frozen=True)
class ItemResult:
    index: int
    decision_id: str | None
    status: str
    error: Refusal | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "decision_id": self.decision_id,
            "status": self.status,
        }
        if self.error is not None:
            out["error"] = refusal_dict(self.error)
        return out


class DecisionReport(BatchReport[ItemResult]):
    """The answer to one batch (`studio.services.batch_report`)."""


def ingest(session: Session, body: Any, *, now: datetime | None = None) -> DecisionReport | Refusal:
    """Store each well-formed, new decision a client reports; report on every one."""
    problem = check_object(body, "", allowed=("decisions",), required=("decisions",))
    if problem is not None:
        return problem
    items = body["decisions"]
    if not isinstance(items, list):
        return Refusal("invalid_type", "'decisions' must be a list.", field="decisions")
    if len(items) > MAX_DECISIONS:
        return Refusal(
            "too_many_decisions",
            f"Send at most {MAX_DECISIONS} decisions per request (got {len(items)}).",
            field="decisions",
            kind="too_large",
        )
    now = now or datetime.now(UTC)
    raw = raw_ids_allowed(session)
    results: list[ItemResult] = []
    fresh: dict[str, Decision] = {}
    checked: list[tuple[int, Mapping[str, Any]]] = []
    for index, item in enumerate(items):
        problem = _check(item, f"decisions[{index}]")
        if problem is not None:
            given = item.get("decision_id") if isinstance(item, Mapping) else None
            results.append(
                ItemResult(index, given if isinstance(given, str) else None, "rejected", problem)
            )
        else:
            checked.append((index, item))
    ids = [item["decision_id"] for _, item in checked]
    stored: set[str] = set()
    for start in range(0, len(ids), 200):
        stored.update(
            session.scalars(select(Decision.id).where(Decision.id.in_(ids[start : start + 200])))
        )
    for index, item in checked:
        key = item["decision_id"]
        if key in stored or key in fresh:
            results.append(ItemResult(index, key, "duplicate"))
            continue
        fresh[key] = _row(session, item, "client", now, raw=raw)
        results.append(ItemResult(index, key, "stored"))
    stored_rows = _add(session, fresh)
    results = [
        ItemResult(r.index, r.decision_id, "duplicate")
        if r.status == "stored" and r.decision_id not in stored_rows
        else r
        for r in results
    ]
    rollups.decisions_stored(session, list(stored_rows.values()))
    return DecisionReport(sorted(results, key=lambda r: r.index))


def _add(session: Session, fresh: dict[str, Decision]) -> dict[str, Decision]:
    """Add the new decisions; one a concurrent report stored first is left out."""
    try:
        with session.begin_nested():
            session.add_all(fresh.values())
        return fresh
    except IntegrityError:
        pass
    kept: dict[str, Decision] = {}
    for key, row in fresh.items():
        copy = Decision(**{c.key: getattr(row, c.key) for c in Decision.__table__.columns})
        try:
            with session.begin_nested():
                session.add(copy)
            kept[key] = copy
        except IntegrityError:
            continue
    return kept


def _check(item: Any, where: str) -> Refusal | None:
    problem = check_object(
        item, where, allowed=RECORD_FIELDS, required=("decision_id", "bundle_version")
    ) or expect_types(
        item,
        where,
        {
            "decision_id": (str,),
            "decided_at": (str,),
            "bundle_version": (int,),
            "bundle_digest": (str,),
            "channel": (str,),
            "category": (str,),
            "tone": (str,),
            "customer_id": (str,),
            "trace": (dict,),
            "gating": (dict,),
            **{name: (list,) for name in LIST_FIELDS},
        },
    )
    if problem is not None:
        return problem
    if not isinstance(item["decision_id"], str) or not ID_PATTERN.match(item["decision_id"]):
        return Refusal(
            "invalid_decision_id",
            "'decision_id' is 8 to 64 letters, digits or ._:- (the client makes one per decision).",
            field=f"{where}.decision_id",
        )
    version = item["bundle_version"]
    if not is_int(version) or not 1 <= version <= 2**31 - 1:
        return Refusal(
            "invalid_version",
            "'bundle_version' must be a bundle version.",
            field=f"{where}.bundle_version",
        )
    if item.get("decided_at") is not None and _moment(item["decided_at"]) is None:
        return Refusal(
            "invalid_time",
            "'decided_at' must be an ISO 8601 date-time such as 2026-03-01T09:30:00Z.",
            field=f"{where}.decided_at",
        )
    too_long = check_lengths(item, where, _TEXT_LIMITS)
    if too_long is not None:
        return too_long
    for name in LIST_FIELDS:
        entries = item.get(name) or []
        if len(entries) > MAX_LIST:
            return Refusal(
                "too_long", f"'{name}' lists at most {MAX_LIST} entries.", field=f"{where}.{name}"
            )
        for position, entry in enumerate(entries):
            if not isinstance(entry, Mapping) or not all(
                isinstance(v, str | int) and not isinstance(v, bool) and len(str(v)) <= 500
                for v in entry.values()
            ):
                return Refusal(
                    "invalid_type",
                    f"Each of '{name}' is an object of short "
                    "text or numbers, as the client's record makes it.",
                    field=f"{where}.{name}[{position}]",
                )
    return None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def known_ids(session: Session, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 200):
        found.update(
            session.scalars(select(Decision.id).where(Decision.id.in_(ids[start : start + 200])))
        )
    return found


@dataclass(frozen=True)
class Explanation:
    """What a complaint handler reads about one decision."""

    decision: Decision
    sentences: list[str]
    events: list[FeedbackEvent]


def explain(session: Session, decision_id: str) -> Explanation | None:
    decision = session.get(Decision, decision_id)
    if decision is None:
        return None
    events = list(
        session.scalars(
            select(FeedbackEvent)
            .where(FeedbackEvent.decision_id == decision_id)
            .order_by(FeedbackEvent.at, FeedbackEvent.id)
        )
    )
    return Explanation(decision, _sentences(decision), events)


def _sentences(decision: Decision) -> list[str]:
    out: list[str] = []
    for made in decision.offers:
        if made.get("gated_thread"):
            out.append(
                f"Offered {made.get('offer')}, gated on resolution of thread "
                f"{made.get('gated_thread')} by rule \u201c{made.get('rule')}\u201d of ruleset "
                f"{made.get('ruleset')}: released because {made.get('gated_reason')}."
            )
            continue
        out.append(
            f"Offered {made.get('offer')} because rule \u201c{made.get('rule')}\u201d "
            f"of ruleset {made.get('ruleset')} matched."
        )
    out.extend(gating_sentences(decision.gating))
    for held in decision.holdouts:
        out.append(
            f"Not offered {held.get('offer')}: rule \u201c{held.get('rule')}\u201d "
            "matched, but this customer falls in its holdout (the share of "
            "customers kept out to measure the offer)."
        )
    for guard in decision.guards:
        out.append(
            f"No offer from ruleset {guard.get('ruleset')}: the guard on line "
            f"{guard.get('line')} fired ({guard.get('text')})."
        )
    for entry in decision.withheld or ():
        out.append(
            f"Not offered {entry.get('offer')}: the contact policy withheld it "
            f"(line {entry.get('line')}: {entry.get('text') or entry.get('reason')})."
        )
    if not out:
        out.append("No rule made an offer for this interaction.")
    return out


def gating_sentences(gating: Any) -> list[str]:
    """Plain sentences for what a decision did with gated offers (scheduled, settled)."""
    if not isinstance(gating, Mapping):
        return []
    out = []
    for note in gating.get("scheduled") or ():
        thread = note.get("thread") or "(none)"
        sentence = (
            f"Scheduled {note.get('offer')}, gated on resolution of thread {thread}: "
            f"rule \u201c{note.get('rule')}\u201d of ruleset {note.get('ruleset')} makes it "
            f"{note.get('releases')}, until {note.get('until')}."
        )
        if not note.get("recorded"):
            sentence += f" Not recorded: {note.get('why') or 'unknown reason'}."
        out.append(sentence)
    for note in gating.get("settled") or ():
        if note.get("outcome") == "released" and note.get("offered"):
            continue
        sentence = (
            f"The offer {note.get('offer')} gated on resolution of thread {note.get('thread')} "
            f"was {note.get('outcome')}: {note.get('reason')}."
        )
        if note.get("stopped"):
            sentence += f" It was not made: {note.get('stopped')}."
        out.append(sentence)
    return out
