"""The API side of customer messages: reading `POST /api/v1/messages` and the
`open_message` part of `POST /api/v1/decide`, and opening the message.

Either way the customer's links are minted before any variant is rendered, so the SMS,
email and message-center variants returned to the caller already carry the absolute,
tokened links (and the SMS segment count is that of the real text).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Final

from flask import current_app, g
from sqlalchemy.orm import Session

from content.channels import RenderContext
from content.diagnostics import ContentError
from content.notification import render_notification
from studio.api.errors import ApiError, from_refusal
from studio.config import Settings
from studio.errors import Refusal
from studio.services import decision_log, decisions, messages, rulesets, survey_answers
from studio.services.bundle_cache import BundleCache
from studio.services.decisions import DecideRequest
from studio.services.json_shape import check_object, expect_types, is_int
from studio.services.messages import DecidedOffer, MessageSpec
from studio.services.survey_answers import DecidedSurvey

SCOPE: Final = "messages:write"
MESSAGE_FIELDS: Final = ("customer", "channel", "response", "decision", "inquiry", "data", "layout")
OPEN_FIELDS: Final = ("customer", "channel", "response")
MAX_TEXT: Final = messages.MAX_RESPONSE_CHARS


def settings() -> Settings:
    return current_app.config["STUDIO_SETTINGS"]


def may_open() -> ApiError | None:
    """`open_message` on /decide needs the messages scope as well as `decide`."""
    credential = g.get("api_credential")
    if credential is None or SCOPE not in credential.scopes:
        return ApiError(
            403,
            "insufficient_scope",
            f"Opening a message needs a token with the '{SCOPE}' scope.",
            field="open_message",
        )
    return None


MAX_DEPTH: Final = 8


def _too_deep(value: Any, where: str, depth: int = 0) -> ApiError | None:
    """Template data is kept shallow: a customer record is not a document store."""
    if depth > MAX_DEPTH:
        return ApiError(
            400, "too_deep", f"'{where}' nests more than {MAX_DEPTH} levels deep.", field=where
        )
    items = (
        value.values() if isinstance(value, Mapping) else value if isinstance(value, list) else ()
    )
    for item in items:
        problem = _too_deep(item, where, depth + 1)
        if problem is not None:
            return problem
    return None


def _customer(value: Any, where: str) -> Mapping[str, Any] | ApiError:
    if not isinstance(value, Mapping):
        return ApiError(
            400, "invalid_type", "'customer' must be an object with an 'id'.", field=where
        )
    customer_id = value.get("id")
    if (
        not isinstance(customer_id, str | int)
        or isinstance(customer_id, bool)
        or not str(customer_id).strip()
    ):
        return ApiError(
            400,
            "missing_field",
            "The customer's 'id' is required (text): "
            "answers and survey frequency are counted per customer.",
            field=f"{where}.id",
        )
    if len(str(customer_id)) > 100:
        return ApiError(
            400, "too_long", "The customer's 'id' is at most 100 characters.", field=f"{where}.id"
        )
    problem = _too_deep(value, where)
    if problem is not None:
        return problem
    return {**value, "id": str(customer_id).strip()}


def _response(value: Any, where: str) -> tuple[str, str] | ApiError:
    problem = check_object(value, where, allowed=("text", "html")) or expect_types(
        value, where, {"text": (str,), "html": (str,)}
    )
    if problem is not None:
        return from_refusal(problem)
    text, html = (value.get("text") or "").strip(), (value.get("html") or "").strip()
    if not text and not html:
        return ApiError(
            400,
            "missing_field",
            "Give the service response as 'text', "
            "'html' or both: it is what the customer came to read.",
            field=where,
        )
    for name, item in (("text", text), ("html", html)):
        if len(item) > MAX_TEXT:
            return ApiError(
                400,
                "too_long",
                f"'{name}' has {len(item):,} characters (at most {MAX_TEXT:,}).",
                field=f"{where}.{name}",
            )
    return text, html


def _channel(value: Any, where: str) -> str | ApiError:
    if not isinstance(value, str) or not value.strip() or len(value) > 32:
        return ApiError(
            400,
            "invalid_type",
            "'channel' names where the customer was "
            "answered, e.g. 'sms' or 'email' (text, at most 32 characters).",
            field=where,
        )
    return value.strip()


def _unknown_channel(session: Session, channel: str) -> ApiError | None:
    """A channel the interaction schema does not know (where `/decide` refuses it too)."""
    spec = rulesets.current_schema(session).lookup("inquiry.channel")
    known = tuple(spec.values) if spec is not None and spec.type == "enum" else ()
    if not known or channel in known:
        return None
    return ApiError(
        400,
        "invalid_value",
        f"'channel' is '{channel[:32]}', which is not a channel the interaction schema "
        f"knows: one of {', '.join(known)}.",
        field="channel",
    )


def _decided(value: Any, where: str) -> tuple[int | None, tuple[DecidedOffer, ...]] | ApiError:
    """The bundle version and offers of a decision, as `/decide` answered it."""
    if not isinstance(value, Mapping):
        return ApiError(
            400,
            "invalid_type",
            "'decision' is the answer /decide gave (an object with 'bundle' and 'offers').",
            field=where,
        )
    bundle = value.get("bundle") or {}
    version = bundle.get("version") if isinstance(bundle, Mapping) else None
    if version is not None and (not is_int(version) or not 1 <= version <= 2**31 - 1):
        return ApiError(
            400,
            "invalid_version",
            "'bundle.version' must be a bundle version.",
            field=f"{where}.bundle.version",
        )
    raw_offers = value.get("offers") or []
    if not isinstance(raw_offers, list) or len(raw_offers) > 20:
        return ApiError(
            400,
            "invalid_type",
            "'offers' must be a list of at most 20 offers.",
            field=f"{where}.offers",
        )
    offers = []
    for index, item in enumerate(raw_offers):
        key = item.get("offer", item.get("key")) if isinstance(item, Mapping) else None
        if not isinstance(key, str) or not key or len(key) > 64:
            return ApiError(
                400,
                "missing_field",
                "Each offer names its key in 'offer'.",
                field=f"{where}.offers[{index}].offer",
            )
        rule, ruleset = item.get("rule") or "", item.get("ruleset") or ""
        if not isinstance(rule, str) or not isinstance(ruleset, str):
            return ApiError(
                400,
                "invalid_type",
                "'rule' and 'ruleset' are text.",
                field=f"{where}.offers[{index}]",
            )
        offers.append(DecidedOffer(key, rule[:200], ruleset[:64]))
    if offers and version is None:
        return ApiError(
            400,
            "missing_field",
            "A decision with offers names the bundle it came from in 'bundle.version'.",
            field=f"{where}.bundle.version",
        )
    return version, tuple(dict.fromkeys(offers))


def _decision_id(value: Mapping[str, Any], where: str) -> str | ApiError:
    """The decision's `decision_id` as `/decide` (or the client) answered it, "" when
    the decision carries none: the message's events name it."""
    given = value.get("decision_id")
    if given is None or given == "":
        return ""
    if not isinstance(given, str) or not decision_log.ID_PATTERN.match(given):
        return ApiError(
            400,
            "invalid_decision_id",
            "'decision_id' is the id /decide answered (8 to 64 letters, digits or ._:-).",
            field=f"{where}.decision_id",
        )
    return given


def _decided_surveys(value: Mapping[str, Any], where: str) -> tuple[DecidedSurvey, ...] | ApiError:
    """The narrow-cast surveys a decision asked (`surveys` as `/decide` answered it)."""
    raw = value.get("surveys") or []
    if not isinstance(raw, list) or len(raw) > survey_answers.MAX_PER_MESSAGE:
        return ApiError(
            400,
            "invalid_type",
            f"'surveys' must be a list of at most {survey_answers.MAX_PER_MESSAGE} surveys.",
            field=f"{where}.surveys",
        )
    out = []
    for index, item in enumerate(raw):
        key = item.get("survey") if isinstance(item, Mapping) else None
        rule = item.get("rule") or "" if isinstance(item, Mapping) else ""
        ruleset = item.get("ruleset") or "" if isinstance(item, Mapping) else ""
        if not isinstance(key, str) or not key or len(key) > 64:
            return ApiError(
                400,
                "missing_field",
                "Each survey names its key in 'survey'.",
                field=f"{where}.surveys[{index}].survey",
            )
        if not isinstance(rule, str) or not isinstance(ruleset, str):
            return ApiError(
                400,
                "invalid_type",
                "'rule' and 'ruleset' are text.",
                field=f"{where}.surveys[{index}]",
            )
        out.append(DecidedSurvey(key, rule[:200], ruleset[:64]))
    return tuple(dict.fromkeys(out))


def parse_message(body: Any) -> tuple[MessageSpec, str | None] | ApiError:
    """`POST /messages`: the spec and the message-center layout asked for, if any."""
    problem = check_object(
        body, "", allowed=MESSAGE_FIELDS, required=("customer", "channel", "response")
    ) or expect_types(body, "", {"inquiry": (dict,), "data": (dict,), "layout": (str,)})
    if problem is not None:
        return from_refusal(problem)
    customer = _customer(body["customer"], "customer")
    if isinstance(customer, ApiError):
        return customer
    channel = _channel(body["channel"], "channel")
    if isinstance(channel, ApiError):
        return channel
    response = _response(body["response"], "response")
    if isinstance(response, ApiError):
        return response
    version: int | None = None
    offers: tuple[DecidedOffer, ...] = ()
    asked: tuple[DecidedSurvey, ...] = ()
    decision_id = ""
    if body.get("decision") is not None:
        decided = _decided(body["decision"], "decision")
        if isinstance(decided, ApiError):
            return decided
        version, offers = decided
        named = _decision_id(body["decision"], "decision")
        if isinstance(named, ApiError):
            return named
        decision_id = named
        found = _decided_surveys(body["decision"], "decision")
        if isinstance(found, ApiError):
            return found
        asked = found
        if asked and version is None:
            return ApiError(
                400,
                "missing_field",
                "A decision that asks a survey names the bundle it came from in 'bundle.version'.",
                field="decision.bundle.version",
            )
    for name in ("inquiry", "data"):
        too_deep = _too_deep(body.get(name), name)
        if too_deep is not None:
            return too_deep
    inquiry = body.get("inquiry") or {}
    category = _category(inquiry)
    spec = MessageSpec(
        customer=customer,
        channel=channel,
        response_text=response[0],
        response_html=response[1],
        category=category,
        bundle_version=version,
        offers=offers,
        inquiry=inquiry,
        data=body.get("data") or {},
        surveys=asked,
        decision_id=decision_id,
    )
    return spec, body.get("layout")


def parse_open(value: Any, interaction: Mapping[str, Any]) -> MessageSpec | ApiError:
    """`open_message` on /decide: customer and channel default to the interaction's."""
    where = "open_message"
    problem = check_object(value, where, allowed=OPEN_FIELDS, required=("response",))
    if problem is not None:
        return from_refusal(problem)
    inquiry = _mapping(interaction.get("inquiry"))
    customer = _customer(value.get("customer", interaction.get("customer")), f"{where}.customer")
    if isinstance(customer, ApiError):
        return customer
    channel = _channel(value.get("channel", inquiry.get("channel")), f"{where}.channel")
    if isinstance(channel, ApiError):
        return channel
    response = _response(value["response"], f"{where}.response")
    if isinstance(response, ApiError):
        return response
    category = _category(inquiry)
    data = _mapping(interaction.get("data"))
    return MessageSpec(
        customer=customer,
        channel=channel,
        response_text=response[0],
        response_html=response[1],
        category=category,
        inquiry=inquiry,
        data=data,
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _category(inquiry: Mapping[str, Any]) -> str:
    """The inquiry's category as a message keeps it: text, at most 32 characters."""
    category = inquiry.get("category")
    return category[:32] if isinstance(category, str) else ""


def _token_id() -> int | None:
    credential = g.get("api_credential")
    return credential.token_id if credential is not None else None


def open_message(
    session: Session,
    session_factory: Callable[[], Session],
    cache: BundleCache,
    spec: MessageSpec,
    layout: str | None,
) -> dict[str, Any] | ApiError:
    """Open a message for a decision made earlier (flushed, not committed)."""
    problem = _unknown_channel(session, spec.channel)
    if problem is not None:
        return problem
    runtime = None
    if spec.bundle_version is not None and not (spec.offers or spec.surveys):
        # A decision that made nothing still names its bundle: one the studio does not
        # have is refused as it would be with offers (the message would cite it).
        named = decisions.runtime_for(session_factory, cache, spec.bundle_version)
        if isinstance(named, Refusal):
            return replace(from_refusal(named), field="decision.bundle.version")
    if spec.offers or spec.surveys:
        runtime = decisions.runtime_for(session_factory, cache, spec.bundle_version)
        if isinstance(runtime, Refusal):
            return replace(from_refusal(runtime), field="decision.bundle.version")
        unknown = [o.key for o in spec.offers if o.key not in runtime.offers]
        if unknown:
            return ApiError(
                400,
                "unknown_offer",
                f"Bundle v{spec.bundle_version} has no offer '{unknown[0]}'.",
                field="decision.offers",
            )
        missing = [s.key for s in spec.surveys if s.key not in runtime.surveys]
        if missing:
            return ApiError(
                400,
                "unknown_survey",
                f"Bundle v{spec.bundle_version} has no survey '{missing[0]}'.",
                field="decision.surveys",
            )
        problem = _layout_problem(runtime, layout)
        if problem is not None:
            return problem
    conf = settings()
    opening = messages.prepare(
        session, spec, base_url=conf.public_base_url, secret=conf.secret_key, days=conf.message_days
    )
    rendered = (
        messages.render_offers(runtime, spec, survey=opening.survey, layout_key=layout)
        if runtime
        else []
    )
    asked = survey_answers.snapshots(runtime, spec.surveys)
    opened = messages.store(
        session, spec, opening, rendered, token_id=_token_id(), asked=asked
    ).to_dict()
    if runtime is None:
        current = decisions.runtime_for(session_factory, cache, spec.bundle_version)
        runtime = None if isinstance(current, Refusal) else current
    return _with_notification(opened, runtime, spec, opening, [a["key"] for a in asked])


def _with_notification(
    opened: dict[str, Any],
    runtime: Any,
    spec: MessageSpec,
    opening: messages.Opening,
    surveys: list[str],
) -> dict[str, Any]:
    """Add the short notification email (`subject`, `html`, `text`) rendered from the
    bundle's notification layout with this message's links, for the downstream system
    to send: the studio sends no customer mail itself. Left out when the bundle has no
    notification layout or it does not render for this customer."""
    key = runtime.default_layouts.get("notification_email") if runtime is not None else None
    layout = runtime.layouts.get(key) if key else None
    if layout is None:
        return opened
    links = replace(opening.links, surveys=tuple(surveys))
    context = RenderContext(
        customer=spec.customer, inquiry=spec.inquiry, data=spec.data, message=links
    )
    try:
        notification = render_notification(layout, context)
    except ContentError:
        return opened
    return {**opened, "notification": {**notification.to_dict(), "layout": key}}


def _layout_problem(runtime: Any, layout: str | None) -> ApiError | None:
    for _channel_name, problem in runtime.unknown_layouts(
        {"message_center": layout} if layout else {}
    ):
        return ApiError(400, "unknown_layout", problem, field="layout")
    return None


def decide_and_open(
    session: Session,
    session_factory: Callable[[], Session],
    cache: BundleCache,
    request: DecideRequest,
    spec: MessageSpec,
) -> dict[str, Any] | ApiError:
    """Decide with the new message's links in every variant, then store the message."""
    conf = settings()
    opening = messages.prepare(
        session, spec, base_url=conf.public_base_url, secret=conf.secret_key, days=conf.message_days
    )
    context = RenderContext(
        customer=spec.customer, inquiry=spec.inquiry, data=spec.data, message=opening.links
    )
    answer = decisions.decide(session_factory, cache, request, context=context)
    if isinstance(answer, Refusal):
        return from_refusal(answer)
    version = answer["bundle"]["version"]
    offers = tuple(
        dict.fromkeys(
            DecidedOffer(str(o.get("offer")), str(o.get("rule") or ""), str(o.get("ruleset") or ""))
            for o in answer["offers"]
            if isinstance(o.get("offer"), str)
        )
    )
    asked = tuple(
        dict.fromkeys(
            DecidedSurvey(
                str(s.get("survey")), str(s.get("rule") or ""), str(s.get("ruleset") or "")
            )
            for s in answer.get("surveys", ())
            if isinstance(s.get("survey"), str)
        )
    )
    spec = replace(
        spec,
        bundle_version=version,
        offers=offers,
        surveys=asked,
        decision_id=str(answer.get("decision_id") or ""),
    )
    runtime = decisions.runtime_for(session_factory, cache, version)
    if isinstance(runtime, Refusal):
        return from_refusal(runtime)
    rendered = messages.render_offers(
        runtime, spec, survey=opening.survey, layout_key=request.layouts.get("message_center")
    )
    snapshots = survey_answers.snapshots(runtime, asked)
    opened = messages.store(session, spec, opening, rendered, token_id=_token_id(), asked=snapshots)
    return {
        **answer,
        "message": _with_notification(
            opened.to_dict(), runtime, spec, opening, [a["key"] for a in snapshots]
        ),
    }
