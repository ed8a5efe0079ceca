from odoo import http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request
from odoo.tools import consteq
from odoo.tools.misc import get_lang

SURVEY_PAGE = "crm_relationship.feedback_survey_page"


class CrmRelationshipFeedbackSurvey(http.Controller):
    """Public satisfaction survey of a resolved feedback.

    The per-feedback access token is the only credential: a wrong token and an
    unknown id give the same 404, so the page never tells whether a feedback
    exists. An answer is stored once; a replay shows "already answered".
    """

    def _feedback_from_token(self, feedback_id, access_token):
        feedback = (
            request.env["crm.relationship.feedback"].sudo().browse(feedback_id).exists()
        )
        if not (
            feedback
            and access_token
            and feedback.access_token
            and consteq(feedback.access_token, str(access_token))
        ):
            raise request.not_found()
        return feedback

    def _render_survey(self, feedback, state, status=200, **values):
        customer = feedback.contact_id or feedback.partner_id
        lang = customer.lang or get_lang(request.env).code
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

        customer = feedback.contact_id or feedback.partner_id
        env = feedback.with_context(lang=customer.lang).env
        error = False
        try:
            nps_score = int(post.get("nps_score", ""))
            csat_score = int(post.get("csat_score", ""))
        except ValueError:
            error = env._(
                "Please choose a recommendation score and a satisfaction score."
            )
        if not error:
            try:
                feedback._apply_survey_answer(
                    nps_score, csat_score, post.get("comment")
                )
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
                comment=post.get("comment", ""),
            )
        return self._render_survey(feedback, "done")
