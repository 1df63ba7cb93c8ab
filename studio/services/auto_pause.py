"""An offer customers complain about is taken out of service at once, then reviewed.

A marketer sets, per offer, a complaint rate and a minimum number of exposures (Setting
"complaint_thresholds"). When an offer has been shown at least that many times and its
complaints per shown exceed the rate, the studio, without a person:

1. publishes an emergency bundle: the current bundle's verified content without the
   offer, signed as usual, as the next version (downstream clients pick it up on their
   next refresh, at most `max_age` seconds later);
2. records `offer.auto_pause` in the audit log as a system action (no actor) with the
   evidence (shown, complaints, rate, threshold);
3. opens a pause review (`offer_pauses`, status "paused") and tells the offer's owner and
   the reviewers. A reviewer keeps the pause or undoes it (four eyes after the fact);
   undoing publishes a bundle with the offer exactly as it was live.

While a pause is paused or kept, publishing leaves the offer out (`paused_offers`), and
so does rolling back to a bundle from before the pause. The rate counts every event
stored for the offer; after a reviewer undoes a pause, only events received after the
undo: what the reviewer judged cannot pause the offer again, new complaints can (with
at least the minimum of new exposures).
The check runs as a job enqueued after every ingest that carries a complaint and in a
periodic sweep every minute (`studio.loop_jobs`), so a pause due when the studio
stopped still happens after it starts again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio import audit
from studio.errors import FieldError, NotAllowed, ValidationFailed
from studio.models import Artifact, Bundle, FeedbackEvent, OfferPause, Setting, User, utcnow
from studio.roles import ADMIN, MARKETER, REVIEWER
from studio.services import bundles, notifications, signing, webhooks

SETTING: Final = "complaint_thresholds"
ACTIVE: Final = ("paused", "kept")


@dataclass(frozen=True)
class Threshold:
    rate: float  # complaints per shown, 0..1
    min_exposures: int


def thresholds(session: Session) -> dict[str, Threshold]:
    row = session.get(Setting, SETTING)
    out: dict[str, Threshold] = {}
    if row is not None and isinstance(row.value, Mapping):
        for key, value in row.value.items():
            try:
                out[str(key)] = Threshold(float(value["rate"]), int(value["min_exposures"]))
            except (KeyError, TypeError, ValueError):
                continue
    return out


def set_threshold(
    session: Session, offer_key: str, rate_percent: str, min_exposures: str, *, actor: User
) -> Threshold | None:
    """Marketers set (or, with an empty rate, clear) an offer's complaint threshold."""
    if not actor.roles & {MARKETER, ADMIN}:
        raise NotAllowed("Only marketers set complaint thresholds.")
    offer = session.scalar(
        select(Artifact).where(Artifact.kind == "offer", Artifact.key == offer_key)
    )
    if offer is None:
        raise ValidationFailed([FieldError("offer", f"There is no offer {offer_key!r}.")])
    current = {
        k: {"rate": t.rate, "min_exposures": t.min_exposures}
        for k, t in thresholds(session).items()
    }
    threshold: Threshold | None = None
    if str(rate_percent).strip():
        errors = []
        try:
            rate = float(str(rate_percent).strip().rstrip("%"))
        except ValueError:
            rate = -1.0
        if not 0 < rate <= 100:
            errors.append(
                FieldError(
                    "rate",
                    "Enter a complaint rate in percent, above 0 and at most 100 (for example 2.5).",
                )
            )
        try:
            minimum = int(str(min_exposures).strip())
        except ValueError:
            minimum = 0
        if not 1 <= minimum <= 10_000_000:
            errors.append(
                FieldError(
                    "min_exposures",
                    "Enter how many times the offer must "
                    "have been shown first (a whole number, 1 or more).",
                )
            )
        if errors:
            raise ValidationFailed(errors)
        threshold = Threshold(rate / 100, minimum)
        current[offer_key] = {"rate": threshold.rate, "min_exposures": minimum}
    else:
        current.pop(offer_key, None)
    row = session.get(Setting, SETTING)
    if row is None:
        session.add(Setting(key=SETTING, value=current, updated_by=actor.id))
    else:
        row.value = current
        row.updated_by = actor.id
        row.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        "offer.complaint_threshold",
        actor_id=actor.id,
        object_type="offer",
        object_id=offer_key,
        after=current.get(offer_key),
    )
    return threshold


def paused_offers(session: Session) -> set[str]:
    return set(session.scalars(select(OfferPause.offer_key).where(OfferPause.status.in_(ACTIVE))))


def counts(session: Session, offer_key: str, *, since: datetime | None = None) -> tuple[int, int]:
    """(shown, complaints) of an offer, over every event stored (received after `since`,
    when given)."""
    where = [FeedbackEvent.offer_key == offer_key, FeedbackEvent.type.in_(("shown", "complaint"))]
    if since is not None:
        where.append(FeedbackEvent.received_at > since)
    rows = dict(
        session.execute(
            select(FeedbackEvent.type, func.count()).where(*where).group_by(FeedbackEvent.type)
        ).all()
    )
    return int(rows.get("shown", 0)), int(rows.get("complaint", 0))


def last_undone(session: Session, offer_key: str) -> datetime | None:
    """When a reviewer last undid a pause of the offer: the evidence received before that
    was seen and judged, so only what arrives after it can pause the offer again."""
    return session.scalar(
        select(func.max(OfferPause.decided_at)).where(
            OfferPause.offer_key == offer_key, OfferPause.status == "undone"
        )
    )


def check(
    session: Session, offer_key: str, ring: signing.KeyRing, *, now: datetime | None = None
) -> OfferPause | None:
    """Pause `offer_key` if it crossed its threshold and is not paused already."""
    threshold = thresholds(session).get(offer_key)
    if threshold is None or offer_key in paused_offers(session):
        return None
    since = last_undone(session, offer_key)
    shown, complaints = counts(session, offer_key, since=since)
    if shown < threshold.min_exposures or complaints <= threshold.rate * shown:
        return None
    evidence: dict[str, Any] = {
        "shown": shown,
        "complaints": complaints,
        "rate": round(complaints / shown, 6) if shown else None,
        "threshold_rate": threshold.rate,
        "min_exposures": threshold.min_exposures,
    }
    if since is not None:
        evidence["since"] = since.isoformat()
    return pause(session, offer_key, evidence, ring, now=now)


def sweep(
    session: Session, ring: signing.KeyRing, *, now: datetime | None = None
) -> list[OfferPause]:
    out = []
    for offer_key in sorted(thresholds(session)):
        paused = check(session, offer_key, ring, now=now)
        if paused is not None:
            out.append(paused)
    return out


def pause(
    session: Session,
    offer_key: str,
    evidence: Mapping[str, Any],
    ring: signing.KeyRing,
    *,
    now: datetime | None = None,
) -> OfferPause | None:
    """Publish the emergency bundle without `offer_key` and open the pause review."""
    current = bundles.current(session)
    if current is None:
        return None
    body = bundles.load_verified(current, ring.public_keys())
    offers = list(body.get("offers") or [])
    entry = next((o for o in offers if o.get("key") == offer_key), None)
    if entry is None:
        return None
    now = now or datetime.now(UTC)
    revisions = {
        k: v for k, v in (body.get("revisions") or {}).items() if k != f"offer:{offer_key}"
    }
    new = _republish(
        session,
        body,
        ring,
        now,
        offers=[o for o in offers if o.get("key") != offer_key],
        revisions=revisions,
        note={"paused": offer_key},
        previous=current,
    )
    record = OfferPause(
        offer_key=offer_key,
        status="paused",
        evidence=dict(evidence),
        offer_entry={
            "entry": entry,
            "revision": (body.get("revisions") or {}).get(f"offer:{offer_key}"),
        },
        paused_version=new.version,
        created_at=now,
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        "offer.auto_pause",
        actor_id=None,
        object_type="offer",
        object_id=offer_key,
        system=True,
        evidence=dict(evidence),
        bundle=new.version,
        digest=new.digest,
        pause=record.id,
    )
    message = (
        f"Offer {offer_key} was paused automatically: {evidence.get('complaints')} "
        f"complaints in {evidence.get('shown')} shown (threshold "
        f"{float(evidence.get('threshold_rate') or 0) * 100:g}%). Bundle "
        f"v{new.version} leaves it out; keep or undo the pause."
    )
    notifications.notify(
        session,
        _owner_and_reviewers(session, offer_key),
        kind="auto_pause",
        message=message,
        link=f"/pauses/{record.id}",
    )
    webhooks.queue_report(
        session,
        "offer.auto_pause",
        {
            "offer": offer_key,
            "evidence": dict(evidence),
            "bundle_version": new.version,
            "pause_id": record.id,
        },
    )
    return record


def _republish(
    session: Session,
    body: Mapping[str, Any],
    ring: signing.KeyRing,
    now: datetime,
    *,
    offers: list[Any],
    revisions: Mapping[str, int],
    note: Mapping[str, str],
    previous: Bundle,
) -> Bundle:
    version = bundles.latest_version(session) + 1
    new_body = {
        **body,
        "offers": offers,
        "revisions": dict(revisions),
        "version": version,
        "published_at": now.isoformat(),
        "rollback_of": None,
    }
    summary = {
        "changes": bundles.changes(dict(body.get("revisions") or {}), revisions),
        "revisions": dict(revisions),
        "counts": {
            name: len(new_body.get(name) or []) for name in ("offers", "layouts", "rulesets")
        },
        "warnings": len(body.get("warnings") or []),
        "emergency": dict(note),
        "replaced": previous.version,
    }
    return bundles.store(session, new_body, ring=ring, actor_id=None, summary=summary)


def _owner_and_reviewers(session: Session, offer_key: str) -> list[User]:
    offer = session.scalar(
        select(Artifact).where(Artifact.kind == "offer", Artifact.key == offer_key)
    )
    people = [offer.owner] if offer is not None and offer.owner is not None else []
    return people + notifications.people_with_roles(session, [REVIEWER])


def get(session: Session, pause_id: int) -> OfferPause | None:
    return session.get(OfferPause, pause_id)


def recent_complaints(session: Session, record: OfferPause, limit: int = 10) -> list[FeedbackEvent]:
    """The newest complaints about the paused offer received up to the pause: the
    evidence a reviewer reads before keeping or undoing it."""
    return list(
        session.scalars(
            select(FeedbackEvent)
            .where(
                FeedbackEvent.offer_key == record.offer_key,
                FeedbackEvent.type == "complaint",
                FeedbackEvent.received_at <= record.created_at,
            )
            .order_by(FeedbackEvent.received_at.desc(), FeedbackEvent.id.desc())
            .limit(limit)
        )
    )


def listing(session: Session, *, limit: int = 100) -> list[OfferPause]:
    return list(session.scalars(select(OfferPause).order_by(OfferPause.id.desc()).limit(limit)))


def review(
    session: Session,
    pause_id: int,
    verdict: str,
    *,
    actor: User,
    ring: signing.KeyRing,
    now: datetime | None = None,
) -> OfferPause:
    """A reviewer keeps a pause or undoes it (the offer returns in a new bundle)."""
    if not actor.roles & {REVIEWER, ADMIN}:
        raise NotAllowed("Only reviewers keep or undo an automatic pause.")
    record = session.get(OfferPause, pause_id)
    if record is None:
        raise ValidationFailed([FieldError("pause", f"There is no pause {pause_id}.")])
    if verdict not in ("keep", "undo"):
        raise ValidationFailed([FieldError("verdict", "Choose keep or undo.")])
    if record.status == "undone" or (record.status == "kept" and verdict == "keep"):
        raise ValidationFailed([FieldError("verdict", f"This pause is already {record.status}.")])
    now = now or datetime.now(UTC)
    record.decided_by = actor.id
    record.decided_at = now
    if verdict == "keep":
        record.status = "kept"
        audit.record(
            session,
            "offer.pause_kept",
            actor_id=actor.id,
            object_type="offer",
            object_id=record.offer_key,
            pause=record.id,
        )
        return record
    current = bundles.current(session)
    if current is None:
        raise ValidationFailed([FieldError("pause", "There is no current bundle.")])
    body = bundles.load_verified(current, ring.public_keys())
    offers = [o for o in body.get("offers") or [] if o.get("key") != record.offer_key]
    offers.append(record.offer_entry["entry"])
    offers.sort(key=lambda o: str(o.get("key")))
    revisions = dict(body.get("revisions") or {})
    if record.offer_entry.get("revision") is not None:
        revisions[f"offer:{record.offer_key}"] = int(record.offer_entry["revision"])
    new = _republish(
        session,
        body,
        ring,
        now,
        offers=offers,
        revisions=revisions,
        note={"restored": record.offer_key},
        previous=current,
    )
    new.published_by = actor.id
    record.status = "undone"
    record.restored_version = new.version
    session.flush()
    audit.record(
        session,
        "offer.pause_undone",
        actor_id=actor.id,
        object_type="offer",
        object_id=record.offer_key,
        pause=record.id,
        bundle=new.version,
        digest=new.digest,
    )
    return record
