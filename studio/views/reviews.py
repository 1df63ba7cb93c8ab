"""Reviews: change requests, their diffs and rendered before/after, verdicts; artifact
history and comparison; the review settings page."""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from studio import security
from studio.db import db_session
from studio.errors import ValidationFailed
from studio.jobs import enqueue_after_commit
from studio.models import ChangeRequest, ChangeRequestItem
from studio.services import (
    backtests,
    overlaps,
    permissions,
    rendered_impact,
    request_consistency,
    review_reading,
    review_settings,
    review_states,
    submission,
    verdicts,
)
from studio.web import is_htmx, me, page_arg

#: What the reviewer is told after a verdict, by the request's new status.
_VERDICT_THANKS: Final = {
    "approved": "Thanks. The request is approved: it can be published now.",
    "changes_requested": "Thanks. Changes are requested: the author sees your note.",
    "in_review": "Thanks. Your review is recorded; the request still needs an approval.",
}

bp = Blueprint("reviews", __name__)


def _request_or_404(request_id: int) -> ChangeRequest:
    found = review_reading.find_request(db_session(), request_id)
    if found is None:
        abort(404)
    return found


@bp.get("/reviews/")
@security.requires("reviews")
def index() -> str:
    user = me()
    queue = request.args.get("queue", "waiting" if "reviewer" in user.roles else "open")
    if queue not in review_reading.QUEUES and queue != "mine":
        queue = "open"
    page = review_reading.listing(
        db_session(),
        queue="open" if queue == "mine" else queue,
        mine_for=user if queue == "mine" else None,
        page=page_arg(),
    )
    template = "reviews/_list.html" if is_htmx() else "reviews/index.html"
    return render_template(template, page=page, queue=queue, labels=review_states.STATUS_LABELS)


@bp.route("/reviews/new", methods=["GET", "POST"])
@security.requires("reviews")
def new() -> str | Response | tuple[str, int]:
    session = db_session()
    user = me()
    form: dict[str, Any] = {
        "title": "",
        "description": "",
        "artifacts": request.args.getlist("artifact"),
    }
    if request.method == "POST":
        form = {
            "title": request.form.get("title", ""),
            "description": request.form.get("description", ""),
            "artifacts": request.form.getlist("artifact"),
        }
        try:
            created = submission.submit(
                session,
                author=user,
                title=form["title"],
                description=form["description"],
                artifact_ids=form["artifacts"],
            )
        except ValidationFailed as failed:
            return render_template(
                "reviews/new.html",
                form=form,
                errors=failed.by_field(),
                drafts=submission.pending_drafts(session, user),
                kinds=permissions.KIND_LABELS,
            ), 422
        review_backtest = backtests.create_for_change(session, created.id, actor_id=user.id)
        enqueue_after_commit("backtests.run", backtest_id=review_backtest.id)
        flash("Submitted for review. Reviewers have been told.", "success")
        for flag in request_consistency.flags(session, created):
            flash(
                f"{flag.message} Reviewers will see this; publishing holds the request "
                "back until that offer is approved.",
                "error",
            )
        return redirect(url_for("reviews.show", request_id=created.id))
    return render_template(
        "reviews/new.html",
        form=form,
        errors={},
        drafts=submission.pending_drafts(session, user),
        kinds=permissions.KIND_LABELS,
    )


@bp.get("/reviews/<int:request_id>")
@security.requires("reviews")
def show(request_id: int) -> str | Response:
    """The review page. What needs the rulesets parsed or compiled (the consistency
    flags, the overlaps, each ruleset's sample decisions that change) loads on its own
    through htmx (`part=flags`, `part=overlaps`, `part=decisions&item=<artifact id>`),
    since a large ruleset takes seconds to compile the first time it is seen;
    `inline=1` draws it all in the page (the way without JavaScript)."""
    session = db_session()
    change = _request_or_404(request_id)
    part = request.args.get("part", "")
    if part and not is_htmx():
        return redirect(url_for("reviews.show", request_id=change.id, inline=1))
    if part == "flags":
        return render_template(
            "reviews/_flags.html", flags=request_consistency.flags(session, change)
        )
    if part == "overlaps":
        return render_template(
            "reviews/_overlaps.html", overlaps=overlaps.for_request(session, change)
        )
    if part == "decisions":
        artifact_id = request.args.get("item", type=int)
        found = rendered_impact.decisions_of(session, change, artifact_id or 0)
        if found is None:
            abort(404, description="This change request has no such ruleset.")
        return render_template("reviews/_decisions.html", impact=found, artifact_id=artifact_id)
    if part:
        abort(404, description="There is no such part of a review page.")
    inline = request.args.get("inline") == "1"
    return _page(change, inline=inline)


def _page(
    change: ChangeRequest,
    *,
    inline: bool,
    errors: dict[str, str] | None = None,
    typed_form: str = "",
    typed_body: str = "",
) -> str:
    session = db_session()
    return render_template(
        "reviews/show.html",
        view=review_reading.detail(session, change, viewer=me()),
        errors=errors or {},
        typed_form=typed_form,
        typed_body=typed_body,
        impact=rendered_impact.impact(session, change, decisions=inline),
        overlaps=overlaps.for_request(session, change) if inline else (),
        lazy=not inline,
        flags=request_consistency.flags(session, change) if inline else (),
        labels=review_states.STATUS_LABELS,
        kinds=permissions.KIND_LABELS,
    )


@bp.get("/reviews/<int:request_id>/render/<int:item_id>/<side>")
@security.requires("reviews")
def render_email(request_id: int, item_id: int, side: str) -> Response:
    """An offer's email rendered alone, for a sandboxed iframe on the review page."""
    change = _request_or_404(request_id)
    if side not in ("before", "after"):
        abort(404)
    html = rendered_impact.email_preview(
        db_session(), change, item_id, side, request.args.get("sample", "")
    )
    if html is None:
        abort(404)
    response = Response(html, mimetype="text/html")
    return security.frame_policy(response, security.REVIEW_EMAIL_POLICY)


def _item_or_404(change: ChangeRequest, item_id: int) -> ChangeRequestItem:
    item = next((i for i in change.items if i.id == item_id), None)
    if item is None:
        abort(404)
    return item


@bp.get("/reviews/<int:request_id>/items/<int:item_id>/diff.txt")
@security.requires("reviews")
def download_diff(request_id: int, item_id: int) -> Response:
    """The complete unified diff of one item, for changes too large to show in the page."""
    text = review_reading.item_diff_text(
        db_session(), _item_or_404(_request_or_404(request_id), item_id)
    )
    response = Response(text, mimetype="text/plain")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="change-{request_id}-item-{item_id}.diff"'
    )
    return response


@bp.get("/reviews/<int:request_id>/line-comment")
@security.requires("reviews")
def line_comment_form(request_id: int) -> str:
    """The comment form for one diff line, loaded on demand (a fragment for htmx)."""
    change = _request_or_404(request_id)
    artifact_id = request.args.get("artifact_id", type=int)
    line = request.args.get("line", type=int)
    if (
        artifact_id is None
        or line is None
        or line < 1
        or artifact_id not in {i.artifact_id for i in change.items}
    ):
        abort(404)
    template = "reviews/_line_comment.html" if is_htmx() else "reviews/line_comment.html"
    return render_template(template, change=change, artifact_id=artifact_id, line=line)


def _redisplay(
    change: ChangeRequest, errors: dict[str, str], typed_form: str = ""
) -> tuple[str, int]:
    """Show the request again with the errors, keeping the note the person was writing.

    Services refuse before they change anything, and the 422 rolls the request back."""
    return _page(
        change,
        inline=False,
        errors=errors,
        typed_form=typed_form,
        typed_body=request.form.get("body", ""),
    ), 422


@bp.post("/reviews/<int:request_id>/comments")
@security.requires("reviews")
def add_comment(request_id: int) -> Response | str | tuple[str, int]:
    session = db_session()
    change = _request_or_404(request_id)
    try:
        verdicts.comment(
            session,
            change,
            author=me(),
            body=request.form.get("body", ""),
            artifact_id=request.form.get("artifact_id"),
            line=request.form.get("line"),
        )
    except ValidationFailed as failed:
        form = "line-comment" if request.form.get("artifact_id") else "comment"
        return _redisplay(change, failed.by_field(), form)
    flash("Comment added.", "success")
    anchor = (
        f"item-{request.form.get('artifact_id')}"
        if request.form.get("artifact_id")
        else "conversation"
    )
    return redirect(url_for("reviews.show", request_id=request_id, _anchor=anchor))


@bp.post("/reviews/<int:request_id>/verdict")
@security.requires("reviews")
def verdict(request_id: int) -> Response | str | tuple[str, int]:
    session = db_session()
    change = _request_or_404(request_id)
    try:
        verdicts.review(
            session,
            change,
            reviewer=me(),
            verdict=request.form.get("verdict", ""),
            body=request.form.get("body", ""),
            seen=request.form.get("seen", ""),
        )
    except ValidationFailed as failed:
        return _redisplay(change, failed.by_field(), "verdict")
    flash(_VERDICT_THANKS.get(change.status, "Thanks: your review is recorded."), "success")
    return redirect(url_for("reviews.show", request_id=request_id))


@bp.route("/reviews/<int:request_id>/withdraw", methods=["GET", "POST"])
@security.requires("reviews")
def withdraw(request_id: int) -> Response | str | tuple[str, int]:
    session = db_session()
    change = _request_or_404(request_id)
    if change.author_id != me().id:
        abort(403, description="Only the author withdraws a change request.")
    if request.method == "GET":
        return render_template("reviews/confirm_withdraw.html", change=change)
    try:
        submission.withdraw(session, change, actor=me())
    except ValidationFailed as failed:
        return _redisplay(change, failed.by_field())
    flash("Withdrawn. Its drafts can be submitted again.", "success")
    return redirect(url_for("reviews.show", request_id=request_id))


@bp.route("/reviews/settings", methods=["GET", "POST"])
@security.requires("admin")
def settings() -> Response | str | tuple[str, int]:
    session = db_session()
    if request.method == "POST":
        raw = request.form.get("required_approvals", "")
        try:
            review_settings.set_required_approvals(session, raw, actor=me())
        except ValidationFailed as failed:
            return render_template(
                "reviews/settings.html", value=raw, errors=failed.by_field()
            ), 422
        flash("Review settings saved.", "success")
        return redirect(url_for("reviews.settings"))
    return render_template(
        "reviews/settings.html", value=review_settings.required_approvals(session), errors={}
    )


@bp.get("/history/<kind>/<key>")
@security.signed_in
def history(kind: str, key: str) -> str:
    if not permissions.may_view_kind(me().roles, kind) and kind in permissions.KIND_EDITORS:
        abort(403, description="Your roles do not include this kind of work.")
    found = review_reading.history(db_session(), kind, key)
    if found is None:
        abort(404)
    artifact, revisions = found
    return render_template(
        "reviews/history.html",
        artifact=artifact,
        revisions=revisions,
        marks=review_reading.revision_labels(db_session(), artifact),
        kinds=permissions.KIND_LABELS,
    )


@bp.get("/history/<kind>/<key>/compare")
@security.signed_in
def compare(kind: str, key: str) -> str:
    if not permissions.may_view_kind(me().roles, kind) and kind in permissions.KIND_EDITORS:
        abort(403, description="Your roles do not include this kind of work.")
    try:
        a, b = int(request.args.get("a", "")), int(request.args.get("b", ""))
    except ValueError:
        abort(404)
    if not (0 < a < 2**31 and 0 < b < 2**31):
        abort(404)
    comparison = review_reading.compare(db_session(), kind, key, a, b)
    if comparison is None:
        abort(404)
    return render_template("reviews/compare.html", cmp=comparison, kinds=permissions.KIND_LABELS)
