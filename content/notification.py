"""The short notification email ("your answer is ready: <link>") from a marketer's layout.

A notification email layout is MJML like any email layout, compiled once on save; per
message only its Jinja runs. It places the customer's link (`message_center_url()`),
may greet the customer (`customer.first_name`) and link a survey (`survey_url()`); it
carries no offer. The subject is the layout's `<mj-title>` (the compiled `<title>`),
rendered like the body; a subject is one line, so line breaks in it are refused.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from typing import Any, Final

from markupsafe import Markup

from content.channels import RenderContext
from content.diagnostics import ContentError, Diagnostic
from content.links import nps_survey_html
from content.model import Layout
from content.plaintext import html_to_text
from content.templates import compile_template, render_template

DEFAULT_SUBJECT: Final = "Your answer is ready"
MAX_SUBJECT: Final = 200
_TITLE: Final = re.compile(r"<title[^>]*>(.*?)</title>", re.S | re.I)
_TAGS: Final = re.compile(r"<[^>]+>")


@dataclass(frozen=True, slots=True)
class Notification:
    subject: str
    html: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"subject": self.subject, "html": self.html, "text": self.text}


def _variables(context: RenderContext) -> dict[str, Any]:
    message = context.message

    def page(offer_key: str | None = None) -> str:
        return message.page if message is not None else context.message_center_url()

    def nps(score: int | None = None) -> str:
        return message.nps(score) if message is not None else context.nps_url(score=score)

    def survey(key: str | None = None) -> str:
        if message is not None:
            return message.survey_page(key if isinstance(key, str) else None)
        return context.message_center_url("surveys", key if isinstance(key, str) else "")

    def nps_block() -> Markup:
        return nps_survey_html(nps, asked=message is None or message.survey)

    return {
        "customer": context.customer,
        "inquiry": context.inquiry,
        "data": context.data,
        "offer": {},
        "message_center_url": page,
        "nps_url": nps,
        "nps_survey": nps_block,
        "survey_url": survey,
    }


def subject_of(html: str) -> str:
    """The rendered `<title>` as plain text, or the default subject when there is none."""
    found = _TITLE.search(html)
    raw = html_lib.unescape(_TAGS.sub("", found.group(1))).strip() if found else ""
    return raw or DEFAULT_SUBJECT


def render_notification(layout: Layout, context: RenderContext) -> Notification:
    """The notification for one message; raise `ContentError` if the layout cannot render
    or renders a subject with a line break or over 200 characters."""
    if layout.channel != "notification_email":
        raise ContentError.single(
            "layout-channel",
            f"layout '{layout.key}' is for {layout.channel}, not notification_email",
            field="layout",
        )
    template = compile_template(layout.compiled_html, name=f"layout:{layout.key}")
    html = render_template(template, _variables(context), limits=context.limits).text
    subject = subject_of(html)
    if "\n" in subject or "\r" in subject or len(subject) > MAX_SUBJECT:
        raise ContentError(
            [
                Diagnostic(
                    "notification-subject",
                    f"the subject must be one line of at most {MAX_SUBJECT} characters",
                    field="layout",
                    hint="keep <mj-title> on one line; data placed in it must not hold line breaks",
                )
            ]
        )
    return Notification(subject=subject, html=html, text=html_to_text(html))
