"""Message tokens, expiry, idempotent actions and withdrawal, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.errors import ValidationFailed
from studio.models import AuditEvent, DecisionRollup, FeedbackEvent, Message
from studio.services import decision_log, messages, surveys
from studio.services.messages import DecidedOffer, MessageSpec
from tests.factories import make_user

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _open(
    session: Session,
    customer: str = "c-1",
    *,
    now: datetime = NOW,
    days: int = 30,
    decision_id: str = "",
) -> tuple[Message, str]:
    spec = MessageSpec(
        customer={"id": customer},
        channel="sms",
        response_text="Fixed.",
        bundle_version=1,
        offers=(DecidedOffer("card_plan", "Rule A", "rs"),),
        decision_id=decision_id,
    )
    opening = messages.prepare(
        session, spec, base_url="https://m.example", secret="s", days=days, now=now
    )
    opened = messages.store(session, spec, opening, [])
    session.commit()
    message = session.get(Message, opened.id)
    assert message is not None
    return message, opening.token


def test_tokens_carry_128_bits_in_22_url_safe_characters() -> None:
    tokens = {messages.new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(messages.TOKEN_SHAPE.fullmatch(t) for t in tokens)


def test_only_the_sha256_of_the_token_is_stored(session: Session) -> None:
    message, token = _open(session)
    import hashlib

    assert message.token_hash == hashlib.sha256(token.encode()).hexdigest()
    row = session.execute(select(Message.__table__)).one()
    assert token not in repr(tuple(row))


def test_lookup_finds_the_message_until_it_expires(session: Session) -> None:
    message, token = _open(session, days=30)
    assert messages.lookup(session, token, now=NOW + timedelta(days=29)) == message
    assert messages.lookup(session, token, now=NOW + timedelta(days=30)) == messages.Unavailable(
        "expired"
    )


def test_lookup_refuses_wrong_shapes_and_unknown_tokens(session: Session) -> None:
    _message, token = _open(session)
    for bad in ("", token[:-1], token + "x", "a" * 22, "../../etc/passwd", "é" * 22):
        assert messages.lookup(session, bad, now=NOW) == messages.Unavailable("unknown")


def test_withdrawing_is_audited_once_and_closes_the_link(session: Session) -> None:
    message, token = _open(session)
    admin = make_user(session, "admin")
    for _ in range(2):
        messages.withdraw(session, message.id, actor_id=admin.id)
        session.commit()
    assert messages.lookup(session, token, now=NOW) == messages.Unavailable("withdrawn")
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "message.withdraw")
        )
        == 1
    )


def test_actions_are_recorded_once_with_ids_derived_from_message_and_kind(session: Session) -> None:
    message, _token = _open(session)
    for _ in range(3):
        messages.open_page(session, message, now=NOW)
        messages.answer(session, message, "card_plan", accepted=True, now=NOW)
        messages.answer(session, message, "card_plan", accepted=False, now=NOW)
        messages.rate(session, message, 7, now=NOW)
        messages.complain(session, message, "card_plan", now=NOW)
        session.commit()
    ids = sorted(session.scalars(select(FeedbackEvent.event_id)))
    assert ids == sorted(
        f"msg-{message.id}-{kind}"
        for kind in ("shown-card_plan", "answer-card_plan", "nps", "complaint-card_plan")
    )
    page = messages.page(session, message)
    assert page.score == 7 and page.offers[0].answer == "accepted" and page.offers[0].complained


def _act_on_every_control(session: Session, message: Message) -> None:
    messages.open_page(session, message, now=NOW)
    messages.answer(session, message, "card_plan", accepted=True, now=NOW)
    messages.complain(session, message, "card_plan", now=NOW)
    messages.rate(session, message, 9, now=NOW)
    session.commit()


def test_every_event_of_a_message_names_the_decision_that_opened_it(session: Session) -> None:
    decision_log.ingest(
        session,
        {
            "decisions": [
                {
                    "decision_id": "dec-msg-0001",
                    "bundle_version": 1,
                    "decided_at": NOW.isoformat(),
                    "channel": "sms",
                    "offers": [{"ruleset": "rs", "offer": "card_plan", "rule": "Rule A"}],
                }
            ]
        },
    )
    message, _token = _open(session, decision_id="dec-msg-0001")
    assert message.decision_id == "dec-msg-0001"
    for _ in range(2):  # replayed: still stored and counted once
        _act_on_every_control(session, message)
    recorded = {e.event_id: e.decision_id for e in session.scalars(select(FeedbackEvent))}
    assert recorded == {
        f"msg-{message.id}-{kind}": "dec-msg-0001"
        for kind in ("shown-card_plan", "answer-card_plan", "complaint-card_plan", "nps")
    }
    explained = decision_log.explain(session, "dec-msg-0001")
    assert explained is not None
    assert sorted(e.type for e in explained.events) == ["accepted", "complaint", "nps", "shown"]
    [rollup] = session.scalars(select(DecisionRollup).where(DecisionRollup.arm == "treatment"))
    assert (rollup.offer_key, rollup.decisions, rollup.shown, rollup.accepted) == (
        "card_plan",
        1,
        1,
        1,
    )
    assert rollup.complaints == 1


def test_a_message_opened_without_a_decision_records_events_naming_none(
    session: Session,
) -> None:
    message, _token = _open(session)
    assert message.decision_id is None
    _act_on_every_control(session, message)
    assert set(session.scalars(select(FeedbackEvent.decision_id))) == {None}


def test_an_unknown_offer_key_records_nothing(session: Session) -> None:
    message, _token = _open(session)
    assert messages.answer(session, message, "other", accepted=True, now=NOW) is None
    assert session.scalar(select(func.count()).select_from(FeedbackEvent)) == 0


def test_survey_frequency_counts_messages_and_nps_events_across_channels(session: Session) -> None:
    first, _ = _open(session, "c-7")
    assert first.survey is True
    second, _ = _open(session, "c-7", now=NOW + timedelta(days=89))
    assert second.survey is False
    third, _ = _open(session, "c-7", now=NOW + timedelta(days=91))
    assert third.survey is True
    admin = make_user(session, "admin")
    surveys.set_every_days(session, "0", actor_id=admin.id)
    session.commit()
    fourth, _ = _open(session, "c-7", now=NOW + timedelta(days=92))
    assert fourth.survey is True


def test_frequency_setting_refuses_nonsense(session: Session) -> None:
    admin = make_user(session, "admin")
    for raw in ("-1", "ninety", "", "99999"):
        try:
            surveys.set_every_days(session, raw, actor_id=admin.id)
        except ValidationFailed as failed:
            assert failed.by_field()["nps_every_days"]
        else:
            raise AssertionError(raw)
    assert surveys.every_days(session) == surveys.DEFAULT_EVERY_DAYS


def test_score_signatures_bind_token_and_score() -> None:
    signature = surveys.score_signature("secret", "tok", 9)
    assert surveys.signature_ok("secret", "tok", 9, signature)
    assert not surveys.signature_ok("secret", "tok", 8, signature)
    assert not surveys.signature_ok("secret", "tok2", 9, signature)
    assert not surveys.signature_ok("other", "tok", 9, signature)
    assert not surveys.signature_ok("secret", "tok", 9, "")
