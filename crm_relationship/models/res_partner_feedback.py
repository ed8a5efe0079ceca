from collections import defaultdict

from odoo import api, fields, models

from .groups import USER_GROUP


class ResPartner(models.Model):
    """A customer's feedback and complaints, counted in one grouped read."""

    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    relationship_feedback_count = fields.Integer(
        "Feedback",
        compute="_compute_relationship_feedback_stats",
        groups=USER_GROUP,
    )
    relationship_open_complaint_count = fields.Integer(
        "Open complaints",
        compute="_compute_relationship_feedback_stats",
        groups=USER_GROUP,
    )
    relationship_csat_average = fields.Float(
        "Average satisfaction",
        digits=(3, 1),
        compute="_compute_relationship_feedback_stats",
        groups=USER_GROUP,
        help="Average CSAT (1 to 5) of the answered feedback.",
    )
    relationship_last_nps = fields.Integer(
        "Last recommendation score",
        compute="_compute_relationship_feedback_stats",
        groups=USER_GROUP,
        help="NPS answer (0 to 10) of the latest feedback that has one.",
    )
    relationship_has_nps = fields.Boolean(
        compute="_compute_relationship_feedback_stats",
        groups=USER_GROUP,
    )

    def _compute_relationship_feedback_stats(self):
        """Feedback figures of the commercial partners, in one grouped read.

        The arrays of a group share the same row order (by id), so scores and
        dates can be zipped.
        """
        rows = self.env["crm.relationship.feedback"]._read_group(
            [("partner_id", "in", self.commercial_partner_id.ids)],
            ["partner_id", "feedback_type", "is_closed"],
            [
                "__count",
                "csat_score:array_agg",
                "nps_score:array_agg",
                "nps_answered:array_agg",
                "date_received:array_agg",
                "id:array_agg",
            ],
        )
        stats = defaultdict(lambda: {"count": 0, "open": 0, "csat": [], "nps": []})
        for partner, ftype, closed, count, csats, npss, answered, dates, ids in rows:
            partner_stats = stats[partner.id]
            partner_stats["count"] += count
            if ftype == "complaint" and not closed:
                partner_stats["open"] += count
            partner_stats["csat"] += [score for score in csats if score]
            partner_stats["nps"] += [
                (date, fid, score)
                for score, given, date, fid in zip(
                    npss, answered, dates, ids, strict=True
                )
                if given
            ]
        for partner in self:
            partner_stats = stats.get(partner.commercial_partner_id.id)
            if not partner_stats:
                partner.relationship_feedback_count = 0
                partner.relationship_open_complaint_count = 0
                partner.relationship_csat_average = 0.0
                partner.relationship_last_nps = 0
                partner.relationship_has_nps = False
                continue
            csat = partner_stats["csat"]
            partner.relationship_feedback_count = partner_stats["count"]
            partner.relationship_open_complaint_count = partner_stats["open"]
            partner.relationship_csat_average = sum(csat) / len(csat) if csat else 0.0
            partner.relationship_last_nps = (
                max(partner_stats["nps"])[2] if partner_stats["nps"] else 0
            )
            partner.relationship_has_nps = bool(partner_stats["nps"])

    @api.readonly
    def action_view_relationship_feedback(self):
        self.ensure_one()
        customer = self.commercial_partner_id
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_relationship.crm_relationship_feedback_action"
        )
        action["domain"] = [("partner_id", "=", customer.id)]
        action["context"] = {"default_partner_id": self.id}
        return action
