"""`/m/<token>`: the full service response, the offers with Accept / Not for me, a
one-question NPS survey, and a way to say an offer was not welcome.

State changes are POST forms authorized by the token in the address, answered with a
redirect back to the page; the only GET that records anything is the signed one-click
score link from an email, which is safe to replay (the first answer stands). Every page
works without JavaScript.
"""

from __future__ import annotations

import os
from typing import Final

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from studio import security
from studio.customer.layout_embed import embed
from studio.customer.linkify import linkify
from studio.customer.rate_limit import RateLimiter
from studio.db import db_session
from studio.errors import ValidationFailed
from studio.models import Message
from studio.services import messages, survey_answers, surveys

bp = Blueprint(
    "customer",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/m-static",
)
bp.add_app_template_filter(linkify, "linkify")

CONTENT_SECURITY_POLICY: Final = "; ".join(
    [
        "default-src 'none'",
        "script-src 'none'",
        # The message-center layout and offer copy carry inline styles (email-style markup).
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' https: data:",
        "font-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
DEFAULT_TOKEN_LIMIT: Final = 60
DEFAULT_ADDRESS_LIMIT: Final = 300
TITLES: Final = {
    "unknown": (
        "We could not find this message",
        "The link may be incomplete: check that you opened the whole link from "
        "your text or email. If it still does not work, contact us and we will "
        "send it again.",
    ),
    "expired": (
        "This message has expired",
        "Links to your messages work for a limited time to keep them private. "
        "Contact us if you still need this answer; nothing about your account "
        "has changed.",
    ),
    "withdrawn": (
        "This message was withdrawn",
        "We took this message back, usually because it was sent by mistake. "
        "Contact us if you have a question about it.",
    ),
    "busy": (
        "Too many requests",
        "This link was opened very many times in a short while. Wait a minute and try again.",
    ),
    "bad_link": (
        "This survey link is not complete",
        "Part of the link seems to be missing. Open the message instead and answer there.",
    ),
    "no_survey": (
        "This survey is not part of your message",
        "The link may be incomplete. Open your message to see what we asked.",
    ),
    "no_offer": (
        "This offer is not part of your message",
        "The link may be incomplete. Open your message to see the offers it holds.",
    ),
}
STATUS: Final = {
    "unknown": 404,
    "expired": 410,
    "withdrawn": 410,
    "busy": 429,
    "bad_link": 400,
    "no_survey": 404,
    "no_offer": 404,
}


def _limit(name: str, default: int) -> int:
    """A limit from the app config or `STUDIO_<NAME>`; anything but a positive whole
    number keeps the default (a typo never lifts the limit)."""
    raw = current_app.config.get(name) or os.environ.get(f"STUDIO_{name}") or default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def _limiters() -> tuple[RateLimiter, RateLimiter]:
    found = current_app.extensions.get("studio.customer.limits")
    if found is None:
        found = (
            RateLimiter(_limit("CUSTOMER_TOKEN_LIMIT", DEFAULT_TOKEN_LIMIT)),
            RateLimiter(_limit("CUSTOMER_ADDRESS_LIMIT", DEFAULT_ADDRESS_LIMIT)),
        )
        current_app.extensions["studio.customer.limits"] = found
    return found


@bp.before_request
def _rate_limit() -> Response | tuple[str, int, dict[str, str]] | None:
    if request.endpoint == "customer.static":
        return None
    by_token, by_address = _limiters()
    token = (request.view_args or {}).get("token", "")
    verdicts = [by_address.hit(f"addr:{request.remote_addr}")]
    if token:
        verdicts.append(by_token.hit(f"token:{messages.hash_token(str(token))[:32]}"))
    refused = [v for v in verdicts if not v.allowed]
    if refused:
        page, status = _unavailable("busy")
        return page, status, {"Retry-After": str(max(v.retry_after for v in refused))}
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    if request.endpoint != "customer.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _unavailable(reason: str, *, token: str | None = None) -> tuple[str, int]:
    """The page saying why a link leads nowhere; with the message's `token` (the
    message is there, only what the link names is not), a link back to the message."""
    title, text = TITLES[reason]
    back = url_for("customer.show", token=token) if token else None
    return render_template(
        "customer/unavailable.html", title=title, text=text, reason=reason, back=back
    ), STATUS[reason]


def _message(token: str) -> Message | tuple[str, int]:
    found = messages.lookup(db_session(), token)
    if isinstance(found, messages.Unavailable):
        return _unavailable(found.reason)
    return found


def _render_page(
    token: str,
    page: messages.MessagePage,
    *,
    status: int = 200,
    nps_error: str | None = None,
    asked: list[survey_answers.AskedSurvey] | None = None,
    survey_errors: dict[str, dict[str, str]] | None = None,
    typed: dict[str, dict[str, str]] | None = None,
    typed_score: str = "",
) -> tuple[str, int]:
    offers = []
    css = []
    for offer in page.offers:
        embedded = embed(offer.html) if offer.html else None
        if embedded is not None:
            css.append(embedded.css)
        offers.append((offer, Markup(embedded.html) if embedded else None))
    return render_template(
        "customer/message.html",
        token=token,
        page=page,
        offers=offers,
        layout_css=Markup("\n".join(css)),
        response_html=Markup(page.response_html),
        nps_error=nps_error,
        asked=asked or [],
        errors_by_survey=survey_errors or {},
        typed_by_survey=typed or {},
        typed_score=typed_score,
        separator=survey_answers.SEPARATOR,
    ), status


@bp.get("/m/<token>")
@security.public
def show(token: str) -> tuple[str, int]:
    found = _message(token)
    if not isinstance(found, Message):
        return found
    session = db_session()
    page = messages.open_page(session, found)
    return _render_page(token, page, asked=survey_answers.asked(session, found))


@bp.route("/m/<token>/offers/<offer_key>/<any(accept, decline):choice>", methods=["GET", "POST"])
@security.public
def answer(token: str, offer_key: str, choice: str) -> Response | tuple[str, int]:
    found = _message(token)
    if not isinstance(found, Message):
        return found
    if request.method == "GET":
        return redirect(url_for("customer.show", token=token), 303)
    session = db_session()
    outcome = messages.answer(session, found, offer_key, accepted=choice == "accept")
    if outcome is None:
        return _unavailable("no_offer", token=token)
    return redirect(url_for("customer.show", token=token, _anchor=f"offer-{offer_key}"), 303)


@bp.route("/m/<token>/offers/<offer_key>/not-welcome", methods=["GET", "POST"])
@security.public
def complaint(token: str, offer_key: str) -> tuple[str, int]:
    found = _message(token)
    if not isinstance(found, Message):
        return found
    session = db_session()
    if request.method == "POST":
        outcome = messages.complain(session, found, offer_key)
        if outcome is None:
            return _unavailable("no_offer", token=token)
        page = outcome.page
    else:
        page = messages.page(session, found)
    offer = page.offer(offer_key)
    if offer is None:
        return _unavailable("no_offer", token=token)
    return render_template("customer/complaint.html", token=token, offer=offer), 200


@bp.post("/m/<token>/nps")
@security.public
def nps_form(token: str) -> Response | tuple[str, int]:
    found = _message(token)
    if not isinstance(found, Message):
        return found
    if not found.survey:
        return redirect(url_for("customer.show", token=token), 303)
    session = db_session()
    score = messages.parse_score(request.form.get("score"))
    if score is None:
        page = messages.page(session, found)
        return _render_page(
            token, page, status=400, nps_error="Choose a number from 0 to 10, then press Send."
        )
    messages.rate(session, found, score)
    return redirect(url_for("customer.thanks", token=token), 303)


@bp.post("/m/<token>/answers")
@security.public
def answers(token: str) -> Response | tuple[str, int]:
    """The message page's one form when it asks a survey: every survey and the NPS
    question together, so one Send keeps everything the customer chose. All answers
    are checked before any is stored; a refusal shows the page again with each problem
    at its question and every answer as the customer left it."""
    found = _message(token)
    if not isinstance(found, Message):
        return found
    session = db_session()
    form = list(request.form.items(multi=True))
    raw_score = request.form.get("score", "").strip() if found.survey else ""
    score = messages.parse_score(raw_score) if raw_score else None
    nps_error = (
        "Choose a number from 0 to 10, or leave it blank." if raw_score and score is None else None
    )
    asked = survey_answers.asked(session, found)
    open_keys = [a.survey.key for a in asked if not a.answered]
    errors: dict[str, dict[str, str]] = {}
    try:
        chosen = survey_answers.read_together(session, found, form)
    except ValidationFailed as failed:
        chosen = {}
        for field, text in failed.by_field().items():
            key, _, name = field.partition(survey_answers.SEPARATOR)
            errors.setdefault(key, {})[name] = text
    page = messages.page(session, found)
    nps_open = page.survey and page.score is None
    if not (nps_error or errors or chosen or score is not None):
        if open_keys:
            errors[open_keys[0]] = {"survey": "Answer at least one question."}
        elif nps_open:
            nps_error = "Choose a number from 0 to 10, then press Send."
        else:  # everything on the page was answered meanwhile (another tab)
            return redirect(url_for("customer.show", token=token), 303)
    if nps_error or errors:
        typed = {
            key: {n: v[: survey_answers.MAX_TYPED] for n, v in reversed(fields)}
            for key, fields in survey_answers.split_form(asked, form).items()
        }
        return _render_page(
            token,
            page,
            status=422 if errors else 400,
            nps_error=nps_error,
            asked=asked,
            survey_errors=errors,
            typed=typed,
            typed_score=raw_score[:2],
        )
    for key, fields in chosen.items():
        survey_answers.submit(session, found, key, fields)
    if score is not None:
        messages.rate(session, found, score)
    anchor = f"survey-{next(iter(chosen))}" if chosen else "nps"
    return redirect(url_for("customer.show", token=token, _anchor=anchor), 303)


@bp.get("/m/<token>/nps/<raw_score>")
@security.public
def nps_click(token: str, raw_score: str) -> tuple[str, int]:
    found = _message(token)
    if not isinstance(found, Message):
        return found
    score = messages.parse_score(raw_score) if found.survey else None
    secret = current_app.config["STUDIO_SETTINGS"].secret_key
    if score is None or not surveys.signature_ok(secret, token, score, request.args.get("s", "")):
        return _unavailable("bad_link")
    session = db_session()
    outcome = messages.rate(session, found, score)
    return _thanks(token, outcome.page)


@bp.get("/m/<token>/thanks")
@security.public
def thanks(token: str) -> tuple[str, int]:
    found = _message(token)
    if not isinstance(found, Message):
        return found
    return _thanks(token, messages.page(db_session(), found))


@bp.post("/m/<token>/comment")
@security.public
def comment(token: str) -> Response | tuple[str, int]:
    found = _message(token)
    if not isinstance(found, Message):
        return found
    session = db_session()
    text = request.form.get("comment", "")
    try:
        messages.add_comment(session, found, text)
    except ValidationFailed as failed:
        return _thanks(
            token,
            messages.page(session, found),
            typed=text[:20_000],
            error=failed.by_field().get("comment"),
            status=422,
        )
    return redirect(url_for("customer.thanks", token=token), 303)


def _thanks(
    token: str,
    page: messages.MessagePage,
    *,
    typed: str = "",
    error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return render_template(
        "customer/thanks.html",
        token=token,
        page=page,
        typed=typed,
        error=error,
        max_comment=messages.MAX_COMMENT,
    ), status


@bp.route("/m/<token>/survey/<key>", methods=["GET", "POST"])
@security.public
def survey(token: str, key: str) -> tuple[str, int]:
    """One narrow-cast survey on its own page (the link in an SMS or email), and where
    its form posts: stored once per message, the first answer stands."""
    found = _message(token)
    if not isinstance(found, Message):
        return found
    session = db_session()
    if request.method == "GET":
        asked = survey_answers.find(session, found, key)
        if asked is None:
            return _unavailable("no_survey", token=token)
        return _survey_page(token, asked)
    try:
        outcome = survey_answers.submit(session, found, key, request.form.items(multi=True))
    except ValidationFailed as failed:
        asked = survey_answers.find(session, found, key)
        assert asked is not None
        return _survey_page(
            token,
            asked,
            errors=failed.by_field(),
            typed={k: v[: survey_answers.MAX_TYPED] for k, v in request.form.items()},
            status=422,
        )
    if outcome is None:
        return _unavailable("no_survey", token=token)
    return _survey_page(token, outcome.asked, stored=outcome.stored)


def _survey_page(
    token: str,
    asked: survey_answers.AskedSurvey,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    stored: bool | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return render_template(
        "customer/survey.html",
        token=token,
        item=asked,
        survey_errors=errors or {},
        typed=typed or {},
        stored=stored,
    ), status


@bp.route("/m/", defaults={"rest": ""})
@bp.route("/m/<path:rest>", methods=["GET", "POST"])
@security.public
def anything_else(rest: str) -> tuple[str, int]:
    return _unavailable("unknown")
