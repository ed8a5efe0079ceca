from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.translate import LazyTranslate

from ..tools import profit, tiering

_lt = LazyTranslate(__name__)

RELATIONSHIP_LEVELS = [
    ("basic", "Basic"),
    ("reactive", "Reactive"),
    ("accountable", "Accountable"),
    ("proactive", "Proactive"),
    ("partnership", "Partnership"),
]

# code: (name, vals); names are lazy terms so that every installed language
# gets its own on creation (the tiers are per company, not XML data).
DEFAULT_TIERS = {
    "vip": (
        _lt("VIP"),
        {
            "sequence": 10,
            "top_percent": 1.0,
            "relationship_level": "partnership",
            "contact_interval_days": 14,
            "response_hours": 4,
            "color": 3,
        },
    ),
    "large": (
        _lt("Large"),
        {
            "sequence": 20,
            "top_percent": 5.0,
            "relationship_level": "proactive",
            "contact_interval_days": 30,
            "response_hours": 8,
            "color": 10,
        },
    ),
    "medium": (
        _lt("Medium"),
        {
            "sequence": 30,
            "top_percent": 20.0,
            "relationship_level": "accountable",
            "contact_interval_days": 60,
            "response_hours": 24,
            "color": 4,
        },
    ),
    "small": (
        _lt("Small"),
        {
            "sequence": 40,
            "top_percent": 100.0,
            "relationship_level": "reactive",
            "contact_interval_days": 90,
            "response_hours": 48,
            "color": 2,
        },
    ),
    "inactive": (
        _lt("Inactive"),
        {
            "sequence": 50,
            "tier_type": "inactive",
            "relationship_level": "basic",
            "contact_interval_days": 180,
            "response_hours": 72,
            "color": 1,
        },
    ),
    "potential": (
        _lt("Potential"),
        {
            "sequence": 60,
            "tier_type": "potential",
            "relationship_level": "basic",
            "contact_interval_days": 30,
            "response_hours": 72,
            "color": 7,
        },
    ),
}


class CrmRelationshipTier(models.Model):
    _name = "crm.relationship.tier"
    _description = "Customer Tier"
    _order = "company_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True,
        help="Stable technical code used by rules and reports (vip, large, ...).",
    )
    sequence = fields.Integer(
        default=10, help="Revenue tiers are tried in this order; the first match wins."
    )
    tier_type = fields.Selection(
        [
            ("revenue", "By revenue"),
            ("inactive", "Inactive customers"),
            ("potential", "Prospects"),
        ],
        required=True,
        default="revenue",
        help="By revenue: customers whose revenue in the window reaches the threshold."
        "\nInactive customers: bought before, but no positive revenue in the window."
        "\nProspects: never bought, but have opportunities or a customer role.",
    )
    threshold_type = fields.Selection(
        [("amount", "Minimum revenue"), ("top_percent", "Top percent of customers")],
        default="top_percent",
        help="Minimum revenue: revenue in the window at least the amount."
        "\nTop percent: among the customers ranked by revenue, within the top share.",
    )
    min_amount = fields.Monetary(
        "Minimum revenue", currency_field="currency_id", aggregator=False
    )
    top_percent = fields.Float("Top %", default=100.0, aggregator=False)
    relationship_level = fields.Selection(
        RELATIONSHIP_LEVELS,
        "Recommended relationship level",
        required=True,
        default="basic",
    )
    contact_interval_days = fields.Integer(
        "Contact every (days)",
        default=90,
        help="Service standard: days between two care interactions.",
    )
    response_hours = fields.Integer(
        "Respond within (hours)",
        default=48,
        help="Service standard: deadline to answer feedback and complaints.",
    )
    color = fields.Integer()
    description = fields.Text(translate=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    active = fields.Boolean(default=True)
    partner_count = fields.Integer("Customers", compute="_compute_partner_count")
    level_rule = fields.Selection(
        [("fixed", "Fixed level"), ("kotler", "Kotler's matrix")],
        "Level by",
        required=True,
        default="fixed",
        help="Fixed: the tier's customers get its recommended relationship level. "
        "Kotler's matrix: the level that the tier's number of customers and "
        "their profit call for, as of the last classification.",
    )
    # --- Kotler's matrix as of the last company-wide classification ---
    kotler_customer_count = fields.Integer("Customers (Kotler)", readonly=True)
    kotler_share = fields.Float(
        "Share of customers (%)",
        readonly=True,
        digits=(16, 2),
        aggregator=False,
        help="The tier's customers among the customers with revenue in the window.",
    )
    kotler_count_class = fields.Selection(
        [("few", "Few"), ("medium", "Medium"), ("many", "Many")],
        "Number of customers",
        readonly=True,
    )
    kotler_margin_class = fields.Selection(
        [("high", "High"), ("medium", "Medium"), ("low", "Low")],
        "Margin",
        readonly=True,
        help="Profit per customer of the tier against the company's average.",
    )
    kotler_level = fields.Selection(
        RELATIONSHIP_LEVELS,
        "Level by Kotler's matrix",
        readonly=True,
        help="Empty when there is no class: no customer in the tier, or no "
        "profit in the company; the tier's own level applies then.",
    )
    kotler_date = fields.Date("Kotler's matrix as of", readonly=True)

    _sql_constraints = [
        (
            "code_company_uniq",
            "unique(code, company_id)",
            "A tier code must be unique within a company.",
        ),
    ]

    def _compute_partner_count(self):
        counts = {}
        for company in self.company_id:
            partners = self.env["res.partner"].with_company(company)
            counts.update(
                (tier.id, count)
                for tier, count in partners._read_group(
                    [
                        ("relationship_tier_id", "in", self.ids),
                        ("parent_id", "=", False),
                    ],
                    ["relationship_tier_id"],
                    ["__count"],
                )
            )
        for tier in self:
            tier.partner_count = counts.get(tier.id, 0)

    @api.constrains("min_amount", "top_percent", "threshold_type", "tier_type")
    def _check_thresholds(self):
        for tier in self.filtered(lambda t: t.tier_type == "revenue"):
            if tier.threshold_type == "amount" and tier.min_amount < 0:
                raise ValidationError(
                    self.env._(
                        "The minimum revenue of tier %(tier)s cannot be negative.",
                        tier=tier.name,
                    )
                )
            if tier.threshold_type == "top_percent" and not 0 < tier.top_percent <= 100:
                raise ValidationError(
                    self.env._(
                        "The top percent of tier %(tier)s must be above 0 and at "
                        "most 100.",
                        tier=tier.name,
                    )
                )
            if not tier.threshold_type:
                raise ValidationError(
                    self.env._("Tier %(tier)s needs a threshold type.", tier=tier.name)
                )

    @api.constrains("contact_interval_days", "response_hours")
    def _check_service_standard(self):
        for tier in self:
            if tier.contact_interval_days <= 0 or tier.response_hours <= 0:
                raise ValidationError(
                    self.env._(
                        "The contact interval and the response time of tier %(tier)s "
                        "must be positive.",
                        tier=tier.name,
                    )
                )

    @api.constrains(
        "sequence", "min_amount", "top_percent", "threshold_type", "tier_type", "active"
    )
    def _check_revenue_tier_order(self):
        if self.env.context.get("crm_relationship_defer_tier_check"):
            return
        for company in self.company_id:
            tiers = self.search(
                [("company_id", "=", company.id), ("tier_type", "=", "revenue")]
            )
            unreachable = tiering.unreachable_tier(tiers._to_revenue_rules())
            if unreachable:
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s can never be reached: a tier before it in the "
                        "sequence already takes every customer it would take. Raise "
                        "its threshold above the previous tiers' or move it up.",
                        tier=unreachable.key.name,
                    )
                )

    @api.constrains("tier_type", "active", "company_id")
    def _check_single_special_tier(self):
        for tier in self.filtered(lambda t: t.tier_type != "revenue" and t.active):
            if self.search_count(
                [
                    ("company_id", "=", tier.company_id.id),
                    ("tier_type", "=", tier.tier_type),
                    ("id", "!=", tier.id),
                ]
            ):
                raise ValidationError(
                    self.env._(
                        "A company has a single active tier of type %(type)s.",
                        type=dict(
                            self._fields["tier_type"]._description_selection(self.env)
                        )[tier.tier_type],
                    )
                )

    @api.readonly
    def action_view_partners(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_relationship.res_partner_action_customers"
        )
        action["domain"] = [("relationship_tier_id", "=", self.id)]
        action["context"] = {"allowed_company_ids": self.company_id.ids}
        return action

    def _kotler_store(self, classes, as_of):
        """Keep the ``{tier id: tools.profit.KotlerClass}`` of a full
        classification as of ``as_of`` on the tiers of ``self``."""
        for tier in self:
            found = classes.get(tier.id)
            vals = {
                "kotler_customer_count": found.customers if found else 0,
                "kotler_share": (found.share or 0.0) if found else 0.0,
                "kotler_count_class": found.count_class if found else False,
                "kotler_margin_class": found.margin_class if found else False,
                "kotler_level": found.level if found else False,
                "kotler_date": as_of,
            }
            if any(tier[fname] != value for fname, value in vals.items()):
                tier.write(vals)

    def _kotler_stored(self):
        """``{tier id: tools.profit.KotlerClass}`` of the revenue tiers of
        ``self`` as of the last full classification (partial runs)."""
        return {
            tier.id: profit.KotlerClass(
                customers=tier.kotler_customer_count,
                share=tier.kotler_share,
                count_class=tier.kotler_count_class or None,
                margin_class=tier.kotler_margin_class or None,
                level=tier.kotler_level or None,
            )
            for tier in self
            if tier.tier_type == "revenue" and tier.kotler_date
        }

    def _to_revenue_rules(self):
        """The revenue tiers of ``self`` in order, as pure ``RevenueTier`` rules."""
        return [
            tiering.RevenueTier(
                key=tier,
                threshold_type=tier.threshold_type,
                min_amount=tier.min_amount,
                top_percent=tier.top_percent,
            )
            for tier in self.sorted(lambda t: (t.sequence, t.id))
            if tier.tier_type == "revenue"
        ]

    @api.model
    def _create_default_tiers(self, companies=None):
        """Create the six default tiers in each of ``companies`` (default: all)
        that has none."""
        self = self.sudo()  # whoever creates a company gets its tiers
        if companies is None:
            companies = self.env["res.company"].search([])
        companies -= (
            self.with_context(active_test=False)
            .search([("company_id", "in", companies.ids)])
            .company_id
        )
        vals_list = [
            {
                "name": name._translate("en_US"),
                "code": code,
                "company_id": company.id,
                **vals,
            }
            for company in companies
            for code, (name, vals) in DEFAULT_TIERS.items()
        ]
        tiers = self.with_context(lang="en_US").create(vals_list)
        tiers._translate_default_names()
        return tiers

    def _translate_default_names(self, langs=None):
        """Give the default tiers of ``self`` (all when empty) their name in
        ``langs`` (default: every installed language), unless renamed."""
        langs = langs or [code for code, _name in self.env["res.lang"].get_installed()]
        tiers = self or self.sudo().with_context(active_test=False).search(
            [("code", "in", list(DEFAULT_TIERS))]
        )
        for tier in tiers.with_context(lang="en_US"):
            name = DEFAULT_TIERS.get(tier.code, (None,))[0]
            if name and tier.name == name._translate("en_US"):
                tier.update_field_translations(
                    "name", {lang: name._translate(lang) for lang in langs}
                )
