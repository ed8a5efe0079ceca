import re

from odoo import http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request
from odoo.tools import consteq
from odoo.tools.misc import get_lang

SURVEY_PAGE = "crm_relationship.feedback_survey_page"
# a survey comment is a few sentences; the page's textarea stops there too
COMMENT_MAX_LENGTH = 10000
SCORE_PATTERN = re.compile(r"\s*([0-9]{1,3})\s*", re.ASCII)


def parse_score(value):
    """The score the form posts ("0" to "10"), as an integer; None for anything
    else: no value, a file, a float, a sign, other digits than 0-9."""
    if not isinstance(value, str):
        return None
    match = SCORE_PATTERN.fullmatch(value)
    return int(match.group(1)) if match else None


class CrmRelationshipFeedbackSurvey(http.Controller):
    """Public satisfaction survey of a resolved feedback.

    The per-feedback access token is the only credential: a wrong token and an
    unknown id give the same 404, so the page never tells whether a feedback
    exists. An answer is stored once; a replay shows "already answered".
    """

    def _feedback_from_token(self, feedback_id, access_token):
        if not isinstance(access_token, str):  # a file posted as the token
            raise request.not_found()
        feedback = (
            request.env["crm.relationship.feedback"].sudo().browse(feedback_id).exists()
        )
        if not (
            feedback
            and access_token
            and feedback.access_token
            # as bytes: compare_digest refuses str with non-ASCII characters
            and consteq(feedback.access_token.encode(), access_token.encode())
        ):
            raise request.not_found()
        return feedback

    def _customer_lang(self, feedback):
        """The customer's language when it is still active, else the page's."""
        customer = feedback.contact_id or feedback.partner_id
        code = customer.lang and request.env["res.lang"]._get_code(customer.lang)
        return code or get_lang(request.env).code

    def _render_survey(self, feedback, state, status=200, **values):
        lang = self._customer_lang(feedback)
        html = (
            request.env["ir.ui.view"]
            .with_context(lang=lang)
            ._render_template(
                SURVEY_PAGE,
                {
                    "feedback": feedback.with_context(lang=lang),
                    "company": feedback.company_id,
                    "state": state,
                    "nps_range": range(11),
                    "csat_range": range(1, 6),
                    "comment_max_length": COMMENT_MAX_LENGTH,
                    **values,
                },
            )
        )
        return request.make_response(
            html, headers=[("Content-Type", "text/html; charset=utf-8")], status=status
        )

    @http.route(
        "/crm_relationship/feedback/<int:feedback_id>/survey",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=False,
        sitemap=False,
    )
    def feedback_survey(self, feedback_id, access_token=None, **post):
        feedback = self._feedback_from_token(feedback_id, access_token)
        if feedback.survey_answered_date:
            status = 409 if request.httprequest.method == "POST" else 200
            return self._render_survey(feedback, "answered", status=status)
        if request.httprequest.method != "POST":
            return self._render_survey(feedback, "form", access_token=access_token)

        env = feedback.with_context(lang=self._customer_lang(feedback)).env
        error = False
        nps_score = parse_score(post.get("nps_score"))
        csat_score = parse_score(post.get("csat_score"))
        comment = post.get("comment") or ""
        comment_is_text = isinstance(comment, str)  # not a file
        # PostgreSQL stores no NUL character, and no text needs one
        comment = comment.replace("\x00", "") if comment_is_text else ""
        if nps_score is None or csat_score is None:
            error = env._(
                "Please choose a recommendation score and a satisfaction score."
            )
        elif not comment_is_text:
            error = env._("Please write your comment as text.")
        elif len(comment) > COMMENT_MAX_LENGTH:
            error = env._(
                "Your comment is too long: %(max)s characters at most.",
                max=COMMENT_MAX_LENGTH,
            )
        if not error:
            try:
                feedback._apply_survey_answer(nps_score, csat_score, comment)
            except ValidationError as exc:
                error = exc.args[0]
            except UserError:
                return self._render_survey(feedback, "answered", status=409)
        if error:
            return self._render_survey(
                feedback,
                "form",
                status=400,
                access_token=access_token,
                error=error,
                comment=comment[:COMMENT_MAX_LENGTH],
            )
        return self._render_survey(feedback, "done")
