"""A customer's own links for one message: the page, the eleven NPS score links, and
the narrow-cast surveys it asks.

The studio mints a message's token and signs its score links; this library only places
them, so every variant rendered for that message (email, SMS, chat, message center)
leads to the same page. Without a message (a preview in the studio) the channel
renderer falls back to relative placeholder links.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup, escape

NPS_SCORES = tuple(range(11))


@dataclass(frozen=True, slots=True)
class MessageLinks:
    """`page` is the absolute `/m/<token>` URL; `nps_scores` holds the signed one-click
    link for each score 0-10, or nothing when this customer is not to be asked now
    (the survey is switched off, or they were asked recently)."""

    page: str
    nps_scores: tuple[str, ...] = ()
    #: Keys of the narrow-cast surveys this message asks, strongest rule first.
    surveys: tuple[str, ...] = ()

    @property
    def survey(self) -> bool:
        return len(self.nps_scores) == len(NPS_SCORES)

    def nps(self, score: int | None = None) -> str:
        """The score's one-click link, or the page's survey when no score is named."""
        if self.survey and isinstance(score, int) and score in NPS_SCORES:
            return self.nps_scores[score]
        return f"{self.page}#nps" if self.survey else self.page

    def survey_page(self, key: str | None = None) -> str:
        """The link to one asked survey (the first when no key is named), or "" when this
        message asks no such survey, so a template can test `{% if survey_url() %}`."""
        chosen = key if key is not None else (self.surveys[0] if self.surveys else None)
        if chosen is None or chosen not in self.surveys:
            return ""
        return f"{self.page}/survey/{chosen}"


def nps_survey_html(score_url: Callable[[int], str], *, asked: bool = True) -> Markup:
    """The one-question survey as email-safe HTML: eleven score links in a row that
    wraps on a narrow screen.

    `score_url(score)` gives each link. Inline styles only, since email clients drop
    style sheets; the scale's ends are labelled in words for screen readers and for
    readers who see no colour. The derived plain text keeps every link.
    """
    if not asked:
        return Markup("")
    links = " ".join(
        f'<a href="{escape(score_url(score))}" title="{score} out of 10" '
        'style="display:inline-block;min-width:28px;padding:6px 4px;margin:0 2px 4px 0;'
        "border:1px solid #9aa5b1;border-radius:4px;color:#1f2933;text-align:center;"
        f'text-decoration:none;font-weight:bold">{score}</a>'
        for score in NPS_SCORES
    )
    return Markup(
        '<p style="margin:8px 0 6px;font-weight:bold">'
        "How likely are you to recommend us to a friend?</p>"
        f'<p style="margin:0">{links}</p>'
        '<p style="margin:2px 0 8px;font-size:12px;color:#52606d">'
        "0 = not at all likely, 10 = extremely likely</p>"
    )
