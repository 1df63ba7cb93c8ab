"""Contact history stores for the client: a SQLite file (the default) or Redis (shared).

The workspace contact policy caps offers per customer, per channel and per day and
suppresses offers after outcomes (`dsl.policy`). A client deciding locally counts those
caps from a history store it is given (`bundle.history.HistoryStore`):

- `bundle.history.MemoryHistory`: one process, exact, lost on exit;
- `SQLiteHistory(path)`: every process on one machine (the default: a file in the
  client's cache folder); check-and-record runs in one `BEGIN IMMEDIATE` transaction;
- `RedisHistory(url)`: every process on every machine, the store ad servers use for
  frequency capping. A decision is one round trip: a Lua script, atomic in Redis,
  reads the history, settles the policy's plan on it and reserves what it keeps, so
  two processes never exceed a cap between them (`read_and_record`). Needs the `redis`
  package (`pip install "pos-studio-client[redis]"`).

Every call is bounded in time (`timeout`, default 50 ms for Redis, 200 ms for SQLite);
a store that is down, locked or slow raises `HistoryUnavailable`, and the decider then
denies capped offers (or, if asked, decides without history), saying so in the decision.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from bundle.history import (
    DAY,
    MAX_READ,
    Choose,
    HistoryUnavailable,
    OneVisit,
    accept,
    day_of,
)
from bundle.pending import MAX_PENDING, OPEN, PendingOffer, PendingStatus
from bundle.sqlite_gate import gate_for, held
from dsl.policy import MAX_WINDOW_SECONDS, Cap, Contact, History, Outcome, Plan

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS contacts (
    customer TEXT NOT NULL, decision_id TEXT NOT NULL, offer TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '', at REAL NOT NULL);
DROP INDEX IF EXISTS contacts_by_customer;
CREATE INDEX IF NOT EXISTS contacts_read ON contacts (customer, at, offer, channel);
CREATE TABLE IF NOT EXISTS decisions (
    customer TEXT NOT NULL, decision_id TEXT NOT NULL, PRIMARY KEY (customer, decision_id))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outcomes (
    event_id TEXT PRIMARY KEY, customer TEXT NOT NULL, offer TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS outcomes_by_customer ON outcomes (customer, at);
CREATE TABLE IF NOT EXISTS day_totals (
    offer TEXT NOT NULL, day INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (offer, day)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending_offers (
    id TEXT PRIMARY KEY, customer TEXT NOT NULL, status TEXT NOT NULL,
    created REAL NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS pending_by_customer ON pending_offers (customer, status, created);
"""


class SQLiteHistory(OneVisit):
    """Contact history in one SQLite file, safe across threads and processes."""

    name = "sqlite"

    def __init__(self, path: str | Path, *, timeout: float = 0.2) -> None:
        self.path = str(path)
        self.timeout = timeout
        self._local = threading.local()
        # Writers queue here (threads and processes of this file) instead of sleeping
        # in SQLite's busy retries, where one could fail at `timeout` while the others
        # were merely busy (`bundle.sqlite_gate`).
        self._gate = gate_for(self.path)
        with self._connection() as db:
            db.executescript(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                db = sqlite3.connect(
                    self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
                )
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as exc:
                raise HistoryUnavailable(
                    f"cannot open the history file {self.path}: {exc}"
                ) from exc
            self._local.db = db
        return db

    def read(
        self, customer_id: str, *, since: float, now: float, daily_offers: Sequence[str] = ()
    ) -> History:
        try:
            return _select(
                self._connection(), customer_id, since, day_of(now), daily_offers, outcomes=True
            )
        except sqlite3.Error as exc:
            raise HistoryUnavailable(f"cannot read the history: {exc}") from exc

    def record(
        self,
        customer_id: str,
        decision_id: str,
        contacts: Sequence[Contact],
        caps: Sequence[Cap],
        now: float,
    ) -> list[bool]:
        db = self._connection()
        try:
            with held(self._gate, self.timeout):
                return self._record(db, customer_id, decision_id, contacts, caps, now)
        except sqlite3.Error as exc:
            raise HistoryUnavailable(f"cannot record in the history: {exc}") from exc

    def _record(
        self,
        db: sqlite3.Connection,
        customer_id: str,
        decision_id: str,
        contacts: Sequence[Contact],
        caps: Sequence[Cap],
        now: float,
    ) -> list[bool]:
        """`record`, the gate held."""
        db.execute("BEGIN IMMEDIATE")
        try:
            seen = db.execute(
                "INSERT OR IGNORE INTO decisions VALUES (?, ?)", (customer_id, decision_id)
            ).rowcount
            if not seen:
                db.execute("COMMIT")
                return [False] * len(contacts)
            window = max((c.seconds for c in caps if c.scope == "customer"), default=0)
            day = day_of(now)
            existing = _select(
                db,
                customer_id,
                now - window if window else None,
                day,
                sorted({c.offer for c in contacts}),
                outcomes=False,
            )
            fits = accept(
                contacts,
                caps,
                existing,
                existing.day_totals,
                now,
                existing_cut=existing.contacts_cut,
            )
            made = [c for c, ok in zip(contacts, fits, strict=True) if ok]
            _insert(db, customer_id, decision_id, made, day, now)
            db.execute("COMMIT")
            return fits
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def read_and_record(
        self,
        customer_id: str,
        *,
        since: float,
        now: float,
        daily_offers: Sequence[str] = (),
        decision_id: str,
        choose: Choose,
        new_id: bool = False,
    ) -> tuple[History, list[bool]]:
        """Read, choose and record in one write transaction (`BEGIN IMMEDIATE`): no other
        process can record between the read and the write, so the caps `choose` checked
        need no second check, and a decision is one statement fewer than `read` then
        `record`. The write lock is held while `choose` runs (the policy's own step,
        tens of microseconds); a decision that makes no offer writes nothing."""
        db = self._connection()
        try:
            with held(self._gate, self.timeout):
                db.execute("BEGIN IMMEDIATE")
                try:
                    day = day_of(now)
                    history = _select(db, customer_id, since, day, daily_offers, outcomes=True)
                    contacts = choose(history)
                    recorded = True
                    if contacts and not new_id:  # a new id cannot be a retry: no marker
                        recorded = bool(
                            db.execute(
                                "INSERT OR IGNORE INTO decisions VALUES (?, ?)",
                                (customer_id, decision_id),
                            ).rowcount
                        )
                    if contacts and recorded:
                        _insert(db, customer_id, decision_id, contacts, day, now)
                    db.execute("COMMIT")
                    return history, [recorded] * len(contacts)
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise HistoryUnavailable(f"cannot read or record the history: {exc}") from exc

    def record_outcome(self, customer_id: str, event_id: str, outcome: Outcome) -> bool:
        try:
            with held(self._gate, self.timeout):
                cursor = self._connection().execute(
                    "INSERT OR IGNORE INTO outcomes VALUES (?, ?, ?, ?, ?)",
                    (event_id, customer_id, outcome.offer or "", outcome.kind, outcome.at),
                )
        except sqlite3.Error as exc:
            raise HistoryUnavailable(f"cannot record the outcome: {exc}") from exc
        return cursor.rowcount == 1

    def pending_offers(self, customer_id: str) -> list[PendingOffer]:
        try:
            rows = (
                self._connection()
                .execute(
                    "SELECT data FROM pending_offers WHERE customer = ? AND status IN (?, ?) "
                    "ORDER BY created, id LIMIT ?",
                    (customer_id, *OPEN, MAX_PENDING),
                )
                .fetchall()
            )
        except sqlite3.Error as exc:
            raise HistoryUnavailable(f"cannot read the pending offers: {exc}") from exc
        return [PendingOffer.from_dict(json.loads(data)) for (data,) in rows]

    def put_pending(self, entry: PendingOffer, *, was: PendingStatus | None) -> bool:
        data = json.dumps(entry.to_dict())
        db = self._connection()
        try:
            with held(self._gate, self.timeout):
                if was is not None:
                    return (
                        db.execute(
                            "UPDATE pending_offers SET status = ?, data = ? WHERE id = ? AND status = ?",
                            (entry.status, data, entry.id, was),
                        ).rowcount
                        == 1
                    )
                db.execute("BEGIN IMMEDIATE")
                try:
                    (open_count,) = db.execute(
                        "SELECT count(*) FROM pending_offers WHERE customer = ? AND status IN (?, ?)",
                        (entry.customer_id, *OPEN),
                    ).fetchone()
                    added = (
                        open_count < MAX_PENDING
                        and db.execute(
                            "INSERT OR IGNORE INTO pending_offers VALUES (?, ?, ?, ?, ?)",
                            (entry.id, entry.customer_id, entry.status, entry.created, data),
                        ).rowcount
                        == 1
                    )
                    db.execute("COMMIT")
                    return added
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise HistoryUnavailable(f"cannot record the pending offer: {exc}") from exc


def _insert(
    db: sqlite3.Connection,
    customer_id: str,
    decision_id: str,
    contacts: Sequence[Contact],
    day: int,
    now: float,
) -> None:
    """Record contacts (none dated after `now`) and count them in today's totals."""
    if len(contacts) == 1:  # the usual decision: one offer, no list to build
        (c,) = contacts
        db.execute(
            "INSERT INTO contacts VALUES (?, ?, ?, ?, ?)",
            (customer_id, decision_id, c.offer, c.channel or "", min(c.at, now)),
        )
        db.execute(
            "INSERT INTO day_totals VALUES (?, ?, 1) ON CONFLICT (offer, day) "
            "DO UPDATE SET count = count + 1",
            (c.offer, day),
        )
        return
    db.executemany(
        "INSERT INTO contacts VALUES (?, ?, ?, ?, ?)",
        [(customer_id, decision_id, c.offer, c.channel or "", min(c.at, now)) for c in contacts],
    )
    db.executemany(
        "INSERT INTO day_totals VALUES (?, ?, 1) ON CONFLICT (offer, day) "
        "DO UPDATE SET count = count + 1",
        [(c.offer, day) for c in contacts],
    )


def _select(
    db: sqlite3.Connection,
    customer_id: str,
    since: float | None,
    day: int,
    daily_offers: Sequence[str],
    *,
    outcomes: bool,
) -> History:
    """Contacts after `since` (none when None), outcomes too if asked, and today's totals
    of `daily_offers`, in one statement: each statement costs a round through the
    driver, and a decision makes two of them. One entry more than `MAX_READ` is asked
    for, to know whether the read was cut off.

    The rows are taken apart into columns with one `zip` in C, and each kind is one
    slice of them, found by bisection: no Python step per row (a customer near a cap has
    dozens of contacts in the window). SQL does not promise that a UNION ALL keeps its
    parts' order, so the order is checked (in C) and the rows sorted if it was not kept.
    """
    parts: list[str] = []
    params: list[Any] = []
    if since is not None:
        parts.append(
            "SELECT * FROM (SELECT 0, offer, NULLIF(channel, ''), at FROM contacts "
            "WHERE customer = ? AND at > ? ORDER BY at DESC LIMIT ?)"
        )
        params += [customer_id, since, MAX_READ + 1]
    if outcomes and since is not None:
        parts.append(
            "SELECT * FROM (SELECT 1, NULLIF(offer, ''), kind, at FROM outcomes "
            "WHERE customer = ? AND at > ? ORDER BY at DESC LIMIT ?)"
        )
        params += [customer_id, since, MAX_READ + 1]
    if daily_offers:
        marks = ", ".join("?" * len(daily_offers))
        parts.append(
            f"SELECT 2, offer, '', count FROM day_totals WHERE day = ? AND offer IN ({marks})"
        )
        params += [day, *daily_offers]
    totals = dict.fromkeys(daily_offers, 0)
    rows = db.execute(" UNION ALL ".join(parts), params).fetchall() if parts else []
    if not rows:
        return History.from_columns(array("d"), (), (), (), totals)
    firsts, seconds, values, ends, outcome_end = _split(rows)
    if ends < 0:  # the parts' order was not kept
        rows.sort(key=lambda row: (row[0], -row[3]))
        firsts, seconds, values, ends, outcome_end = _split(rows)
    for offer, count in zip(firsts[outcome_end:], values[outcome_end:], strict=True):
        totals[offer] = int(count)
    # Most recent first: the first MAX_READ of each kind, reversed (oldest first).
    contacts = slice(min(ends, MAX_READ) - 1, None, -1) if ends else slice(0, 0)
    outcomes_read = slice(ends, ends + min(outcome_end - ends, MAX_READ))
    return History.from_columns(
        array("d", values[contacts]),
        firsts[contacts],
        seconds[contacts],
        tuple(
            map(
                Outcome,
                firsts[outcomes_read][::-1],
                seconds[outcomes_read][::-1],
                values[outcomes_read][::-1],
            )
        ),
        totals,
        contacts_cut=ends > MAX_READ,
        outcomes_cut=outcome_end - ends > MAX_READ,
    )


def _split(rows: list[Any]) -> tuple[Sequence[Any], Sequence[Any], Sequence[Any], int, int]:
    """`_select`'s rows as columns (after the kind), with where the outcomes and the
    totals start; both -1 when the rows are not in the parts' order (by kind, and each
    kind's entries most recent first)."""
    kinds, firsts, seconds, values = zip(*rows, strict=True)
    ends = bisect_left(kinds, 1)
    outcome_end = bisect_left(kinds, 2, ends)
    contacts, outcomes = list(values[:ends]), list(values[ends:outcome_end])
    if (
        list(kinds) != sorted(kinds)
        or contacts != sorted(contacts, reverse=True)
        or outcomes != sorted(outcomes, reverse=True)
    ):
        return firsts, seconds, values, -1, -1
    return firsts, seconds, values, ends, outcome_end


#: Whether a cap covers an offer made on a channel (`Cap.covers`), for the scripts below.
_COVERS_LUA: Final = """
local function covers(cap, offer, channel)
  return (cap.offer == cjson.null or cap.offer == offer)
     and (cap.channel == cjson.null or cap.channel == channel)
end
"""

#: KEYS: contacts zset, decision marker, then one day-total key per contact.
#: ARGV: now, window, caps (JSON), contacts (JSON), decision id, max read, marker ttl.
_RECORD_LUA: Final = (
    _COVERS_LUA
    + """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local caps = cjson.decode(ARGV[3])
local contacts = cjson.decode(ARGV[4])
local decision = ARGV[5]
local max_read = tonumber(ARGV[6])
local flags = {}
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', tonumber(ARGV[7])) == false then
  for i = 1, #contacts do flags[i] = 0 end
  return flags
end
local existing = {}
local cut = false
if window > 0 then
  local rows = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', '(' .. (now - window),
                          'WITHSCORES', 'LIMIT', 0, max_read + 1)
  cut = #rows > 2 * max_read
  for i = 1, math.min(#rows, 2 * max_read), 2 do
    local offer, channel = string.match(rows[i], '^[^|]*|[^|]*|([^|]*)|([^|]*)$')
    existing[#existing + 1] = {offer, channel, tonumber(rows[i + 1])}
  end
end
local taken = {}
for i, c in ipairs(contacts) do
  local offer, channel = c[1], c[2]
  local fits = true
  for _, cap in ipairs(caps) do
    if covers(cap, offer, channel) then
      local used = 0
      if cap.scope == 'day' then
        used = tonumber(redis.call('GET', KEYS[2 + i]) or '0')
        for _, t in ipairs(taken) do if t[1] == offer then used = used + 1 end end
      else
        local since = now - cap.seconds
        for _, e in ipairs(existing) do
          if covers(cap, e[1], e[2]) and e[3] > since then used = used + 1 end
        end
        for _, t in ipairs(taken) do
          if covers(cap, t[1], t[2]) then used = used + 1 end
        end
      end
      if used >= cap.count or (cut and cap.scope == 'customer') then fits = false break end
    end
  end
  if fits then
    taken[#taken + 1] = {offer, channel}
    redis.call('ZADD', KEYS[1], now, decision .. '|' .. i .. '|' .. offer .. '|' .. channel)
    redis.call('INCR', KEYS[2 + i])
    redis.call('EXPIRE', KEYS[2 + i], 172800)
    flags[i] = 1
  else
    flags[i] = 0
  end
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[7]))
return flags
"""
)

#: `RedisHistory.read_and_record`'s one round trip: read what `read` reads, then settle
#: the decision's plan (`dsl.policy.Plan`) on it as `Policy.apply` does and reserve what
#: it keeps, all in one atomic script. The caller decides again on the history answered
#: (that decision is the authority) and undoes the reservation only if it differs.
#: KEYS: contacts zset, outcomes zset, decision marker, the daily offers' day-total keys
#: (ARGV[8] of them), then one day-total key per planned offer (the fallback's last).
#: ARGV: now, since, max read, marker ttl, decision id, policy JSON ({caps,
#: suppressions}), plan JSON ({offers, at_most, fallback, channel, daily}), daily key
#: count, 1 to keep the decision's marker (0: a new id, which cannot be a retry).
#: Answers {contacts, outcomes, daily totals, offers reserved, 1 if the decision id was
#: recorded before}.
_READ_AND_RESERVE_LUA: Final = (
    _COVERS_LUA
    + """
local now = tonumber(ARGV[1])
local max_read = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local decision = ARGV[5]
local n_daily = tonumber(ARGV[8])
local contacts = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', '(' .. ARGV[2],
                            'WITHSCORES', 'LIMIT', 0, max_read + 1)
local outcomes = redis.call('ZREVRANGEBYSCORE', KEYS[2], '+inf', '(' .. ARGV[2],
                            'WITHSCORES', 'LIMIT', 0, max_read + 1)
local totals = {}
for i = 1, n_daily do totals[i] = redis.call('GET', KEYS[3 + i]) or '' end
local marked = ARGV[9] == '1'
if marked and redis.call('EXISTS', KEYS[3]) == 1 then return {contacts, outcomes, totals, {}, 1} end
local plan = cjson.decode(ARGV[7])
if #plan.offers == 0 and plan.fallback == cjson.null then
  return {contacts, outcomes, totals, {}, 0}
end
local policy = cjson.decode(ARGV[6])
local channel = plan.channel
if channel == cjson.null then channel = '' end
local daily = {}
for i, offer in ipairs(plan.daily) do daily[offer] = tonumber(totals[i]) or 0 end
local contacts_cut = #contacts > 2 * max_read
local outcomes_cut = #outcomes > 2 * max_read
-- Parsed only when a cap or suppression needs them (a cut-off read never does).
local existing, past
local function parse_contacts()
  existing = {}
  for i = 1, math.min(#contacts, 2 * max_read), 2 do
    local offer, ch = string.match(contacts[i], '^[^|]*|[^|]*|([^|]*)|([^|]*)$')
    existing[#existing + 1] = {offer, ch, tonumber(contacts[i + 1])}
  end
end
local function parse_outcomes()
  past = {}
  for i = 1, math.min(#outcomes, 2 * max_read), 2 do
    local kind, offer = string.match(outcomes[i], '^[^|]*|([^|]*)|(.*)$')
    past[#past + 1] = {kind, offer, tonumber(outcomes[i + 1])}
  end
end
local kept = {}
local function refused(offer)
  for _, rule in ipairs(policy.suppressions) do
    if rule.offer == cjson.null or rule.offer == offer then
      if outcomes_cut then return true end
      if past == nil then parse_outcomes() end
      local since = now - rule.seconds
      for _, o in ipairs(past) do
        if o[1] == rule.outcome and (rule.offer == cjson.null or o[2] == offer)
           and math.min(o[3], now) > since then return true end
      end
    end
  end
  for _, cap in ipairs(policy.caps) do
    if covers(cap, offer, channel) then
      if contacts_cut and cap.scope == 'customer' then return true end
      local used = 0
      for _, k in ipairs(kept) do if covers(cap, k, channel) then used = used + 1 end end
      if cap.scope == 'day' then
        used = used + (daily[offer] or 0)
      else
        if existing == nil then parse_contacts() end
        local since = now - cap.seconds
        for _, e in ipairs(existing) do
          if covers(cap, e[1], e[2]) and e[3] > since then used = used + 1 end
        end
      end
      if used >= cap.count then return true end
    end
  end
  return false
end
local keys_of = {}
for i, offer in ipairs(plan.offers) do
  if not refused(offer) and (plan.at_most == cjson.null or #kept < plan.at_most) then
    kept[#kept + 1] = offer
    keys_of[#kept] = KEYS[3 + n_daily + i]
  end
end
if #kept == 0 and plan.fallback ~= cjson.null and not refused(plan.fallback) then
  kept[1] = plan.fallback
  keys_of[1] = KEYS[3 + n_daily + #plan.offers + 1]
end
if #kept > 0 then
  if marked then redis.call('SET', KEYS[3], '1', 'EX', ttl) end
  for i, offer in ipairs(kept) do
    redis.call('ZADD', KEYS[1], now, decision .. '|' .. i .. '|' .. offer .. '|' .. channel)
    redis.call('INCR', keys_of[i])
    redis.call('EXPIRE', keys_of[i], 172800)
  end
  redis.call('EXPIRE', KEYS[1], ttl)
end
return {contacts, outcomes, totals, kept, 0}
"""
)

#: Undo `_READ_AND_RESERVE_LUA`'s reservation. KEYS: contacts zset, decision marker, the
#: reserved offers' day-total keys. ARGV: the reserved members.
_RELEASE_LUA: Final = """
redis.call('DEL', KEYS[2])
for i, member in ipairs(ARGV) do
  if redis.call('ZREM', KEYS[1], member) == 1 then redis.call('DECR', KEYS[2 + i]) end
end
return 1
"""

#: KEYS: outcome marker, outcomes zset. ARGV: member, score, ttl.
_OUTCOME_LUA: Final = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[3])) == false then return 0 end
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
return 1
"""


#: KEYS: the customer's pending hash. ARGV: id, record (JSON), expected status ("" for a
#: new one), open statuses (JSON), most open, ttl. Compare-and-set on the stored status.
_PENDING_LUA: Final = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
local open = cjson.decode(ARGV[4])
if ARGV[3] == '' then
  if current then return 0 end
  local count = 0
  for _, data in ipairs(redis.call('HVALS', KEYS[1])) do
    local status = cjson.decode(data).status
    for _, s in ipairs(open) do if s == status then count = count + 1 end end
  end
  if count >= tonumber(ARGV[5]) then return 0 end
else
  if not current or cjson.decode(current).status ~= ARGV[3] then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
return 1
"""


def _redis_history(
    contacts: Any, outcomes: Any, daily_offers: Sequence[str], totals: Sequence[Any]
) -> History:
    """A `History` from Redis rows (member, score), most recent first, as the read and
    the one-visit script both answer them."""
    found = []
    for member, score in contacts:
        _decision, _n, offer, channel = member.decode().split("|", 3)
        found.append(Contact(offer, channel or None, float(score)))
    past = []
    for member, score in outcomes:
        _event, kind, offer = member.decode().split("|", 2)
        past.append(Outcome(offer or None, kind, float(score)))
    return History(
        # Most recent first: reversed, that is oldest first (`History` sorts them in one
        # pass).
        found[MAX_READ - 1 :: -1],
        past[MAX_READ - 1 :: -1],
        {key: int(value or 0) for key, value in zip(daily_offers, totals, strict=True)},
        contacts_cut=len(found) > MAX_READ,
        outcomes_cut=len(past) > MAX_READ,
    )


class RedisHistory(OneVisit):
    """Contact history in Redis, shared by every process that points at it.

    Keys start with `prefix`: ``{prefix}:c:{customer}`` (contacts, a sorted set scored
    by time), ``{prefix}:o:{customer}`` (outcomes), ``{prefix}:d:{offer}:{day}`` (per-day
    totals), ``{prefix}:p:{customer}`` (gated offers, a hash by id) and markers that make
    decisions and outcome events idempotent. Entries expire
    after the longest window a policy may use.
    """

    name = "redis"

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "pos",
        timeout: float = 0.05,
        client: Any = None,
    ) -> None:
        try:
            import redis
        except ImportError as exc:  # the optional extra is not installed
            raise HistoryUnavailable(
                'RedisHistory needs the redis package: pip install "pos-studio-client[redis]"'
            ) from exc
        self._errors = (redis.RedisError, OSError)
        self.prefix = prefix
        self.redis = client or redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._record = self.redis.register_script(_RECORD_LUA)
        self._outcome = self.redis.register_script(_OUTCOME_LUA)
        self._pending = self.redis.register_script(_PENDING_LUA)
        self._read_and_reserve = self.redis.register_script(_READ_AND_RESERVE_LUA)
        self._release = self.redis.register_script(_RELEASE_LUA)
        self._policies: dict[int, tuple[Any, Any, str]] = {}
        self.ttl = MAX_WINDOW_SECONDS + DAY

    def _key(self, *parts: Any) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    def read(
        self, customer_id: str, *, since: float, now: float, daily_offers: Sequence[str] = ()
    ) -> History:
        day = day_of(now)
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.zrevrangebyscore(
                self._key("c", customer_id),
                "+inf",
                f"({since}",
                start=0,
                num=MAX_READ + 1,
                withscores=True,
            )
            pipe.zrevrangebyscore(
                self._key("o", customer_id),
                "+inf",
                f"({since}",
                start=0,
                num=MAX_READ + 1,
                withscores=True,
            )
            for key in daily_offers:
                pipe.get(self._key("d", key, day))
            answers = pipe.execute()
        except self._errors as exc:
            raise HistoryUnavailable(f"cannot read the history from Redis: {exc}") from exc
        return _redis_history(answers[0], answers[1], daily_offers, answers[2:])

    #: `wants_plan`: give it the decision's `dsl.policy.Plan`, so the script settles
    #: and reserves in the same round trip.
    wants_plan = True

    def read_and_record(
        self,
        customer_id: str,
        *,
        since: float,
        now: float,
        daily_offers: Sequence[str] = (),
        decision_id: str,
        choose: Choose,
        plan: Plan,
        new_id: bool = False,
    ) -> tuple[History, list[bool]]:
        """One round trip in the usual case: a script reads the history, settles `plan`
        on it as the policy would and reserves what it keeps, atomically (no other
        decider can come between). `choose` then decides on the history read; when it
        keeps exactly what was reserved, that is the record. When it differs (the
        caller sent history of its own), the reservation is undone and `choose`'s
        contacts are recorded with the plan's caps checked again (`record`): never more
        than a cap allows, either way. `plan` is required: it carries the caps. A
        `new_id` decision keeps no marker key (it cannot be retried under that id)."""
        day = day_of(now)
        decision = decision_id.replace("|", "/")
        planned = (*plan.offers, plan.fallback) if plan.fallback else plan.offers
        keys = [
            self._key("c", customer_id),
            self._key("o", customer_id),
            self._key("m", customer_id, decision_id),
            *(self._key("d", key, day) for key in daily_offers),
            *(self._key("d", key, day) for key in planned),
        ]
        try:
            rows, past, totals, reserved, seen = self._read_and_reserve(
                keys=keys,
                args=[
                    repr(float(now)),
                    repr(float(since)),
                    MAX_READ,
                    self.ttl,
                    decision,
                    self._policy_json(plan),
                    json.dumps(
                        {
                            "offers": plan.offers,
                            "at_most": plan.at_most,
                            "fallback": plan.fallback,
                            "channel": plan.channel,
                            "daily": list(daily_offers),
                        }
                    ),
                    len(daily_offers),
                    0 if new_id else 1,
                ],
            )
        except self._errors as exc:
            raise HistoryUnavailable(f"cannot read the history from Redis: {exc}") from exc
        history = _redis_history(
            zip(rows[::2], map(float, rows[1::2]), strict=True),
            zip(past[::2], map(float, past[1::2]), strict=True),
            daily_offers,
            totals,
        )
        contacts = choose(history)
        if seen:  # recorded before: a retried decision records nothing twice
            return history, [False] * len(contacts)
        reserved = [r.decode() for r in reserved]
        channel = plan.channel or ""
        if [c.offer for c in contacts] == reserved and all(
            c.at == now and (c.channel or "") == channel for c in contacts
        ):
            return history, [True] * len(contacts)
        if reserved:
            self._undo(customer_id, decision_id, reserved, channel, day)
        if not contacts:
            return history, []
        return history, self.record(customer_id, decision_id, contacts, plan.caps, now)

    def _policy_json(self, plan: Plan) -> str:
        """The plan's caps and suppressions as the script reads them, made once per
        policy (they are the policy's own tuples, the same object every decision)."""
        found = self._policies.get(id(plan.caps))
        if found is None or found[0] is not plan.caps or found[1] is not plan.suppressions:
            if len(self._policies) > 64:
                self._policies.clear()
            text = json.dumps(
                {
                    "caps": [c.to_dict() for c in plan.caps],
                    "suppressions": [
                        {"offer": r["offer"], "outcome": r["outcome"], "seconds": r["seconds"]}
                        for r in plan.suppressions
                    ],
                }
            )
            found = self._policies[id(plan.caps)] = (plan.caps, plan.suppressions, text)
        return found[2]

    def _undo(
        self, customer_id: str, decision_id: str, reserved: Sequence[str], channel: str, day: int
    ) -> None:
        decision = decision_id.replace("|", "/")
        members = [f"{decision}|{n}|{offer}|{channel}" for n, offer in enumerate(reserved, 1)]
        try:
            self._release(
                keys=[
                    self._key("c", customer_id),
                    self._key("m", customer_id, decision_id),
                    *(self._key("d", offer, day) for offer in reserved),
                ],
                args=members,
            )
        except self._errors as exc:
            # The reservation stays: it can only make a cap stricter, never looser.
            raise HistoryUnavailable(f"cannot record in Redis: {exc}") from exc

    def record(
        self,
        customer_id: str,
        decision_id: str,
        contacts: Sequence[Contact],
        caps: Sequence[Cap],
        now: float,
    ) -> list[bool]:
        if not contacts:
            return []
        day = day_of(now)
        keys = [self._key("c", customer_id), self._key("m", customer_id, decision_id)]
        keys += [self._key("d", c.offer, day) for c in contacts]
        window = max((c.seconds for c in caps if c.scope == "customer"), default=0)
        cap_data = [c.to_dict() for c in caps]
        contact_data = [[c.offer, c.channel or ""] for c in contacts]
        try:
            flags = self._record(
                keys=keys,
                args=[
                    repr(float(now)),
                    window,
                    json.dumps(cap_data),
                    json.dumps(contact_data),
                    decision_id.replace("|", "/"),
                    MAX_READ,
                    self.ttl,
                ],
            )
        except self._errors as exc:
            raise HistoryUnavailable(f"cannot record in Redis: {exc}") from exc
        return [bool(int(f)) for f in flags]

    def record_outcome(self, customer_id: str, event_id: str, outcome: Outcome) -> bool:
        member = f"{event_id.replace('|', '/')}|{outcome.kind}|{outcome.offer or ''}"
        try:
            done = self._outcome(
                keys=[self._key("e", event_id), self._key("o", customer_id)],
                args=[member, repr(float(outcome.at)), self.ttl],
            )
        except self._errors as exc:
            raise HistoryUnavailable(f"cannot record the outcome in Redis: {exc}") from exc
        return bool(int(done))

    def pending_offers(self, customer_id: str) -> list[PendingOffer]:
        try:
            values = self.redis.hvals(self._key("p", customer_id))
        except self._errors as exc:
            raise HistoryUnavailable(f"cannot read the pending offers from Redis: {exc}") from exc
        found = [PendingOffer.from_dict(json.loads(v)) for v in values]
        found = [p for p in found if p.status in OPEN]
        return sorted(found, key=lambda p: (p.created, p.id))[:MAX_PENDING]

    def put_pending(self, entry: PendingOffer, *, was: PendingStatus | None) -> bool:
        try:
            done = self._pending(
                keys=[self._key("p", entry.customer_id)],
                args=[
                    entry.id,
                    json.dumps(entry.to_dict()),
                    was or "",
                    json.dumps(list(OPEN)),
                    MAX_PENDING,
                    self.ttl,
                ],
            )
        except self._errors as exc:
            raise HistoryUnavailable(f"cannot record the pending offer in Redis: {exc}") from exc
        return bool(int(done))
