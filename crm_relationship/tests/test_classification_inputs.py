from unittest.mock import patch

from odoo.tests import tagged

from .common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
class TestClassificationInputs(CrmRelationshipCommon):
    """A full run whose inputs did not change since the last one does nothing;
    any change of what the rules read is seen by the next run."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._customer("Công ty Dấu Vân Tay")
        cls.contact = cls.env["res.partner"].create(
            {"name": "Anh Tuấn", "parent_id": cls.customer.id}
        )
        cls.invoice = cls._invoice(cls.customer, "2026-05-10", 1000.0)
        cls.env["res.partner"]._recompute_relationship(
            as_of=cls.as_of, company_ids=cls.company.ids
        )

    def _fingerprint(self, as_of=None):
        self.env.flush_all()
        return self.env["res.partner"]._relationship_fingerprint(
            self.company, as_of or self.as_of
        )

    def _assert_seen(self, change, message):
        before = self._fingerprint()
        change()
        self.assertNotEqual(self._fingerprint(), before, message)

    def test_unchanged_inputs_are_not_recomputed(self):
        Partner = self.registry["res.partner"]
        with patch.object(
            Partner,
            "_relationship_compute_values",
            side_effect=AssertionError("nothing changed: nothing to compute"),
        ):
            self.assertEqual(self._recompute(), 0)
            self.assertEqual(self._recompute(self.customer), 0)
        # a partial run does not vouch for the other customers
        self.company.sudo().relationship_fingerprint = False
        self._recompute(self.customer)
        self.assertFalse(self.company.sudo().relationship_fingerprint)
        self._recompute()
        self.assertTrue(self.company.sudo().relationship_fingerprint)

    def test_changes_are_seen_by_the_next_full_run(self):
        self.assertEqual(self.customer.care_phase, "in_sale")
        self.assertEqual(self.customer.relationship_status, "new")
        self.assertEqual(self.customer.relationship_tier_id, self.tiers["vip"])
        # a payment: the sale is over
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.invoice.ids
        ).create({"payment_date": "2026-06-20"})._create_payments()
        self._recompute()
        self.assertEqual(self.customer.care_phase, "post_sale")
        # a credit note, then the same one back to draft
        refund = self._invoice(
            self.customer, "2026-06-01", 400.0, move_type="out_refund"
        )
        self._recompute()
        self.assertEqual(self.customer.period_revenue, 600.0)
        refund.button_draft()
        self._recompute()
        self.assertEqual(self.customer.period_revenue, 1000.0)
        # a complaint past its deadline
        self.env["crm.relationship.feedback"].sudo().create(
            {
                "name": "Giao hàng trễ",
                "partner_id": self.contact.id,
                "date_received": "2026-06-28 08:00:00",
            }
        )
        self._recompute()
        self.assertEqual(self.customer.relationship_status, "needs_care")
        # tier thresholds: the only buyer is in the top 1 %, but not above 5,000
        self.tiers["vip"].write({"threshold_type": "amount", "min_amount": 5000.0})
        self._recompute()
        self.assertEqual(self.customer.relationship_tier_id, self.tiers["large"])
        # a setting
        lifetime_value = self.customer.lifetime_value
        self.company.relationship_margin_rate = 60.0
        self._recompute()
        self.assertAlmostEqual(self.customer.lifetime_value, lifetime_value * 2, 2)

    def test_every_input_changes_the_fingerprint(self):
        customer, contact = self.customer, self.contact
        vietnam = self.env.ref("base.vn")
        state = self.env["res.country.state"].create(
            {"name": "Tỉnh Thử", "code": "ZZT", "country_id": vietnam.id}
        )
        program = self.env["crm.relationship.program"].create(
            {"name": "Tri ân", "date_start": "2026-01-01"}
        )
        self._assert_seen(
            lambda: self._invoice(customer, "2026-06-01", 10.0), "a posted invoice"
        )
        self._assert_seen(
            lambda: self._invoice(
                contact, "2026-06-01", 10.0, post=False
            ).action_post(),
            "an invoice of a contact",
        )
        self._assert_seen(lambda: self.invoice.button_draft(), "an invoice reset")
        self._assert_seen(
            lambda: customer.write({"country_id": vietnam.id, "state_id": state.id}),
            "an address",
        )
        self._assert_seen(
            lambda: self.company.write({"country_id": vietnam.id}),
            "the company's address",
        )
        self._assert_seen(
            lambda: contact.write({"parent_id": False}), "a contact leaving"
        )
        self._assert_seen(
            lambda: customer.write({"relationship_tier_id": self.tiers["small"].id}),
            "a tier set by hand",
        )
        self._assert_seen(
            lambda: customer.write({"relationship_level": "partnership"}),
            "a level set by hand",
        )
        self._assert_seen(
            lambda: customer.sudo().write({"relationship_end_date": "2026-06-01"}),
            "an ended relationship",
        )
        lead = self.env["crm.lead"].create(
            {"name": "Hợp đồng mới", "type": "opportunity", "partner_id": contact.id}
        )
        self._assert_seen(lead.action_set_won, "an opportunity won")
        self._assert_seen(
            lambda: self.env["crm.relationship.program.member"].create(
                {"program_id": program.id, "partner_id": customer.id}
            ),
            "a program member",
        )
        self._assert_seen(
            lambda: self.env["crm.relationship.interaction"].create(
                {
                    "partner_id": customer.id,
                    "date": "2026-06-15",
                    "summary": "Gọi",
                    "channel_id": self.env.ref(
                        "crm_relationship.crm_relationship_channel_phone"
                    ).id,
                }
            ),
            "an interaction",
        )
        self._assert_seen(
            lambda: (
                self.env["crm.relationship.feedback"]
                .sudo()
                .create({"name": "Phàn nàn", "partner_id": customer.id})
            ),
            "a complaint",
        )
        self._assert_seen(
            lambda: self.tiers["small"].write({"contact_interval_days": 3}),
            "a tier's service standard",
        )
        self._assert_seen(
            lambda: self.env.ref(
                "crm_relationship.crm_relationship_care_stage_deal"
            ).write({"active": False}),
            "a care stage",
        )
        self._assert_seen(
            lambda: self.company.write({"relationship_window_months": 6}),
            "a setting",
        )
        self.assertNotEqual(
            self._fingerprint(), self._fingerprint(as_of="2026-07-01"), "the date"
        )

    def test_outputs_are_not_inputs(self):
        """What the run writes, and a card a person moves, change nothing."""
        fingerprint = self._fingerprint()
        self._invoice(self.customer, "2026-06-01", 10.0)
        changed = self._fingerprint()
        self.assertNotEqual(changed, fingerprint)
        self.assertEqual(self._recompute(), 1)
        self.assertEqual(self._fingerprint(), changed)
        self.customer.care_stage_id = self.env.ref(
            "crm_relationship.crm_relationship_care_stage_development"
        )
        self.assertEqual(self._fingerprint(), changed)
        self.assertEqual(self._recompute(), 0)
        self.assertEqual(
            self.customer.care_stage_id,
            self.env.ref("crm_relationship.crm_relationship_care_stage_development"),
        )
