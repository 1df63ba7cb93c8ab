"""The downstream client: fetch, verify, cache and decide locally; send events.

A system that talks to customers (email responder, chat, agent desktop) should never
wait on the studio to decide, and should never act on a bundle nobody signed. So the
client keeps the last good bundle in memory and on disk, revalidates it with the ETag
now and then (a 304 costs the studio almost nothing), refuses any bundle whose bytes or
signature do not check out against the keys it was configured with, and keeps deciding
on the last good bundle while the studio is unreachable or serving something suspect.

Standard library HTTP only (urllib), so it drops into any Python service.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from bundle.decision_record import decision_record, new_decision_id
from bundle.format import SIGNATURE_HEADER, Signature
from bundle.runtime import BundleLoadError, BundleRuntime
from bundle.verify import BundleRejected, VerifiedBundle, parse_signature_header, verify_bundle

log = logging.getLogger("studio_client")

EVENT_BATCH: Final = 500
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
    fetched next to the bundle would prove nothing. `max_age` is how many seconds a
    bundle is used before `decide` revalidates it.
    """

    def __init__(self, base_url: str, token: str, trusted_keys: Iterable[Mapping[str, str]],
                 cache_dir: str | os.PathLike[str], *, timeout: float = 5.0,
                 max_age: float = 60.0, retries: int = 3, backoff: float = 0.5,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.trusted_keys = [dict(k) for k in trusted_keys]
        self.cache_dir = Path(cache_dir)
        self.timeout = timeout
        self.max_age = max_age
        self.retries = retries
        self.backoff = backoff
        self._clock = clock
        self._sleep = sleep
        self._bundle: VerifiedBundle | None = None
        self._runtime: BundleRuntime | None = None
        self._checked_at: float | None = None
        self.last_error: str | None = None
        #: Local decisions not yet reported to the studio (`send_decisions`).
        self.pending_decisions: list[dict[str, Any]] = []

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
        """Revalidate the bundle: "updated", "not_modified" or "offline".

        Raises `BundleRejected` if the studio served a bundle that fails verification;
        the last good bundle stays in use either way.
        """
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
            verified = verify_bundle(
                response.body, parse_signature_header(response.headers.get(SIGNATURE_HEADER)),
                self.trusted_keys, expected_digest=_etag_digest(response.headers.get("ETag")))
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

    def decide(self, interaction: Mapping[str, Any], *, channels: Iterable[str] | None = None,
               explain: bool = False, layouts: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Decide locally, revalidating first when the bundle is older than `max_age`.

        The answer carries a fresh `decision_id`; its log record waits in
        `pending_decisions` until `send_decisions` reports it."""
        self._refresh_if_due()
        decision = self.runtime.decide(interaction, channels=channels, explain=explain,
                                       layouts=layouts)
        decision["decision_id"] = new_decision_id()
        self.pending_decisions.append(decision_record(decision, interaction,
                                                      decision_id=decision["decision_id"]))
        return decision

    def decide_remote(self, interaction: Mapping[str, Any], *,
                      channels: Iterable[str] | None = None, explain: bool = False,
                      version: int | None = None) -> dict[str, Any]:
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
        due = self._checked_at is None or self._clock() - self._checked_at >= self.max_age
        if not due and self._runtime is not None:
            return
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
        meta = {"digest": verified.digest, "key_id": verified.signature.key_id,
                "signature": verified.signature.value, "version": verified.version}
        _atomic_write(self._data_path, verified.data)
        _atomic_write(self._meta_path, json.dumps(meta).encode("utf-8"))

    def _load_cached(self) -> None:
        """Use the bundle on disk if it still verifies; a tampered cache is ignored."""
        try:
            data = self._data_path.read_bytes()
            meta = json.loads(self._meta_path.read_text(encoding="utf-8"))
            verified = verify_bundle(data, Signature(meta["key_id"], meta["signature"]),
                                     self.trusted_keys, expected_digest=meta["digest"])
            runtime = BundleRuntime.from_bundle(verified.body, digest=verified.digest)
        except FileNotFoundError:
            return
        except (BundleRejected, BundleLoadError, ValueError, KeyError, TypeError) as exc:
            self.last_error = f"ignored the cached bundle: {exc}"
            log.warning("%s", self.last_error)
            return
        self._use(verified, runtime)

    # --- events -----------------------------------------------------------------------

    def send_events(self, events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """Send feedback events in batches; retried batches are stored once.

        Each event gets an `event_id` (and an `at`) before the first attempt, so a retry
        after a lost answer carries the same ids and the studio skips what it already
        has. Returns the summed counts and every per-event result.
        """
        prepared = [self._prepare_event(e) for e in events]
        total: dict[str, Any] = {"stored": 0, "duplicates": 0, "rejected": 0, "results": []}
        for start in range(0, len(prepared), EVENT_BATCH):
            batch = prepared[start:start + EVENT_BATCH]
            answer = self._post_with_retries("/api/v1/events", {"events": batch})
            for name in ("stored", "duplicates", "rejected"):
                total[name] += int(answer.get(name, 0))
            total["results"] += [{**r, "index": r.get("index", 0) + start}
                                 for r in answer.get("results", [])]
        return total

    def send_decisions(self) -> dict[str, Any]:
        """Report the local decisions still pending (`POST /api/v1/decisions`).

        Decision ids are made before the first attempt, so a retried batch is stored
        once. Reported records leave `pending_decisions` only when the studio answered."""
        total: dict[str, Any] = {"stored": 0, "duplicates": 0, "rejected": 0, "results": []}
        while self.pending_decisions:
            batch = self.pending_decisions[:EVENT_BATCH]
            answer = self._post_with_retries("/api/v1/decisions", {"decisions": batch})
            del self.pending_decisions[:len(batch)]
            for name in ("stored", "duplicates", "rejected"):
                total[name] += int(answer.get(name, 0))
            total["results"] += answer.get("results", [])
        return total

    def _prepare_event(self, event: Mapping[str, Any]) -> dict[str, Any]:
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

    def _post_with_retries(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                response = self._send_json("POST", path, body)
                if response.status < 500 and response.status != 429:
                    if response.status != 200:
                        raise _client_error(response)
                    answer: dict[str, Any] = response.json()
                    return answer
                problem: Exception = StudioUnavailable(f"the studio answered {response.status}")
            except StudioUnavailable as exc:
                problem = exc
            if attempt == self.retries:
                raise problem
            self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    # --- HTTP -------------------------------------------------------------------------

    def _send_json(self, method: str, path: str, body: Mapping[str, Any]) -> _Response:
        data = json.dumps(body, separators=(",", ":")).encode("utf-8")
        return self._send(method, path, data=data,
                          headers={"Content-Type": "application/json",
                                   "Accept": "application/json"})

    def _send(self, method: str, path: str, *, data: bytes | None = None,
              headers: Mapping[str, str] | None = None) -> _Response:
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


def _headers(message: Any) -> dict[str, str]:
    return {name: value for name, value in message.items()} if message else {}


def _etag_digest(etag: str | None) -> str | None:
    if not etag:
        raise BundleRejected("the response carries no ETag (the bundle's digest)",
                             "missing-digest")
    return etag.strip().removeprefix("W/").strip('"')


def _client_error(response: _Response) -> ClientError:
    try:
        error = response.json()["error"]
        return ClientError(response.status, str(error.get("code")), str(error.get("message")),
                           error.get("field"))
    except (ValueError, KeyError, TypeError):
        return ClientError(response.status, "http_error", f"the studio answered {response.status}")


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
