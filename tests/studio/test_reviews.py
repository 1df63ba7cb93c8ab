"""Change requests: four eyes, pinned approvals, and the role x action matrix."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from studio.artifact_editor import conflict_box
from studio.db import get_database
from studio.errors import EditConflict, NotAllowed, ValidationFailed
from studio.models import Artifact, AuditEvent, ChangeRequest, Comment, Review
from studio.services import (
    approvals,
    artifacts,
    diffs,
    review_reading,
    review_settings,
    submission,
    verdicts,
)
from tests.factories import make_user, post, sign_in_as
from tests.factories.reviews import (
    approve,
    edit_offer,
    make_offer,
    make_ruleset,
    submit,
)


@pytest.fixture
def people(session):
    return {
        "mara": make_user(session, "marketer", name="Mara"),
        "sam": make_user(session, "service_lead", name="Sam"),
        "rita": make_user(session, "reviewer", name="Rita"),
        "ravi": make_user(session, "reviewer", name="Ravi"),
        "alex": make_user(session, "admin", name="Alex"),
        "omar": make_user(session, "marketer", "reviewer", name="Omar"),
    }


def test_submitting_drafts_puts_them_in_review_pinned_to_their_heads(session, people) -> None:
    offer = make_offer(session, people["mara"], "rewards_card")
    edit_offer(session, offer, people["mara"], name="Rewards card 2")
    request = submit(session, people["mara"], offer, title="Launch rewards")
    assert request.status == "in_review"
    assert approvals.pins(request) == {"offer:rewards_card": 2}
    assert request.items[0].base_number is None
    assert submission.pending_drafts(session, people["mara"]) == []


def test_an_author_may_only_submit_kinds_their_role_edits(session, people) -> None:
    ruleset = make_ruleset(session, people["sam"], "retail", "when x offer rewards_card")
    with pytest.raises(ValidationFailed) as refused:
        submission.submit(
            session,
            author=people["mara"],
            title="Sneaky",
            description="",
            artifact_ids=[ruleset.id],
        )
    assert "artifacts" in refused.value.by_field()


@pytest.mark.parametrize(
    "title, ids, field",
    [
        ("", None, "title"),
        ("x" * 201, None, "title"),
        ("Fine", [], "artifacts"),
        ("Fine", ["nope"], "artifacts"),
    ],
)
def test_bad_submissions_are_refused_field_by_field(session, people, title, ids, field) -> None:
    offer = make_offer(session, people["mara"], "rewards_card")
    with pytest.raises(ValidationFailed) as refused:
        submission.submit(
            session,
            author=people["mara"],
            title=title,
            description="",
            artifact_ids=[offer.id] if ids is None else ids,
        )
    assert field in refused.value.by_field()
    session.rollback()
    assert session.scalar(select(ChangeRequest)) is None


def test_one_approval_approves_and_marks_the_revision_approved(session, people) -> None:
    offer = make_offer(session, people["mara"], "rewards_card")
    request = submit(session, people["mara"], offer)
    approve(session, request, people["rita"])
    assert request.status == "approved"
    assert session.get(Artifact, offer.id).approved_number == 1


@pytest.mark.parametrize("who", ["author", "co_author"])
def test_nobody_approves_their_own_change(session, people, who) -> None:
    omar = people["omar"]
    if who == "author":
        offer = make_offer(session, omar, "rewards_card")
        request = submit(session, omar, offer)
    else:
        offer = make_offer(session, people["mara"], "rewards_card")
        edit_offer(session, offer, omar, name="Omar was here")
        request = submit(session, people["mara"], offer)
    with pytest.raises(NotAllowed):
        verdicts.review(
            session,
            request,
            reviewer=omar,
            verdict="approve",
            body="",
            seen=approvals.pins_token(request),
        )
    assert request.status == "in_review"


def test_an_approval_from_a_stale_page_is_refused(session, people) -> None:
    offer = make_offer(session, people["mara"], "rewards_card")
    request = submit(session, people["mara"], offer)
    seen = approvals.pins_token(request)
    edit_offer(session, offer, people["mara"], name="Changed meanwhile")
    with pytest.raises(ValidationFailed) as refused:
        verdicts.review(
            session, request, reviewer=people["rita"], verdict="approve", body="", seen=seen
        )
    assert "seen" in refused.value.by_field()


def test_a_later_edit_voids_the_approval_and_sends_the_request_back(session, people) -> None:
    offer = make_offer(session, people["mara"], "rewards_card")
    request = submit(session, people["mara"], offer)
    approve(session, request, people["rita"])
    edit_offer(session, offer, people["mara"], name="After approval")
    session.refresh(request)
    assert request.status == "in_review"
    assert approvals.pins(request) == {"offer:rewards_card": 2}
    assert session.get(Artifact, offer.id).approved_number is None
    assert all(r.voided for r in session.scalars(select(Review)))
    assert (
        session.scalar(select(AuditEvent).where(AuditEvent.action == "change_request.reopened"))
        is not None
    )


def test_request_changes_then_fix_then_approve(session, people) -> None:
    offer = make_offer(session, people["mara"], "rewards_card")
    request = submit(session, people["mara"], offer)
    with pytest.raises(ValidationFailed):
        verdicts.review(
            session,
            request,
            reviewer=people["rita"],
            verdict="request_changes",
            body="",
            seen=approvals.pins_token(request),
        )
    verdicts.review(
        session,
        request,
        reviewer=people["rita"],
        verdict="request_changes",
        body="Headline too long",
        seen=approvals.pins_token(request),
    )
    session.commit()
    assert request.status == "changes_requested"
    edit_offer(session, offer, people["mara"], name="Shorter")
    session.refresh(request)
    assert request.status == "in_review"
    approve(session, request, people["rita"])
    assert request.status == "approved"
    assert session.get(Artifact, offer.id).approved_number == 2


def test_required_approvals_counts_distinct_reviewers(session, people) -> None:
    review_settings.set_required_approvals(session, "2", actor=people["alex"])
    session.commit()
    offer = make_offer(session, people["mara"], "rewards_card")
    request = submit(session, people["mara"], offer)
    approve(session, request, people["rita"])
    approve(session, request, people["rita"])
    assert request.status == "in_review"
    approve(session, request, people["ravi"])
    assert request.status == "approved"


@pytest.mark.parametrize("value", ["0", "6", "two", ""])
def test_required_approvals_must_be_between_one_and_five(session, people, value) -> None:
    with pytest.raises(ValidationFailed):
        review_settings.set_required_approvals(session, value, actor=people["alex"])
    assert review_settings.required_approvals(session) == 1


def test_an_artifact_is_in_at_most_one_open_request(session, people) -> None:
    offer = make_offer(session, people["mara"], "rewards_card")
    submit(session, people["mara"], offer)
    with pytest.raises(ValidationFailed):
        submission.submit(
            session, author=people["omar"], title="Again", description="", artifact_ids=[offer.id]
        )


def test_withdrawing_frees_the_drafts_and_drops_the_approval(session, people) -> None:
    offer = make_offer(session, people["mara"], "rewards_card")
    request = submit(session, people["mara"], offer)
    approve(session, request, people["rita"])
    with pytest.raises(NotAllowed):
        submission.withdraw(session, request, actor=people["omar"])
    submission.withdraw(session, request, actor=people["mara"])
    session.commit()
    assert request.status == "withdrawn"
    assert session.get(Artifact, offer.id).approved_number is None
    assert [a.id for a in submission.pending_drafts(session, people["mara"])] == [offer.id]


def test_line_comments_attach_to_an_item_line(session, people) -> None:
    offer = make_offer(session, people["mara"], "rewards_card")
    request = submit(session, people["mara"], offer)
    verdicts.comment(
        session, request, author=people["rita"], body="Typo here", artifact_id=offer.id, line=3
    )
    session.commit()
    view = review_reading.detail(session, request, viewer=people["rita"])
    assert [c.body for c in view.items[0].comments[3]] == ["Typo here"]
    for bad in (
        {"body": ""},
        {"body": "x", "artifact_id": 999},
        {"body": "x", "line": 2},
        {"body": "x", "artifact_id": offer.id, "line": "zero"},
    ):
        with pytest.raises(ValidationFailed):
            verdicts.comment(session, request, author=people["rita"], **bad)


def test_diff_lines_number_both_sides() -> None:
    lines = diffs.diff_lines("a\nb\nc", "a\nB\nc\nd")
    assert [(d.kind, d.old, d.new, d.text) for d in lines] == [
        ("context", 1, 1, "a"),
        ("delete", 2, None, "b"),
        ("add", None, 2, "B"),
        ("context", 3, 3, "c"),
        ("add", None, 4, "d"),
    ]


@pytest.mark.committed
def test_concurrent_edits_of_an_artifact_in_review_lose_nothing(app, session, people) -> None:
    """Editors race; every save that succeeds is in history and the request follows the head."""
    offer = make_offer(session, people["mara"], "rewards_card")
    request = submit(session, people["mara"], offer)
    approve(session, request, people["rita"])
    database = get_database(app)
    saved: list[str] = []
    lock = threading.Lock()

    def editor(n: int) -> None:
        for _attempt in range(20):
            own = database.session()
            try:
                target = own.get(Artifact, offer.id)
                body = {**artifacts.head(own, target).body, "name": f"edit {n}"}
                artifacts.save(
                    own,
                    target,
                    body=body,
                    base_number=target.head_number,
                    actor_id=people["mara"].id,
                )
                own.commit()
                with lock:
                    saved.append(f"edit {n}")
                return
            except EditConflict:
                own.rollback()
            finally:
                own.close()
        raise AssertionError(f"editor {n} never saved after 20 attempts")

    threads = [threading.Thread(target=editor, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    session.expire_all()
    fresh = session.get(Artifact, offer.id)
    names = [r.body["name"] for r in artifacts.history(session, fresh)][:-1]
    assert sorted(names) == sorted(saved) and len(saved) == 4
    request = session.get(ChangeRequest, request.id)
    assert approvals.pins(request) == {"offer:rewards_card": fresh.head_number}
    assert request.status == "in_review"


# --- the role x action matrix, through the pages and direct POSTs ----------------------


def _request_with_offer(session, people):
    offer = make_offer(session, people["mara"], "rewards_card")
    return submit(session, people["mara"], offer), offer


@pytest.mark.parametrize(
    "who, status",
    [
        ("mara", 403),
        ("sam", 403),
        ("alex", 403),
        ("rita", 302),
        ("omar", 302),
    ],
)
def test_only_reviewers_other_than_the_author_may_approve_by_post(
    app, session, people, who, status
) -> None:
    request, _ = _request_with_offer(session, people)
    client = sign_in_as(app.test_client(), people[who])
    response = post(
        client,
        f"/reviews/{request.id}/verdict",
        {"verdict": "approve", "seen": approvals.pins_token(request)},
    )
    assert response.status_code == status
    session.expire_all()
    expected = "approved" if status == 302 else "in_review"
    assert session.get(ChangeRequest, request.id).status == expected


def test_the_author_posting_an_approval_gets_403_and_nothing_changes(app, session, people) -> None:
    offer = make_offer(session, people["omar"], "rewards_card")
    request = submit(session, people["omar"], offer)
    client = sign_in_as(app.test_client(), people["omar"])
    page = client.get(f"/reviews/{request.id}")
    assert b"You cannot review a change you made" in page.data
    assert b'value="approve"' not in page.data
    response = post(
        client,
        f"/reviews/{request.id}/verdict",
        {"verdict": "approve", "seen": approvals.pins_token(request)},
    )
    assert response.status_code == 403
    assert session.scalar(select(Review)) is None


def test_a_stale_review_form_is_refused_with_422_and_a_message(app, session, people) -> None:
    request, _ = _request_with_offer(session, people)
    client = sign_in_as(app.test_client(), people["rita"])
    response = post(
        client,
        f"/reviews/{request.id}/verdict",
        {"verdict": "approve", "seen": "offer:rewards_card=99"},
    )
    assert response.status_code == 422
    assert b"edited after you opened it" in response.data


def test_a_refused_verdict_keeps_the_note_the_reviewer_wrote(app, session, people) -> None:
    request, _ = _request_with_offer(session, people)
    client = sign_in_as(app.test_client(), people["rita"])
    response = post(
        client,
        f"/reviews/{request.id}/verdict",
        {
            "verdict": "request_changes",
            "body": "Shorter headline, please.",
            "seen": "offer:rewards_card=99",
        },
    )
    assert response.status_code == 422
    assert b"Shorter headline, please.</textarea>" in response.data


def test_review_page_shows_diff_rendered_preview_and_conversation(app, session, people) -> None:
    request, offer = _request_with_offer(session, people)
    client = sign_in_as(app.test_client(), people["rita"])
    post(
        client,
        f"/reviews/{request.id}/comments",
        {"body": "Looks good", "artifact_id": offer.id, "line": "2"},
    )
    page = client.get(f"/reviews/{request.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Rendered, before and after" in html and "Looks good" in html
    assert 'class="diff"' in html and 'name="seen"' in html
    frame = client.get(f"/reviews/{request.id}/render/{request.items[0].id}/after")
    assert frame.status_code == 200
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert (
        client.get(f"/reviews/{request.id}/render/{request.items[0].id}/before").status_code == 404
    )


def test_submitting_through_the_page_and_bad_input_is_a_422(app, session, people) -> None:
    offer = make_offer(session, people["mara"], "rewards_card")
    client = sign_in_as(app.test_client(), people["mara"])
    assert (
        b"Rewards card" in client.get("/reviews/new").data
        or b"rewards_card" in client.get("/reviews/new").data
    )
    bad = post(client, "/reviews/new", {"title": "", "artifact": str(offer.id)})
    assert bad.status_code == 422
    assert session.scalar(select(ChangeRequest)) is None
    good = post(client, "/reviews/new", {"title": "Launch", "artifact": str(offer.id)})
    assert good.status_code == 302


def test_withdraw_asks_for_confirmation_and_only_the_author_may(app, session, people) -> None:
    request, _ = _request_with_offer(session, people)
    other = sign_in_as(app.test_client(), people["omar"])
    assert other.get(f"/reviews/{request.id}/withdraw").status_code == 403
    assert post(other, f"/reviews/{request.id}/withdraw").status_code == 403
    author = sign_in_as(app.test_client(), people["mara"])
    assert b"Withdraw" in author.get(f"/reviews/{request.id}/withdraw").data
    assert post(author, f"/reviews/{request.id}/withdraw").status_code == 302
    session.expire_all()
    assert session.get(ChangeRequest, request.id).status == "withdrawn"


@pytest.mark.parametrize("who, status", [("alex", 200), ("rita", 403), ("mara", 403)])
def test_only_admins_change_the_required_approvals(app, session, people, who, status) -> None:
    client = sign_in_as(app.test_client(), people[who])
    assert client.get("/reviews/settings").status_code == status
    response = post(client, "/reviews/settings", {"required_approvals": "2"})
    assert response.status_code == (302 if status == 200 else 403)
    assert review_settings.required_approvals(session) == (2 if status == 200 else 1)
    if status == 200:
        assert post(client, "/reviews/settings", {"required_approvals": "9"}).status_code == 422


def test_history_and_compare_pages_show_every_revision(app, session, people) -> None:
    offer = make_offer(session, people["mara"], "rewards_card")
    edit_offer(session, offer, people["mara"], name="Second")
    edit_offer(session, offer, people["mara"], name="Third")
    client = sign_in_as(app.test_client(), people["mara"])
    page = client.get("/history/offer/rewards_card")
    assert page.status_code == 200 and b"changes from 2" in page.data
    cmp = client.get("/history/offer/rewards_card/compare?a=1&b=3")
    assert cmp.status_code == 200 and b"Third" in cmp.data
    assert client.get("/history/offer/rewards_card/compare?a=1&b=9").status_code == 404
    assert client.get("/history/offer/rewards_card/compare?a=x&b=1").status_code == 404
    assert client.get("/history/offer/nope").status_code == 404
    lead = sign_in_as(app.test_client(), people["sam"])
    assert lead.get("/history/offer/rewards_card").status_code == 403


def test_comments_from_the_page_are_stored_and_bad_ones_are_422(app, session, people) -> None:
    request, _ = _request_with_offer(session, people)
    client = sign_in_as(app.test_client(), people["sam"])
    assert post(client, f"/reviews/{request.id}/comments", {"body": ""}).status_code == 422
    assert post(client, f"/reviews/{request.id}/comments", {"body": "Why?"}).status_code == 302
    assert [c.body for c in session.scalars(select(Comment))] == ["Why?"]
    outsider = sign_in_as(app.test_client(), people["alex"])
    assert post(outsider, f"/reviews/{request.id}/comments", {"body": "x"}).status_code == 403


def test_the_conflict_partial_shows_both_versions_and_their_diff(app, session, people) -> None:
    from flask import render_template

    offer = make_offer(session, people["mara"], "rewards_card")
    edit_offer(session, offer, people["omar"], name="Omar's name")
    with pytest.raises(EditConflict) as conflict:
        artifacts.save(
            session, offer, body={"name": "Mara's name"}, base_number=1, actor_id=people["mara"].id
        )
    mine = artifacts.body_text({"name": "Mara's name"})
    with app.test_request_context():
        html = render_template("_conflict.html", conflict=conflict_box(conflict.value, mine=mine))
    assert "Someone else saved this" in html and "Omar" in html
    assert "Mara&#39;s name" in html and 'class="diff"' in html


def _huge_ruleset(rules: int) -> str:
    return "\n".join(
        f'rule "Rule {n}"\n  when customer.tier is gold\n  offer realtime_contact\n'
        for n in range(rules)
    )


def test_a_huge_change_shows_a_bounded_page_with_a_download_of_the_whole_diff(
    app, session, people
) -> None:
    from studio.services import review_diffs

    source = _huge_ruleset(3_000)
    ruleset = make_ruleset(session, people["sam"], "huge", source)
    request = submit(session, people["sam"], ruleset, title="Huge")
    client = sign_in_as(app.test_client(), people["rita"])
    page = client.get(f"/reviews/{request.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert len(page.data) < 1_000_000
    shown = review_diffs.bounded_diff(None, source).shown_lines
    assert review_diffs.MAX_SHOWN_LINES - 1 <= shown <= review_diffs.MAX_SHOWN_LINES
    assert html.count('class="diff-add"') == shown
    assert "more diff lines are not shown here" in html
    assert '<details class="diff-hunk">' in html
    assert 'name="line"' not in html  # line comment forms load on demand
    item = request.items[0]
    download = client.get(f"/reviews/{request.id}/items/{item.id}/diff.txt")
    assert download.status_code == 200 and download.mimetype == "text/plain"
    assert "attachment" in download.headers["Content-Disposition"]
    text = download.get_data(as_text=True)
    assert sum(
        1 for line in text.splitlines() if line.startswith("+") and not line.startswith("+++")
    ) == len(source.splitlines())


def test_line_comment_forms_load_on_demand_and_the_comment_lands_on_the_line(
    app, session, people
) -> None:
    offer = make_offer(session, people["mara"], "rewards_card")
    request = submit(session, people["mara"], offer)
    client = sign_in_as(app.test_client(), people["rita"])
    html = client.get(f"/reviews/{request.id}").get_data(as_text=True)
    link = f"/reviews/{request.id}/line-comment?artifact_id={offer.id}&amp;line=3"
    assert f'hx-get="{link}"' in html
    fragment = client.get(link.replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert b'name="line" value="3"' in fragment.data and b"<html" not in fragment.data
    full = client.get(link.replace("&amp;", "&"))
    assert b"<html" in full.data and b'name="line" value="3"' in full.data
    assert (
        post(
            client,
            f"/reviews/{request.id}/comments",
            {"artifact_id": str(offer.id), "line": "3", "body": "Why?"},
        ).status_code
        == 302
    )
    assert "on line 3" in client.get(f"/reviews/{request.id}").get_data(as_text=True)
    assert (
        client.get(f"/reviews/{request.id}/line-comment?artifact_id=999999&line=3").status_code
        == 404
    )


def test_an_edit_too_large_to_compare_on_the_page_says_so_and_offers_the_download() -> None:
    from studio.services import review_diffs

    before = _huge_ruleset(10_000)
    diff = review_diffs.bounded_diff(before, before.replace('Rule 5"', 'Rule five"'))
    assert not diff.compared and diff.hunks == [] and diff.old_lines > 20_000


def test_a_line_changed_only_by_trailing_spaces_shows_where_the_spaces_are(app) -> None:
    from flask import render_template_string

    from studio.services import diffs

    lines = diffs.diff_lines("rule a\npriority 60\n", "rule a\npriority 60   \n")
    row = '{% from "reviews/_diff.html" import diff_row %}{{ diff_row(line) }}'
    with app.test_request_context():
        shown = {
            line.kind: render_template_string(row, line=line)
            for line in lines
            if line.kind in ("add", "delete", "context")
        }
    assert (
        '<span class="ws-trailing" title="Spaces at the end of the line">   </span>' in shown["add"]
    )
    assert "ws-trailing" not in shown["delete"] and "ws-trailing" not in shown["context"]


def test_a_review_links_to_the_history_only_for_those_who_may_open_it(app, session, people) -> None:
    ruleset = make_ruleset(
        session, people["sam"], "retail_banking", "never offer when tone is distressed\n"
    )
    request = submit(session, people["sam"], ruleset)
    history = b'href="/history/ruleset/retail_banking"'
    for who, linked in (("sam", True), ("rita", True), ("mara", False)):
        client = sign_in_as(app.test_client(), people[who])
        page = client.get(f"/reviews/{request.id}")
        assert page.status_code == 200
        assert (history in page.data) is linked, who
        if not linked:  # the link would have been a 403
            assert client.get("/history/ruleset/retail_banking").status_code == 403


@pytest.mark.parametrize(
    "verdict, body, says",
    [
        ("approve", "", "The request is approved: it can be published now."),
        ("request_changes", "Shorter headline.", "Changes are requested: the author sees"),
    ],
)
def test_after_a_verdict_the_reviewer_reads_what_happens_next(
    app, session, people, verdict: str, body: str, says: str
) -> None:
    request, _ = _request_with_offer(session, people)
    client = sign_in_as(app.test_client(), people["rita"])
    response = post(
        client,
        f"/reviews/{request.id}/verdict",
        {"verdict": verdict, "body": body, "seen": approvals.pins_token(request)},
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert says in page and "is now changes requested" not in page


def test_requesting_changes_without_a_note_marks_the_note_field(app, session, people) -> None:
    request, _ = _request_with_offer(session, people)
    client = sign_in_as(app.test_client(), people["rita"])
    response = post(
        client,
        f"/reviews/{request.id}/verdict",
        {"verdict": "request_changes", "body": "", "seen": approvals.pins_token(request)},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true" autofocus' in page
    assert '<p class="error" id="verdict-body-error">Say what needs to change.</p>' in page
    assert '<a href="#verdict-body">Say what needs to change.</a>' in page
