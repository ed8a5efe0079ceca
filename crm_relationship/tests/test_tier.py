from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
class TestTier(CrmRelationshipCommon):
    def test_default_tiers(self):
        self.assertEqual(
            list(self.tiers),
            ["vip", "large", "medium", "small", "inactive", "potential"],
        )
        self.assertEqual(
            [self.tiers[c].contact_interval_days for c in self.tiers],
            [14, 30, 60, 90, 180, 30],
        )
        self.assertEqual(
            [self.tiers[c].response_hours for c in self.tiers], [4, 8, 24, 48, 72, 72]
        )
        self.assertEqual(self.tiers["large"].relationship_level, "proactive")

    def test_default_tier_names_follow_the_installed_languages(self):
        self.tiers["large"].name = "Key accounts"  # renamed: left alone
        self.env["res.lang"]._activate_lang("vi_VN")
        self.env["ir.module.module"].search(
            [("name", "=", "crm_relationship")]
        )._update_translations("vi_VN")
        as_vi = self.env["crm.relationship.tier"].with_context(lang="vi_VN")
        self.assertEqual(as_vi.browse(self.tiers["medium"].id).name, "Vừa")
        self.assertEqual(as_vi.browse(self.tiers["large"].id).name, "Key accounts")
        company = self.env["res.company"].create({"name": "Công ty mới"})
        tier = as_vi.search([("company_id", "=", company.id), ("code", "=", "small")])
        self.assertEqual(tier.name, "Nhỏ")
        self.assertEqual(tier.with_context(lang="en_US").name, "Small")

    def test_bad_thresholds_are_refused(self):
        cases = [
            ("vip", {"threshold_type": "amount", "min_amount": -1.0}),
            ("vip", {"top_percent": 0.0}),
            ("vip", {"top_percent": 100.5}),
            ("large", {"top_percent": 0.5}),  # after vip's 1 %: never reached
            ("small", {"sequence": 1}),  # a catch-all first hides every tier
            ("medium", {"contact_interval_days": 0}),
            ("medium", {"response_hours": -4}),
        ]
        for code, vals in cases:
            with self.subTest(code=code, vals=vals):
                before = self.tiers[code].read(list(vals))[0]
                with self.assertRaises(ValidationError):
                    self.tiers[code].write(vals)
                self.assertEqual(self.tiers[code].read(list(vals))[0], before)

    def test_a_second_inactive_tier_is_refused(self):
        with self.assertRaises(ValidationError):
            self.env["crm.relationship.tier"].create(
                {"name": "Inactive 2", "code": "inactive2", "tier_type": "inactive"}
            )

    @mute_logger("odoo.sql_db")
    def test_duplicate_code_in_a_company_is_refused(self):
        with self.assertRaises(IntegrityError):
            self.env["crm.relationship.tier"].create(
                {"name": "VIP again", "code": "vip", "top_percent": 0.5, "sequence": 1}
            )

    def test_bad_company_settings_are_refused(self):
        cases = [
            {"relationship_window_months": 0},
            {"relationship_growth_rate": 0.0},
            {"relationship_decline_rate": 120.0},
            {"relationship_margin_rate": -5.0},
            {"relationship_discount_rate": 101.0},
            {"relationship_retention_fallback": 0.0},
            {"relationship_horizon_years": 0},
            {"relationship_new_customer_days": 0},
        ]
        for vals in cases:
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                self.company.write(vals)
        self.assertEqual(self.company.relationship_window_months, 12)

    def test_settings_write_through_to_the_company(self):
        settings = self.env["res.config.settings"].create(
            {"relationship_window_months": 6, "relationship_margin_rate": 25.0}
        )
        settings.execute()
        self.assertEqual(self.company.relationship_window_months, 6)
        self.assertEqual(self.company.relationship_margin_rate, 25.0)

    def test_tier_partner_count(self):
        customer = self._customer("Đếm")
        self._invoice(customer, "2026-02-01", 100.0)
        self._recompute()
        self.assertEqual(self.tiers["vip"].partner_count, 1)
        action = self.tiers["vip"].action_view_partners()
        self.assertEqual(self.env["res.partner"].search(action["domain"]), customer)
