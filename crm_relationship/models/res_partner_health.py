import json

from markupsafe import Markup

from odoo import api, fields, models

from .groups import MONEY_GROUPS
from .res_partner import HEALTH_BANDS


class ResPartner(models.Model):
    """Predictive figures, the explainable health score and the relationship
    history of a customer, per company (written by the classification)."""

    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    probability_alive = fields.Float(
        "Probability active",
        company_dependent=True,
        index=False,
        readonly=True,
        digits=(16, 4),
        help="Predictive method: probability that the customer still buys from "
        "the company (BG/NBD), from its purchase days.",
    )
    predicted_purchases = fields.Float(
        company_dependent=True,
        index=False,
        readonly=True,
        digits=(16, 2),
        help="Predictive method: purchases expected in the next 12 months.",
    )
    relationship_expected_spend = fields.Float(
        "Expected spend per purchase",
        company_dependent=True,
        index=False,
        readonly=True,
        groups=MONEY_GROUPS,
        help="Predictive method: untaxed amount a purchase of this customer is "
        "expected to bring (Gamma-Gamma), in company currency.",
    )
    relationship_likely_lost = fields.Boolean(
        "Likely lost",
        company_dependent=True,
        index=False,
        readonly=True,
        help="Predictive method: the probability of being still active is below "
        "the company's threshold.",
    )
    health_score = fields.Integer(
        company_dependent=True,
        index=False,
        readonly=True,
        aggregator="avg",
        help="0 to 100: weighted mean of activity, trend, care, service and "
        "satisfaction, over the components with data.",
    )
    health_band = fields.Selection(
        HEALTH_BANDS, company_dependent=True, index=False, readonly=True
    )
    health_score_change = fields.Integer(
        "Health change",
        company_dependent=True,
        index=False,
        readonly=True,
        aggregator=False,
        help="Change of the health score since the previous classification that "
        "moved it.",
    )
    health_components = fields.Char(
        company_dependent=True,
        index=False,
        readonly=True,
        help="Technical: the health score's components.",
    )
    health_breakdown = fields.Html(compute="_compute_health_breakdown", sanitize=False)
    relationship_history_ids = fields.One2many(
        "crm.relationship.history", "partner_id", "Relationship history"
    )

    @api.depends_context("company", "lang")
    @api.depends("health_components")
    def _compute_health_breakdown(self):
        labels = {
            "activity": self.env._("Activity"),
            "trend": self.env._("Trend"),
            "care": self.env._("Care"),
            "service": self.env._("Service"),
            "satisfaction": self.env._("Satisfaction"),
        }
        for partner in self:
            components = json.loads(partner.health_components or "{}")
            if not components:
                partner.health_breakdown = False
                continue
            rows = Markup()
            for code, label in labels.items():
                score, weight, facts = components.get(code, (None, 0, {}))
                rows += Markup(
                    "<tr><td>%s</td><td class='text-end'>%s</td>"
                    "<td class='text-end'>%s</td><td>%s</td></tr>"
                ) % (
                    label,
                    "-" if score is None else round(score),
                    partner._relationship_number(weight, 2),
                    partner._health_sentence(code, score, facts),
                )
            partner.health_breakdown = Markup(
                "<table class='table table-sm o_health_breakdown'><thead><tr>"
                "<th>%s</th><th class='text-end'>%s</th><th class='text-end'>%s</th>"
                "<th>%s</th></tr></thead><tbody>%s</tbody></table>"
            ) % (
                self.env._("Component"),
                self.env._("Score"),
                self.env._("Weight"),
                self.env._("Why"),
                rows,
            )

    def _health_facts(self, code):
        """The facts behind the health component ``code`` at the last
        classification (``{}`` when it scored none): what the run read, for a
        reason that must agree with that run."""
        self.ensure_one()
        return json.loads(self.health_components or "{}").get(code, [None, 0, {}])[2]

    def _health_sentence(self, code, score, facts):
        """The fact behind a health component's score, in one sentence."""
        _ = self.env._
        if code == "activity":
            if "probability_alive" in facts:
                return _(
                    "Probability of still buying: %(percent)s %%.",
                    percent=self._relationship_number(
                        100 * facts["probability_alive"], 0
                    ),
                )
            if "recency_score" in facts:
                return _(
                    "Last purchase scores %(score)s of 5 for recency.",
                    score=facts["recency_score"],
                )
            return _("No purchase in the analysis window.")
        if code == "trend":
            if "change" in facts:
                change = round(100 * facts["change"])
                if change >= 0:
                    return _(
                        "Revenue up %(percent)s %% on the previous window.",
                        percent=self._relationship_number(change, 0),
                    )
                return _(
                    "Revenue down %(percent)s %% on the previous window.",
                    percent=self._relationship_number(-change, 0),
                )
            if facts.get("no_revenue"):
                return _("No revenue in this window nor in the previous one.")
            return _("First revenue in this window: no trend yet.")
        if code == "care":
            status = facts.get("care_status")
            if not status:
                return _("No care date planned.")
            return _(
                "Care is %(status)s.",
                status=dict(
                    self._fields["care_status"]._description_selection(self.env)
                ).get(status, status),
            )
        if code == "service":
            count = facts.get("overdue_complaints", 0)
            if not count:
                return _("No complaint open past its deadline.")
            return _("%(count)s complaint(s) open past their deadline.", count=count)
        answers = facts.get("csat_count", 0) + facts.get("nps_count", 0)
        if not answers:
            return _("No survey answer in the analysis window.")
        return _(
            "Mean of %(count)s survey answer(s) in the analysis window.",
            count=answers,
        )
