from unittest.mock import patch

from lxml import etree

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from ..models.crm_relationship_whale_curve import ASCENT, CHAR_WIDTH, DESCENT
from ..tools import lifetime_value
from .common import CrmRelationshipCommon

# retention lifetime value factor with the defaults (fallback retention 0.6:
# fewer than 20 buyers of the previous window, discount 10 %, 5 years):
# 1/1.1 + 0.6/1.21 + 0.36/1.331 + 0.216/1.4641 + 0.1296/1.61051
# = 0.909091 + 0.495868 + 0.270473 + 0.147531 + 0.080471 = 1.903434
LTV_FACTOR = lifetime_value.retention_factor(0.6, 0.1, 5)


@tagged("post_install", "-at_install")
class TestProfit(CrmRelationshipCommon):
    """Margin, cost to serve, profit and lifetime profit of real posted
    invoices (docs/rules.md, Profit), as of 2026-06-30 with a
    12-month window (2025-06-30, 2026-06-30].

    Products (cost in the company): A 60 per unit; B 5 per unit, sold by the
    dozen; C 10 per kg, sold by the gram; D 99 per unit.
    - X: invoice 2026-03-10: A 3 x 100 = 300 (margin 300 - 180 = 120),
      B 2 dozens x 80 = 160 (160 - 24 x 5 = 40), C 1500 g x 0.03 = 45
      (45 - 1.5 x 10 = 30), a line without product 200 (200); credit note
      2026-04-15: A 1 x 100 (-(100 - 60) = -40); an invoice of 2025-03-01
      (outside the window): A 1 x 100 (40).
      R = 300 + 160 + 45 + 200 - 100 = 605; GM = 120 + 40 + 30 + 200 - 40 = 350;
      to date R = 705, GM = 390. Two phone calls in the window (one before)
      at 15, one complaint at 50: CS = 80; PR = 270.
    - Y: A 1 x 70 (2026-05-05): R 70, GM 10; one complaint: CS 50, PR -40.
    - Z: 1000 without product (2026-02-01): R = GM = PR = 1000.
    - W: D 20 x 100 (2026-01-15): R 2000, GM 2000 - 1980 = 20 = PR.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        uom = cls.env.ref
        cls.product_a = cls._product("Máy lọc nước", 60.0, uom("uom.product_uom_unit"))
        cls.product_b = cls._product("Ốc vít", 5.0, uom("uom.product_uom_unit"))
        cls.product_c = cls._product("Cà phê", 10.0, uom("uom.product_uom_kgm"))
        cls.product_d = cls._product("Hàng lỗ", 99.0, uom("uom.product_uom_unit"))
        cls.x = cls._customer("Công ty Biên Lợi")
        cls.y = cls._customer("Cửa hàng Tốn Kém")
        cls.z = cls._customer("Công ty Dịch Vụ")
        cls.w = cls._customer("Đại lý Doanh Số")
        cls._sale(
            cls.x,
            "2026-03-10",
            [
                (cls.product_a, 3, 100.0, None),
                (cls.product_b, 2, 80.0, uom("uom.product_uom_dozen")),
                (cls.product_c, 1500, 0.03, uom("uom.product_uom_gram")),
                (None, 1, 200.0, None),
            ],
        )
        cls._sale(cls.x, "2026-04-15", [(cls.product_a, 1, 100.0, None)], "out_refund")
        cls._sale(cls.x, "2025-03-01", [(cls.product_a, 1, 100.0, None)])
        cls._sale(cls.y, "2026-05-05", [(cls.product_a, 1, 70.0, None)])
        cls._sale(cls.z, "2026-02-01", [(None, 1, 1000.0, None)])
        cls._sale(cls.w, "2026-01-15", [(cls.product_d, 20, 100.0, None)])
        cls.phone = cls.env.ref("crm_relationship.crm_relationship_channel_phone")
        for day in ("2025-05-01", "2026-05-01", "2026-06-01"):
            cls.env["crm.relationship.interaction"].create(
                {
                    "summary": "Gọi điện",
                    "partner_id": cls.x.id,
                    "date": day,
                    "channel_id": cls.phone.id,
                }
            )
        for partner in (cls.x, cls.y):
            cls.env["crm.relationship.feedback"].sudo().create(
                {
                    "name": "Khiếu nại",
                    "partner_id": partner.id,
                    "feedback_type": "complaint",
                    "date_received": "2026-05-20 08:00:00",
                }
            )
        cls.employee = new_test_user(
            cls.env,
            login="profit_employee",
            groups="base.group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    @classmethod
    def _product(cls, name, cost, uom):
        product = cls.env["product.product"].create(
            {"name": name, "uom_id": uom.id, "uom_po_id": uom.id}
        )
        product.with_company(cls.company).standard_price = cost
        return product

    @classmethod
    def _sale(cls, partner, day, lines, move_type="out_invoice"):
        move = (
            cls.env["account.move"]
            .with_company(cls.company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": partner.id,
                    "invoice_date": day,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": product.name if product else "Dịch vụ",
                                "product_id": product.id if product else False,
                                "quantity": quantity,
                                "price_unit": price,
                                **({"product_uom_id": uom.id} if uom else {}),
                                "tax_ids": [Command.clear()],
                            }
                        )
                        for product, quantity, price, uom in lines
                    ],
                }
            )
        )
        move.action_post()
        return move

    def _set_costs(self, channel=15.0, complaint=50.0):
        self.phone.with_company(self.company).cost = channel
        self.company.relationship_complaint_cost = complaint

    def _report_margin(self, partner):
        """The Margin of Invoicing > Reporting for ``partner``, the company,
        the window and the customer invoices and credit notes."""
        groups = (
            self.env["account.invoice.report"]
            .with_company(self.company)
            .with_context(allowed_company_ids=self.company.ids)
            .read_group(
                [
                    ("commercial_partner_id", "=", partner.id),
                    ("company_id", "=", self.company.id),
                    ("state", "=", "posted"),
                    ("move_type", "in", ("out_invoice", "out_refund")),
                    ("invoice_date", ">", "2025-06-30"),
                    ("invoice_date", "<=", "2026-06-30"),
                ],
                ["price_margin:sum"],
                [],
            )
        )
        return groups[0]["price_margin"] or 0.0

    def test_margin_equals_the_invoicing_report(self):
        self.company.relationship_margin_source = "product_cost"
        self._recompute()
        for partner, margin in ((self.x, 350.0), (self.y, 10.0), (self.z, 1000.0)):
            with self.subTest(partner=partner.name):
                self.assertAlmostEqual(self._report_margin(partner), margin, places=2)
                self.assertAlmostEqual(partner.period_margin, margin, places=2)
        self.assertAlmostEqual(self.w.period_margin, 20.0, places=2)
        self.assertAlmostEqual(self._report_margin(self.w), 20.0, places=2)
        self.assertAlmostEqual(self.x.period_revenue, 605.0, places=2)

    def test_cost_to_serve_profit_and_unprofitable(self):
        self.company.relationship_margin_source = "product_cost"
        self._set_costs()
        self._recompute()
        # X: 2 calls x 15 + 1 complaint x 50 = 80; 350 - 80 = 270
        self.assertAlmostEqual(self.x.period_cost_to_serve, 80.0, places=2)
        self.assertAlmostEqual(self.x.period_profit, 270.0, places=2)
        self.assertFalse(self.x.is_unprofitable)
        # Y: 10 - 50 = -40
        self.assertAlmostEqual(self.y.period_profit, -40.0, places=2)
        self.assertTrue(self.y.is_unprofitable)
        self.assertEqual(
            self.env["res.partner"].search(
                [("is_unprofitable", "=", True), ("id", "in", self.all_ids())]
            ),
            self.y,
        )

    def all_ids(self):
        return (self.x | self.y | self.z | self.w).ids

    def test_lifetime_value_is_lifetime_profit(self):
        self.company.relationship_margin_source = "product_cost"
        self._set_costs()
        self._recompute()
        # m = PR * 12 / W = 270 a year: 270 * 1.903434 = 513.93
        self.assertAlmostEqual(self.x.lifetime_value, 270.0 * LTV_FACTOR, places=2)
        self.assertAlmostEqual(self.x.lifetime_value, 513.93, places=2)
        # a customer who loses money has a negative lifetime profit:
        # -40 * 1.903434 = -76.14
        self.assertAlmostEqual(self.y.lifetime_value, -76.14, places=2)

    def test_defaults_are_todays_figures(self):
        """Source rate, no cost: GM = 30 % of R, CS = 0, lifetime value as
        before (annual margin 0.3 R)."""
        self._recompute()
        # X: 605 * 0.3 = 181.5
        self.assertAlmostEqual(self.x.period_margin, 181.5, places=2)
        self.assertFalse(self.x.period_cost_to_serve)
        self.assertAlmostEqual(self.x.period_profit, 181.5, places=2)
        self.assertAlmostEqual(
            self.x.lifetime_value,
            lifetime_value.annual_margin(605.0, 12, 0.3) * LTV_FACTOR,
            places=2,
        )
        self.assertFalse(self.y.is_unprofitable)
        # the costs count whatever the margin source: Y 70 * 0.3 - 50 = -29
        self._set_costs()
        self._recompute()
        self.assertAlmostEqual(self.y.period_profit, -29.0, places=2)
        self.assertTrue(self.y.is_unprofitable)

    def test_tiers_by_profit(self):
        self.company.relationship_margin_source = "product_cost"
        self._set_costs()
        self._recompute()
        # by revenue: W 2000 is first of 4 buyers, vip = top ceil(4 * 1 %) = 1
        self.assertEqual(self.w.relationship_tier_id, self.tiers["vip"])
        self.assertEqual(self.z.relationship_tier_id, self.tiers["small"])
        self.company.relationship_tier_basis = "profit"
        self._recompute()
        # by profit: Z 1000 > X 270 > W 20 > Y -40
        self.assertEqual(self.z.relationship_tier_id, self.tiers["vip"])
        self.assertEqual(self.w.relationship_tier_id, self.tiers["small"])
        # the unprofitable customer ranks last but keeps a revenue tier
        self.assertEqual(self.y.relationship_tier_id, self.tiers["small"])
        self.assertEqual(self.y.with_company(self.company).relationship_revenue_rank, 4)
        # the rank read and the reason follow the basis: Z is first by profit
        z = self.z.with_company(self.company).with_context(lang="en_US")
        self.assertEqual(z.relationship_revenue_rank, 1)
        self.assertIn("Rank 1 by profit", z.relationship_tier_reason)

    def test_tiers_by_profit_with_amount_thresholds(self):
        """By profit, amount thresholds read the profit; a customer that
        reaches none still gets the last revenue tier."""
        self.company.relationship_margin_source = "product_cost"
        self.company.relationship_tier_basis = "profit"
        self._set_costs()
        tiers = self.tiers
        tiers["vip"].write({"threshold_type": "amount", "min_amount": 900.0})
        tiers["large"].write({"threshold_type": "amount", "min_amount": 200.0})
        tiers["medium"].write({"threshold_type": "amount", "min_amount": 100.0})
        tiers["small"].write({"threshold_type": "amount", "min_amount": 10.0})
        self._recompute()
        self.assertEqual(self.z.relationship_tier_id, tiers["vip"])  # 1000
        self.assertEqual(self.x.relationship_tier_id, tiers["large"])  # 270
        self.assertEqual(self.w.relationship_tier_id, tiers["small"])  # 20
        self.assertEqual(self.y.relationship_tier_id, tiers["small"])  # -40

    def test_kotler_levels(self):
        """By profit, 4 buyers earning 1000 + 270 + 20 - 40 = 1250 (312.5 each):
        vip holds Z (1 of 4 = 25 %: medium count; 1000 / 312.5 = 3.2 >= 2: high
        margin) -> proactive; large and medium nobody (no class); small holds
        X, W, Y (75 % >= 30 %: many; 250 / 3 = 83.33, / 312.5 = 0.27 <= 0.5:
        low) -> basic."""
        self.company.relationship_margin_source = "product_cost"
        self.company.relationship_tier_basis = "profit"
        self._set_costs()
        (self.tiers["vip"] | self.tiers["small"]).level_rule = "kotler"
        self.y.with_user(self.relationship_manager).write(
            {"relationship_level": "partnership", "relationship_level_locked": True}
        )
        self._recompute()
        vip, small, large = self.tiers["vip"], self.tiers["small"], self.tiers["large"]
        self.assertEqual(
            (
                vip.kotler_customer_count,
                vip.kotler_share,
                vip.kotler_count_class,
                vip.kotler_margin_class,
                vip.kotler_level,
            ),
            (1, 25.0, "medium", "high", "proactive"),
        )
        self.assertEqual(
            (small.kotler_customer_count, small.kotler_share, small.kotler_level),
            (3, 75.0, "basic"),
        )
        self.assertEqual(
            (small.kotler_count_class, small.kotler_margin_class), ("many", "low")
        )
        self.assertEqual(vip.kotler_date, self.as_of)
        self.assertEqual(large.kotler_customer_count, 0)
        self.assertFalse(large.kotler_level)
        self.assertEqual(self.z.relationship_level, "proactive")
        self.assertEqual(self.x.relationship_level, "basic")
        self.assertEqual(self.w.relationship_level, "basic")
        # set by hand: kept
        self.assertEqual(self.y.relationship_level, "partnership")
        # a partial run reads the tiers' figures of the last full run
        self.assertEqual(self._recompute(self.x), 0)
        self.assertEqual(self.x.relationship_level, "basic")
        # back to fixed: the tier's own level
        small.level_rule = "fixed"
        self._recompute()
        self.assertEqual(self.x.relationship_level, "reactive")

    def test_kotler_without_profit_keeps_the_fixed_level(self):
        """Total profit <= 0 (every customer costs more than its margin): no
        class, the fixed levels apply."""
        self.company.relationship_margin_source = "product_cost"
        self._set_costs(channel=1000.0, complaint=1000.0)
        self.tiers["small"].level_rule = "kotler"
        self.env["crm.relationship.interaction"].create(
            [
                {
                    "summary": "Thăm",
                    "partner_id": partner.id,
                    "date": "2026-06-01",
                    "channel_id": self.phone.id,
                }
                for partner in (self.z, self.w)
            ]
        )
        self._recompute()
        self.assertFalse(self.tiers["small"].kotler_level)
        self.assertEqual(self.x.relationship_level, "reactive")

    def test_money_fields_need_a_money_group(self):
        self._recompute()
        customer = self.x.with_user(self.employee)
        for fname in ("period_margin", "period_cost_to_serve", "period_profit"):
            with self.subTest(field=fname), self.assertRaises(AccessError):
                customer.read([fname])
        self.assertEqual(
            customer.read(["is_unprofitable"])[0]["is_unprofitable"], False
        )
        as_user = self.x.with_user(self.relationship_user)
        self.assertAlmostEqual(as_user.period_margin, 181.5, places=2)

    def test_profit_fields_are_server_owned(self):
        self._recompute()
        for fname, value in (("period_profit", 1.0), ("is_unprofitable", True)):
            with self.subTest(field=fname), self.assertRaises(AccessError):
                self.x.with_user(self.relationship_manager).write({fname: value})

    def test_bad_settings_are_refused(self):
        company = self.company
        for vals in (
            {"relationship_complaint_cost": -1.0},
            {"relationship_kotler_few_share": 30.0},  # = many share
            {"relationship_kotler_few_share": 0.0},
            {"relationship_kotler_many_share": 120.0},
            {"relationship_kotler_low_ratio": 2.0},  # = high ratio
            {"relationship_kotler_low_ratio": -0.1},
        ):
            with self.subTest(vals=vals):
                with self.assertRaises(ValidationError), self.env.cr.savepoint():
                    self.env["res.config.settings"].create(vals).execute()
                self.assertEqual(company.relationship_complaint_cost, 0.0)
                self.assertEqual(company.relationship_kotler_few_share, 5.0)
                self.assertEqual(company.relationship_kotler_many_share, 30.0)
                self.assertEqual(company.relationship_kotler_low_ratio, 0.5)
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.phone.with_company(company).cost = -5.0

    def test_bad_settings_are_refused_in_the_users_language(self):
        self.env["res.lang"]._activate_lang("vi_VN")
        settings = self.env["res.config.settings"].with_context(lang="vi_VN")
        with (
            self.assertRaisesRegex(
                ValidationError, "Chi phí xử lý khiếu nại không được âm"
            ),
            self.env.cr.savepoint(),
        ):
            settings.create({"relationship_complaint_cost": -1.0}).execute()
        with (
            self.assertRaisesRegex(ValidationError, "Ma trận Kotler cần"),
            self.env.cr.savepoint(),
        ):
            settings.create({"relationship_kotler_few_share": 40.0}).execute()
        self.assertEqual(self.company.relationship_complaint_cost, 0.0)
        self.assertEqual(self.company.relationship_kotler_few_share, 5.0)

    def test_margin_warning_without_product_costs(self):
        company = self.env["res.company"].create({"name": "Công ty Không Giá Vốn"})
        company.relationship_margin_source = "product_cost"
        self.assertFalse(self.company.relationship_margin_warning)
        self.env["product.product"].search([]).with_company(company).write(
            {"standard_price": 0.0}
        )
        company.invalidate_recordset(["relationship_margin_warning"])
        self.assertIn("margin equals the revenue", company.relationship_margin_warning)

    def _profit_world(self):
        self.company.relationship_margin_source = "product_cost"
        self._set_costs()

    def test_profit_kpis(self):
        """4 buyers, by profit Z 1000, X 270, W 20, Y -40 (total 1250); costs to
        serve X 80, Y 50."""
        self._profit_world()
        self.env["crm.relationship.kpi"]._recompute_kpis(
            as_of=self.as_of, company_ids=self.company.ids
        )
        values = {
            value.kpi_id.code: value.value
            for value in self.env["crm.relationship.kpi.value"].search(
                [
                    ("company_id", "=", self.company.id),
                    ("date", "=", self.as_of),
                    ("breakdown", "=", "total"),
                ]
            )
        }
        self.assertAlmostEqual(values["total_profit"], 1250.0, places=2)
        self.assertEqual(values["unprofitable_customers"], 1)
        # top ceil(20 % of 4) = 1 customer: 1000 / 1250
        self.assertAlmostEqual(values["top_20_profit_share"], 80.0, places=4)
        # cumulative 1000, 1270, 1290, 1250: peak 1290 / 1250
        self.assertAlmostEqual(values["whale_curve_peak"], 103.2, places=4)
        # (80 + 50 + 0 + 0) / 4
        self.assertAlmostEqual(values["average_cost_to_serve"], 32.5, places=4)

    def test_whale_curve(self):
        self._profit_world()
        self._recompute()
        curve = (
            self.env["crm.relationship.whale.curve"]
            .with_user(self.relationship_user)
            .create({})
        )
        self.assertEqual(curve.customer_count, 4)
        self.assertEqual(curve.unprofitable_count, 1)
        self.assertAlmostEqual(curve.peak, 103.2, places=4)
        self.assertAlmostEqual(curve.top_20_share, 80.0, places=4)
        # the peak is after 3 of 4 customers (75 %), 103.2 % of the profit
        self.assertEqual(
            curve.reading,
            "The top 75 % of customers earn 103.2 % of the profit; the customers "
            "after the peak lose 3.2 % of it.",
        )
        self.assertIn("<polyline", curve.chart)
        self.assertIn("100 % of the profit", curve.chart)
        action = curve.action_open()
        self.assertEqual(action["res_model"], "crm.relationship.whale.curve")
        # a plain employee has no curve
        with self.assertRaises(AccessError):
            self.env["crm.relationship.whale.curve"].with_user(self.employee).create({})

    def test_whale_curve_kept_by_the_run(self):
        """A company-wide run keeps the curve (opening it reads no customer); a
        run of one customer that changes its profit has it measured again."""
        self._profit_world()
        self._recompute()
        Curve = self.env["crm.relationship.whale.curve"].with_user(
            self.relationship_user
        )
        with patch.object(
            type(Curve), "_stored_profits", side_effect=AssertionError("read")
        ):
            curve = Curve.create({})
            self.assertEqual(curve.customer_count, 4)
            self.assertEqual(curve.unprofitable_count, 1)
            self.assertAlmostEqual(curve.peak, 103.2, places=4)
            # an email to Z (a channel without cost) moves its care dates, not
            # its profit: the curve kept stays
            self.env["crm.relationship.interaction"].create(
                {
                    "summary": "Thư cảm ơn",
                    "partner_id": self.z.id,
                    "date": "2026-06-20",
                    "channel_id": self.env.ref(
                        "crm_relationship.crm_relationship_channel_email"
                    ).id,
                }
            )
            self.assertEqual(self._recompute(self.z), 1)
            self.assertEqual(Curve.create({}).customer_count, 4)
        # Y buys 100 more without product: GM 10 + 100, CS 50, PR -40 -> 60
        self._sale(self.y, "2026-06-10", [(None, 1, 100.0, None)])
        self._recompute(self.y)
        curve = Curve.create({})
        self.assertEqual(curve.unprofitable_count, 0)
        # Z 1000, X 270, Y 60, W 20: the peak is the total, 1350
        self.assertAlmostEqual(curve.total_profit, 1350.0, places=2)
        self.assertAlmostEqual(curve.peak, 100.0, places=4)
        # Z alone: 1000 / 1350 = 74.07 %, to 0.1
        self.assertEqual(curve.top_20_share, 74.1)
        self.assertEqual(
            curve.reading,
            "No customer loses money: every customer adds to the profit.",
        )

    def test_whale_curve_reading_in_the_users_language(self):
        """The shares of the reading and the top % of a tier reason use the
        decimal separator of the user's language (Vietnamese: a comma)."""
        self._profit_world()
        self.tiers["vip"].top_percent = 2.5
        self._recompute()
        self.env["res.lang"]._activate_lang("vi_VN")
        Curve = self.env["crm.relationship.whale.curve"].with_user(
            self.relationship_user
        )
        english = Curve.with_context(lang="en_US").create({}).reading
        self.assertIn("103.2 %", english)
        self.assertIn("3.2 %", english)
        vietnamese = Curve.with_context(lang="vi_VN").create({}).reading
        self.assertIn("103,2 %", vietnamese)
        self.assertIn("3,2 %", vietnamese)
        self.assertNotIn("103.2", vietnamese)
        # W is first by revenue of 4 buyers: within the top 2.5 % (vip)
        self.assertEqual(self.w.relationship_tier_id, self.tiers["vip"])
        w = self.w.with_company(self.company)
        self.assertIn("2.5 %", w.with_context(lang="en_US").relationship_tier_reason)
        reason = w.with_context(lang="vi_VN").relationship_tier_reason
        self.assertIn("2,5 %", reason)
        self.assertNotIn("2.5", reason)

    def _level_label(self, points):
        """The whale curve's SVG of ``points`` parsed: (the 100 % label's box
        (left, top, right, bottom), its text, the y of the 100 % line, the
        curve's polyline [(x, y)]), in SVG units."""
        curve = (
            self.env["crm.relationship.whale.curve"]
            .with_user(self.relationship_user)
            .with_context(lang="en_US")
            .create({})
        )
        svg = etree.fromstring(str(curve._svg(points)))
        ns = {"svg": "http://www.w3.org/2000/svg"}
        [label] = svg.xpath("svg:text[@fill='#dc3545']", namespaces=ns)
        [level] = svg.xpath("svg:line[@stroke='#dc3545']", namespaces=ns)
        [polyline] = svg.xpath("svg:polyline", namespaces=ns)
        line = [
            tuple(float(value) for value in point.split(","))
            for point in polyline.get("points").split()
        ]
        x, y = float(label.get("x")), float(label.get("y"))
        width = len(label.text) * CHAR_WIDTH
        left = x - width if label.get("text-anchor") == "end" else x
        box = (left, y - ASCENT, left + width, y + DESCENT)
        return box, label.text, float(level.get("y1")), line

    def _curve_ys(self, line, left, right):
        """The y of the polyline ``line`` at every unit of x in [left, right]
        and at its vertices there."""
        xs = [left + step for step in range(int(right - left) + 1)] + [right]
        xs += [x for x, _y in line if left <= x <= right]
        ys = []
        for x in xs:
            for (x1, y1), (x2, y2) in zip(line, line[1:], strict=False):
                if x1 <= x <= x2 and x2 > x1:
                    ys.append(y1 + (y2 - y1) * (x - x1) / (x2 - x1))
        return ys

    def test_whale_curve_label_keeps_clear_of_the_curve(self):
        """The label of the 100 % line is never drawn across the curve: not
        where a peak or the way down to 100 % passes (right end, above the
        line), nor where the curve crosses the line."""
        curves = {
            # the peak after 3 of 4 customers, down to 100 % at the right
            "this company": [(0, 0), (25, 80), (50, 101.6), (75, 103.2), (100, 100)],
            "a high peak": [(0, 0), (25, 80), (50, 120), (75, 150), (100, 100)],
            "one whale": [(0, 0), (10, 300), (100, 100)],
            "nobody loses": [(0, 0), (25, 77), (50, 97.7), (75, 99.2), (100, 100)],
            # the peak late and just above the line: the right end is taken
            "a late peak": [(0, 0), (80, 95), (90, 103), (100, 100)],
        }
        places = {}
        for name, points in curves.items():
            with self.subTest(curve=name):
                box, text, y100, line = self._level_label(points)
                self.assertEqual(text, "100 % of the profit")
                left, top, right, bottom = box
                ys = self._curve_ys(line, left, right)
                self.assertTrue(ys)
                # half the curve's stroke (2.5) away from the text at least
                self.assertTrue(
                    all(y < top - 1.25 or y > bottom + 1.25 for y in ys),
                    f"the label {box} crosses the curve {line}",
                )
                places[name] = (round(left), bottom < y100)
        # where it was, at the right end above the line, when the curve
        # leaves room there; below the line when the way down takes it; at
        # the left end when the curve crosses the line at the right
        self.assertEqual(places["nobody loses"][1], True)
        self.assertEqual(places["a high peak"][1], False)
        self.assertGreater(places["a high peak"][0], 300)
        self.assertLess(places["a late peak"][0], 100)

    def test_simulation_previews_either_basis(self):
        self._profit_world()
        self._recompute()
        wizard = (
            self.env["crm.relationship.tier.simulation"]
            .with_user(self.relationship_manager)
            .create({})
        )
        vip = wizard.line_ids.filtered(lambda line: line.tier_id == self.tiers["vip"])
        self.assertEqual(wizard.tier_basis, "revenue")
        # by revenue the vip is W (revenue 2000), by profit Z (revenue 1000)
        self.assertEqual((vip.simulated_count, vip.simulated_revenue), (1, 2000.0))
        wizard.tier_basis = "profit"
        self.assertEqual((vip.simulated_count, vip.simulated_revenue), (1, 1000.0))
