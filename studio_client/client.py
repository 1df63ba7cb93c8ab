"""The downstream client: fetch, verify, cache and decide locally; send events.

A system that talks to customers (email responder, chat, agent desktop) should never
wait on the studio to decide, and should never act on a bundle nobody signed. So the
client keeps the last good bundle in memory and on disk, revalidates it with the ETag
now and then (a 304 costs the studio almost nothing), refuses any bundle whose bytes or
signature do not check out against the keys it was configured with, and keeps deciding
on the last good bundle while the studio is unreachable or serving something suspect.

`decide()` never waits on the network once a bundle is held: a revalidation that falls
due runs in a background thread while the decision is made on the bundle in hand. Only
the very first decision of a client with no bundle at all (nothing cached) fetches
inline, bounded by `timeout`. The client never goes back to an older bundle: the
highest version it ever accepted is kept in its cache folder, and a lower one (a
replayed old bundle, a worker whose pointer lags a publish) is refused. It follows a key
rotation when the studio's key list is signed by a key it already trusts.

Events, the log records of local decisions and the offers they made (for the studio's
contact history) go through a SQLite outbox in the cache folder (`studio_client.outbox`):
on disk before `send_events` or `decide` returns, delivered in batches in the background
until the studio answers for each one.

Standard library HTTP only (urllib), so it drops into any Python service.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from bundle.decision_record import decision_record, new_decision_id
from bundle.disposal import OnUnavailable
from bundle.format import KEYS_SIGNATURE_HEADER, SIGNATURE_HEADER, Signature
from bundle.history import HistoryStore
from bundle.runtime import BundleLoadError, BundleRuntime
from bundle.verify import (
    BundleRejected,
    VerifiedBundle,
    parse_signature_header,
    parse_signatures_header,
    verify_bundle,
    verify_key_announcement,
)
from studio_client.outbox import DEFAULT_CAPACITY, Answer, Outbox, OutboxFull

log = logging.getLogger("studio_client")

EVENTS_PATH: Final = "/api/v1/events"
DECISIONS_PATH: Final = "/api/v1/decisions"
CONTACTS_PATH: Final = "/api/v1/contacts"
#: `history=DEFAULT_HISTORY` (the default): a SQLite file in the cache folder.
DEFAULT_HISTORY: Final = "sqlite"
USER_AGENT: Final = "pos-studio-client/1"


class ClientError(Exception):
    """The studio refused a request; `status`, `code` and `field` come from its answer."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}" + (f" ({field})" if field else ""))
        self.status = status
        self.code = code
        self.message = message
        self.field = field


class StudioUnavailable(Exception):
    """The studio could not be reached, or answered with a server error."""


class NoBundle(Exception):
    """There is no verified bundle yet: the studio was never reached and nothing is cached."""


@dataclass(frozen=True)
class _Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class StudioClient:
    """Decide locally on the studio's current, verified bundle.

    `trusted_keys` are the studio's public keys as `GET /api/v1/keys` lists them
    (``{"key_id", "algorithm", "public_key"}``), handed to the client out of band: a key
    fetched next to the bundle would prove nothing (keys announced later are trusted
    only when a key already trusted signed the announcement). `max_age` is how many
    seconds a bundle is used before a decision starts a background revalidation.
    `backoff` is the first wait of the outbox after a failed delivery (doubling up to
    `max_backoff`); `outbox_capacity` bounds how many reports may wait on disk.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        trusted_keys: Iterable[Mapping[str, str]],
        cache_dir: str | os.PathLike[str],
        *,
        timeout: float = 5.0,
        max_age: float = 60.0,
        backoff: float = 0.5,
        max_backoff: float = 60.0,
        outbox_capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], float] = time.monotonic,
        history: HistoryStore | str | None = DEFAULT_HISTORY,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.configured_keys = [dict(k) for k in trusted_keys]
        self.trusted_keys = list(self.configured_keys)
        self.cache_dir = Path(cache_dir)
        self.timeout = timeout
        self.max_age = max_age
        self._clock = clock
        self._bundle: VerifiedBundle | None = None
        self._runtime: BundleRuntime | None = None
        self._checked_at: float | None = None
        self._refresh_lock = threading.Lock()
        self._spawn_lock = threading.Lock()
        self._refresher: threading.Thread | None = None
        self.last_error: str | None = None
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._load_announced_keys()
        self.highest_version = self._read_highest()
        self.outbox = Outbox(
            self.cache_dir / "outbox.sqlite3",
            self._deliver,
            capacity=outbox_capacity,
            backoff=backoff,
            max_backoff=max_backoff,
        )
        if self.outbox.waiting:
            self.outbox.start()
        self._history_choice = history
        self._history: HistoryStore | None = None if isinstance(history, str) else history
        #: Reports of local decisions that did not fit in a full outbox (never queued).
        self.reports_dropped = 0

    @property
    def history(self) -> HistoryStore | None:
        """The contact history caps are counted from (`studio_client.history`)."""
        if self._history is None and self._history_choice == DEFAULT_HISTORY:
            from studio_client.history import SQLiteHistory

            self.cache_dir.mkdir(parents=True, exist_ok=True)
            self._history = SQLiteHistory(self.cache_dir / "history.sqlite")
        return self._history

    # --- bundle ---------------------------------------------------------------------

    @property
    def bundle_version(self) -> int | None:
        return self._bundle.version if self._bundle else None

    @property
    def runtime(self) -> BundleRuntime:
        """The runtime of the last good bundle (from memory, else the disk cache)."""
        if self._runtime is None:
            self._load_cached()
        if self._runtime is None:
            raise NoBundle("no verified bundle yet: call refresh() while the studio is up")
        return self._runtime

    def refresh(self) -> str:
        """Revalidate the bundle: "updated", "not_modified", "offline" or "older".

        "older" means the studio served a validly signed bundle with a lower version
        than one this client already accepted (a replay, or a worker that has not seen
        the last publish yet): it is not used. Raises `BundleRejected` if the studio
        served a bundle that fails verification; the last good bundle stays in use
        either way.
        """
        with self._refresh_lock:
            return self._refresh()

    def _refresh(self) -> str:
        if self._bundle is None:
            self._load_cached()
        headers = {"Accept": "application/json"}
        if self._bundle is not None:
            headers["If-None-Match"] = f'"{self._bundle.digest}"'
        try:
            response = self._send("GET", "/api/v1/bundles/current", headers=headers)
        except StudioUnavailable as exc:
            # Count the attempt, so decisions keep running locally instead of waiting on
            # a dead studio at every call; the next try comes after max_age.
            self._checked_at = self._clock()
            self.last_error = str(exc)
            return "offline"
        self._checked_at = self._clock()
        if response.status == 304 and self._bundle is not None:
            self.last_error = None
            return "not_modified"
        if response.status != 200:
            raise _client_error(response)
        try:
            verified = self._verify_following_rotation(response)
            if verified.version < self.highest_version or (
                self._bundle is not None
                and verified.version == self._bundle.version
                and verified.digest != self._bundle.digest
            ):
                self.last_error = (
                    f"refused bundle v{verified.version}: this client already "
                    f"accepted v{self.highest_version}"
                )
                log.warning("%s", self.last_error)
                return "older"
            runtime = BundleRuntime.from_bundle(verified.body, digest=verified.digest)
        except BundleRejected as exc:
            self.last_error = exc.reason
            log.warning("refused a bundle from %s: %s", self.base_url, exc.reason)
            raise
        except BundleLoadError as exc:
            # Signed by the studio but not something this client can run (say, a newer
            # bundle format): refuse it like a bad bundle and keep the one in use.
            self.last_error = f"cannot load bundle: {exc}"
            log.warning("refused a bundle from %s: %s", self.base_url, self.last_error)
            raise BundleRejected(self.last_error, "cannot-load") from exc
        self._use(verified, runtime)
        self._save(verified)
        self.last_error = None
        return "updated"

    def _verify_following_rotation(self, response: _Response) -> VerifiedBundle:
        """Verify; on an unknown key, learn announced keys once and verify again."""
        signature = parse_signature_header(response.headers.get(SIGNATURE_HEADER))
        expected = _etag_digest(response.headers.get("ETag"))
        try:
            return verify_bundle(
                response.body, signature, self.trusted_keys, expected_digest=expected
            )
        except BundleRejected as exc:
            if exc.code != "untrusted-key":
                raise
            try:
                self.refresh_keys()
            except (BundleRejected, StudioUnavailable, ClientError) as failed:
                log.warning("could not follow a key rotation: %s", failed)
                raise exc from failed
            return verify_bundle(
                response.body, signature, self.trusted_keys, expected_digest=expected
            )

    # --- keys -------------------------------------------------------------------------

    @property
    def _keys_path(self) -> Path:
        return self.cache_dir / "announced_keys.json"

    def refresh_keys(self) -> list[str]:
        """Trust keys from `GET /api/v1/keys` when a trusted key signed the list.

        Returns the ids of keys newly trusted. The accepted announcements are kept in
        the cache folder as a chain (each one signed by a key the previous ones, or the
        configured keys, vouch for) and re-checked from the configured keys on start,
        so an edited file trusts nothing. Raises `BundleRejected` for an unsigned list,
        or one signed only by keys this client does not trust.
        """
        response = self._send("GET", "/api/v1/keys", headers={"Accept": "application/json"})
        if response.status != 200:
            raise _client_error(response)
        signatures = parse_signatures_header(response.headers.get(KEYS_SIGNATURE_HEADER))
        announced = verify_key_announcement(response.body, signatures, self.trusted_keys)
        known = {k.get("key_id") for k in self.trusted_keys}
        new = [k for k in announced if k["key_id"] not in known]
        if new:
            chain = self._read_chain()
            chain.append(
                {
                    "data": response.body.decode("utf-8"),
                    "signatures": [s.header() for s in signatures],
                }
            )
            _atomic_write(self._keys_path, json.dumps(chain).encode("utf-8"))
            self.trusted_keys += new
            log.info(
                "now trusting keys %s, announced by a trusted key",
                ", ".join(k["key_id"] for k in new),
            )
        return [k["key_id"] for k in new]

    def _read_chain(self) -> list[dict[str, Any]]:
        try:
            chain = json.loads(self._keys_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except ValueError:
            return []
        return chain if isinstance(chain, list) else []

    def _load_announced_keys(self) -> None:
        """Replay the stored announcements from the configured keys; stop at any doubt."""
        for link in self._read_chain():
            try:
                data = str(link["data"]).encode("utf-8")
                signatures = [parse_signature_header(h) for h in link["signatures"]]
                announced = verify_key_announcement(data, signatures, self.trusted_keys)
            except (BundleRejected, KeyError, TypeError) as exc:
                log.warning("ignored stored key announcements: %s", exc)
                return
            known = {k.get("key_id") for k in self.trusted_keys}
            self.trusted_keys += [k for k in announced if k["key_id"] not in known]

    # --- the highest version seen -----------------------------------------------------

    @property
    def _highest_path(self) -> Path:
        return self.cache_dir / "highest_version"

    def _read_highest(self) -> int:
        try:
            return int(self._highest_path.read_text(encoding="ascii").strip())
        except (FileNotFoundError, ValueError):
            return 0

    def decide(
        self,
        interaction: Mapping[str, Any],
        *,
        channels: Iterable[str] | None = None,
        explain: bool = False,
        layouts: Mapping[str, str] | None = None,
        allow_invalid: bool = False,
        on_unavailable: OnUnavailable = "deny",
    ) -> dict[str, Any]:
        """Decide locally; a due revalidation runs in the background, never in this call.

        Only a client holding no bundle at all (first start, nothing cached) fetches
        inline, once, within `timeout`, and raises `NoBundle` if that fails.

        An interaction that does not fit the bundle's schema raises `InvalidInteraction`
        (its `problems` name every field at fault), exactly as `/api/v1/decide` refuses
        it. `allow_invalid=True` decides anyway; the decision's ``interaction`` entry
        then lists the problems with ``"allowed_invalid": true``.

        Caps and suppressions of the bundle's contact policy are counted from
        `history` (by default a SQLite file in the cache folder).

        The answer carries a fresh `decision_id` (the one the history store records the
        offers under). The decision's log record (`POST /api/v1/decisions`) and the
        offers it made (`POST /api/v1/contacts`, the studio's contact history) are queued
        in the outbox before this returns, in one transaction without an fsync (see
        `Outbox.add_many`), and delivered in the background like events. A decision is
        never refused because the outbox is full: its reports are then not queued, and
        are counted in `reports_dropped` (and `last_error` says so).
        """
        self._refresh_if_due()
        decision_id = new_decision_id()
        decision = self.runtime.decide(
            interaction,
            channels=channels,
            explain=explain,
            layouts=layouts,
            allow_invalid=allow_invalid,
            history=self.history,
            decision_id=decision_id,
            on_unavailable=on_unavailable,
            fresh_decision_id=True,
        )
        decision["decision_id"] = decision_id
        self._queue_reports(interaction, decision)
        return decision

    # --- decision reports ---------------------------------------------------------------

    def contact_reports(
        self, interaction: Mapping[str, Any], decision: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The offers a local decision made, as `POST /api/v1/contacts` takes them."""
        customer = interaction.get("customer")
        customer_id = customer.get("id") if isinstance(customer, Mapping) else None
        if not isinstance(customer_id, str) or not customer_id or not decision.get("offers"):
            return []
        inquiry = interaction.get("inquiry")
        channel = inquiry.get("channel") if isinstance(inquiry, Mapping) else None
        at = (
            interaction.get("at")
            if isinstance(interaction.get("at"), str)
            else datetime.now(UTC).isoformat(timespec="seconds")
        )
        return [
            {
                "decision_id": str(decision["decision_id"]),
                "customer_id": customer_id,
                "offer_key": offer.get("offer"),
                "channel": channel if isinstance(channel, str) else None,
                "at": at,
                "bundle_version": self.bundle_version,
            }
            for offer in decision["offers"]
            if isinstance(offer.get("offer"), str)
        ]

    def _queue_reports(self, interaction: Mapping[str, Any], decision: Mapping[str, Any]) -> None:
        record = decision_record(decision, interaction, decision_id=decision["decision_id"])
        contacts = self.contact_reports(interaction, decision)
        groups = [(DECISIONS_PATH, "decisions", [(str(record["decision_id"]), record)])]
        if contacts:
            groups.append((CONTACTS_PATH, "contacts", [(contact_id(c), c) for c in contacts]))
        try:
            self.outbox.add_many(groups, fsync=False)
        except OutboxFull as exc:
            self.reports_dropped += 1 + len(contacts)
            self.last_error = f"decision {decision['decision_id']} not reported: {exc}"
            log.warning("%s", self.last_error)

    def report_decisions(self, timeout: float = 30.0) -> bool:
        """Wait up to `timeout` seconds until every queued report, decisions and contacts
        included, is acknowledged by the studio (`flush`); True when the outbox emptied."""
        return self.flush(timeout)

    def decide_remote(
        self,
        interaction: Mapping[str, Any],
        *,
        channels: Iterable[str] | None = None,
        explain: bool = False,
        version: int | None = None,
    ) -> dict[str, Any]:
        """Ask the studio's `/decide` instead (for systems that cannot run the runtime)."""
        body: dict[str, Any] = {"interaction": dict(interaction), "explain": explain}
        if channels is not None:
            body["channels"] = list(channels)
        if version is not None:
            body["version"] = version
        response = self._send_json("POST", "/api/v1/decide", body)
        if response.status != 200:
            raise _client_error(response)
        decision: dict[str, Any] = response.json()
        return decision

    def _refresh_if_due(self) -> None:
        if self._runtime is None:
            self._load_cached()
        if self._runtime is None:
            self._refresh_quietly()
            return
        due = self._checked_at is None or self._clock() - self._checked_at >= self.max_age
        if not due:
            return
        self._checked_at = self._clock()
        with self._spawn_lock:
            if self._refresher is not None and self._refresher.is_alive():
                return
            self._refresher = threading.Thread(
                target=self._refresh_quietly, name="studio-refresh", daemon=True
            )
            self._refresher.start()

    def wait_for_refresh(self, timeout: float) -> bool:
        """Wait for a background revalidation to finish; True when none is running."""
        refresher = self._refresher
        if refresher is not None:
            refresher.join(timeout)
            return not refresher.is_alive()
        return True

    def _refresh_quietly(self) -> None:
        try:
            self.refresh()
        except (BundleRejected, ClientError) as exc:
            self._checked_at = self._clock()
            self.last_error = str(exc)
            log.warning("keeping bundle v%s: %s", self.bundle_version, exc)

    def _use(self, verified: VerifiedBundle, runtime: BundleRuntime) -> None:
        self._bundle = verified
        self._runtime = runtime

    # --- disk cache -------------------------------------------------------------------

    @property
    def _data_path(self) -> Path:
        return self.cache_dir / "bundle.json"

    @property
    def _meta_path(self) -> Path:
        return self.cache_dir / "bundle.meta.json"

    def _save(self, verified: VerifiedBundle) -> None:
        """Write bytes and signature atomically, so a crash never leaves half a bundle."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        meta = {
            "digest": verified.digest,
            "key_id": verified.signature.key_id,
            "signature": verified.signature.value,
            "version": verified.version,
        }
        _atomic_write(self._data_path, verified.data)
        _atomic_write(self._meta_path, json.dumps(meta).encode("utf-8"))
        if verified.version > self.highest_version:
            self.highest_version = verified.version
            _atomic_write(self._highest_path, str(verified.version).encode("ascii"))

    def _load_cached(self) -> None:
        """Use the bundle on disk if it still verifies; a tampered cache is ignored."""
        try:
            data = self._data_path.read_bytes()
            meta = json.loads(self._meta_path.read_text(encoding="utf-8"))
            verified = verify_bundle(
                data,
                Signature(meta["key_id"], meta["signature"]),
                self.trusted_keys,
                expected_digest=meta["digest"],
            )
            if verified.version < self.highest_version:
                raise BundleRejected(
                    f"the cached bundle v{verified.version} is older than "
                    f"v{self.highest_version}, already accepted",
                    "older",
                )
            runtime = BundleRuntime.from_bundle(verified.body, digest=verified.digest)
        except FileNotFoundError:
            return
        except (BundleRejected, BundleLoadError, ValueError, KeyError, TypeError) as exc:
            self.last_error = f"ignored the cached bundle: {exc}"
            log.warning("%s", self.last_error)
            return
        self._use(verified, runtime)

    # --- events and other reports -----------------------------------------------------

    def send_events(self, events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """Queue feedback events durably; they are delivered in the background.

        Each event gets its `event_id` (and `at`, and the bundle version in use) here,
        once: the id is also written into the caller's dict when it is a plain mutable
        mapping, so even a caller that sends the same events again sends the same ids,
        and the studio stores each id once. When this returns the events are on disk
        (the outbox file); a crash or a down studio loses none of them. Returns
        ``{"queued": new, "event_ids": [...]}``; raises `OutboxFull` (queuing none)
        when the outbox holds `outbox_capacity` undelivered reports.
        """
        prepared = [self._prepare_event(e) for e in events]
        return self.send_reports(EVENTS_PATH, "events", prepared, id_field="event_id")

    def send_reports(
        self, path: str, field: str, items: Iterable[Mapping[str, Any]], *, id_field: str
    ) -> dict[str, Any]:
        """Queue reports for ``POST path {field: [...]}``, identified by `id_field`.

        The generic form of `send_events` for any batch endpoint that answers per item
        the way `/api/v1/events` does (``results[i].status`` stored, duplicate or
        rejected) and dedupes by id; every item must already carry its id.
        """
        pairs = []
        for index, item in enumerate(items):
            item_id = item.get(id_field)
            if not isinstance(item_id, str) or not item_id:
                raise ValueError(f"report {index} has no {id_field!r}")
            pairs.append((item_id, item))
        queued = self.outbox.add(path, field, pairs)
        return {"queued": queued, f"{id_field}s": [item_id for item_id, _ in pairs]}

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait up to `timeout` seconds until every queued report is acknowledged."""
        return self.outbox.flush(timeout)

    def close(self) -> None:
        """Stop the delivery thread; undelivered reports stay on disk for the next start."""
        self.outbox.close()

    def _prepare_event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        if isinstance(event, MutableMapping) and not event.get("event_id"):
            event["event_id"] = uuid.uuid4().hex
        out = dict(event)
        decision = out.pop("decision", None)
        if isinstance(decision, Mapping):
            # The caller names the decision the event is about; the client fills in its id.
            if decision.get("decision_id"):
                out.setdefault("decision_id", decision["decision_id"])
            version = (decision.get("bundle") or {}).get("version")
            if version:
                out.setdefault("bundle_version", version)
        out.setdefault("event_id", uuid.uuid4().hex)
        out.setdefault("at", datetime.now(UTC).isoformat(timespec="seconds"))
        if self._bundle is not None:
            out.setdefault("bundle_version", self._bundle.version)
        return out

    def _deliver(self, path: str, body: Mapping[str, Any]) -> Answer:
        """One delivery attempt for the outbox: what the studio said about each item."""
        try:
            response = self._send_json("POST", path, body)
        except StudioUnavailable as exc:
            return Answer(retry=True, error=str(exc))
        if response.status == 200:
            try:
                answer = response.json()
                results = {
                    int(r["index"]): (str(r["status"]), r.get("error")) for r in answer["results"]
                }
            except (ValueError, KeyError, TypeError):
                return Answer(retry=True, error="the studio's answer lists no results")
            return Answer(retry=False, results=results)
        error = _client_error(response)
        if response.status in (401, 403, 404, 408, 409, 425, 429):
            # A token to fix, a studio still starting: the reports wait, nothing is lost.
            return Answer(retry=True, error=str(error))
        # The batch itself was refused (never the case for well-formed items): each item
        # moves to the rejected list with the studio's reason, so the queue is not stuck.
        refusal = {"code": error.code, "message": error.message, "field": error.field}
        return Answer(
            retry=False,
            results={i: ("rejected", refusal) for i in range(len(body[next(iter(body))]))},
        )

    # --- HTTP -------------------------------------------------------------------------

    def _send_json(self, method: str, path: str, body: Mapping[str, Any]) -> _Response:
        data = json.dumps(body, separators=(",", ":")).encode("utf-8")
        return self._send(
            method,
            path,
            data=data,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> _Response:
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("User-Agent", USER_AGENT)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return _Response(answer.status, _headers(answer.headers), answer.read())
        except urllib.error.HTTPError as error:
            response = _Response(error.code, _headers(error.headers), error.read())
            if error.code >= 500:
                raise StudioUnavailable(f"the studio answered {error.code}") from error
            return response
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise StudioUnavailable(f"cannot reach {self.base_url}: {exc}") from exc


def contact_id(contact: Mapping[str, Any]) -> str:
    """A contact report's id in the outbox: the studio stores one per decision and offer."""
    return f"{contact['decision_id']}:{contact['offer_key']}"


def _headers(message: Any) -> dict[str, str]:
    return {name: value for name, value in message.items()} if message else {}


def _etag_digest(etag: str | None) -> str | None:
    if not etag:
        raise BundleRejected("the response carries no ETag (the bundle's digest)", "missing-digest")
    return etag.strip().removeprefix("W/").strip('"')


def _client_error(response: _Response) -> ClientError:
    try:
        error = response.json()["error"]
        return ClientError(
            response.status, str(error.get("code")), str(error.get("message")), error.get("field")
        )
    except (ValueError, KeyError, TypeError):
        return ClientError(response.status, "http_error", f"the studio answered {response.status}")


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
