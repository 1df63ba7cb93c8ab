"""The short notification email: a marketer's MJML layout rendered with the message link."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.channels import RenderContext
from content.diagnostics import ContentError
from content.layouts import build_layout
from content.links import MessageLinks
from content.notification import DEFAULT_SUBJECT, render_notification

DEMO = Path(__file__).resolve().parents[2] / "studio" / "demo" / "layouts" / "notification.mjml"
PAGE = "https://studio.example/m/abcdefghijklmnopqrstuv"
BODY = """<mjml><mj-head><mj-title>{}</mj-title></mj-head><mj-body><mj-section><mj-column>
<mj-button href="{{{{ message_center_url() }}}}">Read</mj-button></mj-column></mj-section></mj-body></mjml>"""


def _layout(source: str):
    return build_layout("note", "Note", "notification_email", source)


def test_the_demo_notification_carries_the_link_subject_and_survey() -> None:
    context = RenderContext(
        customer={"first_name": "Ann"}, message=MessageLinks(page=PAGE, surveys=("new_branch",))
    )
    sent = render_notification(_layout(DEMO.read_text(encoding="utf-8")), context)
    assert sent.subject == "Ann, your answer is ready"
    assert f'href="{PAGE}"' in sent.html and f"{PAGE}/survey/new_branch" in sent.html
    assert f"({PAGE})" in sent.text


def test_without_a_survey_the_survey_sentence_is_left_out() -> None:
    sent = render_notification(
        _layout(DEMO.read_text(encoding="utf-8")), RenderContext(message=MessageLinks(page=PAGE))
    )
    assert "quick questions" not in sent.text and sent.subject == "Your answer is ready"


def test_a_layout_without_a_title_gets_the_default_subject() -> None:
    sent = render_notification(
        _layout(BODY.format("")), RenderContext(message=MessageLinks(page=PAGE))
    )
    assert sent.subject == DEFAULT_SUBJECT


def test_a_subject_that_renders_a_line_break_is_refused() -> None:
    layout = _layout(BODY.format("Hi {{ customer.first_name }}"))
    with pytest.raises(ContentError) as refused:
        render_notification(
            layout,
            RenderContext(
                customer={"first_name": "Ann\nBcc: x@y"}, message=MessageLinks(page=PAGE)
            ),
        )
    assert refused.value.diagnostics[0].code == "notification-subject"


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ("<p>{{ message_center_url() }}</p>", "layout-not-mjml"),
        (
            BODY.format("x").replace("{{ message_center_url() }}", "https://example.com"),
            "notification-no-link",
        ),
        (
            BODY.format("x").replace(
                "<mj-column>", "<mj-column><mj-raw><script>alert(1)</script></mj-raw>"
            ),
            "layout-forbidden-element",
        ),
    ],
)
def test_an_unsafe_or_linkless_notification_layout_is_refused_at_save(
    source: str, code: str
) -> None:
    with pytest.raises(ContentError) as refused:
        _layout(source)
    assert code in {d.code for d in refused.value.diagnostics}
