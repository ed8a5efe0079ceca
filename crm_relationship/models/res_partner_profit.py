from odoo import fields, models

from .groups import MONEY_GROUPS


class ResPartner(models.Model):
    """The profitability of a customer over the analysis window, per company
    (docs/rules.md, Profit; written by the classification)."""

    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    period_margin = fields.Float(
        "Margin (window)",
        company_dependent=True,
        index=False,
        readonly=True,
        groups=MONEY_GROUPS,
        help="Gross margin of the analysis window in company currency: the "
        "revenue times the margin rate, or the Margin of the Invoicing report "
        "(revenue minus the products' cost) when the company measures margins "
        "by product cost.",
    )
    period_cost_to_serve = fields.Float(
        "Cost to serve (window)",
        company_dependent=True,
        index=False,
        readonly=True,
        groups=MONEY_GROUPS,
        help="What serving the customer cost in the analysis window: each "
        "interaction at its channel's cost, each complaint at the complaint "
        "handling cost.",
    )
    period_profit = fields.Float(
        "Profit (window)",
        company_dependent=True,
        index=False,
        readonly=True,
        groups=MONEY_GROUPS,
        help="Margin minus cost to serve, in the analysis window.",
    )
    is_unprofitable = fields.Boolean(
        "Unprofitable",
        company_dependent=True,
        index=False,
        readonly=True,
        help="Bought in the analysis window but cost more to serve than the "
        "margin it brought.",
    )
