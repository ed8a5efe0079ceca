from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
class TestRelationshipEnd(CrmRelationshipCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.care_type = cls.env.ref(
            "crm_relationship.mail_activity_type_customer_care",
            raise_if_not_found=False,
        )
        if not cls.care_type:
            # the care feature adds this type; the end wizard only needs its id
            cls.care_type = cls.env["mail.activity.type"].create(
                {"name": "Customer care", "res_model": "res.partner"}
            )
            cls.env["ir.model.data"].create(
                {
                    "module": "crm_relationship",
                    "name": "mail_activity_type_customer_care",
                    "model": "mail.activity.type",
                    "res_id": cls.care_type.id,
                }
            )
        cls.dropped = cls.env.ref(
            "crm_relationship.crm_relationship_program_stage_dropped"
        )

    def test_end_and_reactivate_relationship(self):
        today = fields.Date.context_today(self.env.user)
        customer = self._customer("Công ty Kết Thúc")
        contact = self.env["res.partner"].create(
            {"name": "Anh Tuấn", "parent_id": customer.id}
        )
        self._invoice(customer, today - timedelta(days=10), 800.0)
        customer._recompute_relationship(company_ids=self.company.ids)
        self.assertEqual(customer.relationship_status, "new")

        care = customer.activity_schedule(
            activity_type_id=self.care_type.id, user_id=self.env.uid
        )
        todo = customer.activity_schedule(
            "mail.mail_activity_data_todo", user_id=self.env.uid
        )
        Program = self.env["crm.relationship.program"]
        running = Program.create(
            {"name": "Running", "state": "running", "date_start": today}
        )
        done = Program.create({"name": "Done", "state": "running", "date_start": today})
        running_member = running._enroll(customer)
        done_member = done._enroll(customer)
        done.action_done()

        wizard = (
            self.env["res.partner.relationship.end"]
            .with_user(self.relationship_manager)
            .with_context(active_model="res.partner", active_ids=contact.ids)
            .create({"reason": "payment_problems", "note": "Three unpaid invoices."})
        )
        self.assertEqual(wizard.partner_ids, customer)
        wizard.action_end_relationship()

        self.assertEqual(customer.relationship_status, "lost")
        self.assertEqual(customer.relationship_end_date, today)
        self.assertEqual(customer.relationship_end_reason, "payment_problems")
        self.assertEqual(contact.relationship_end_reason, "payment_problems")
        self.assertFalse(care.exists())
        self.assertTrue(todo.exists())
        self.assertEqual(running_member.stage_id, self.dropped)
        self.assertNotEqual(done_member.stage_id, self.dropped)
        self.env.cr.flush()
        customer.invalidate_recordset(["message_ids"])
        self.assertIn("Payment problems", customer.message_ids[0].body)
        self.assertIn("Three unpaid invoices.", customer.message_ids[0].body)
        # ended relationships are not targeted again
        retry = Program.create({"name": "Retry", "date_start": today})
        retry.action_add_target_customers()
        self.assertNotIn(customer, retry.member_ids.partner_id)

        customer.with_user(self.relationship_manager).action_reactivate_relationship()
        self.assertEqual(customer.relationship_status, "new")
        self.assertFalse(customer.relationship_end_date)
        self.assertFalse(customer.relationship_end_reason)
        self.env.cr.flush()
        customer.invalidate_recordset(["message_ids"])
        self.assertIn("resumed", customer.message_ids[0].body)

    def test_only_managers_end_relationships(self):
        customer = self._customer("Công ty Giữ")
        with self.assertRaises(AccessError):
            customer.with_user(self.relationship_user).action_end_relationship()
        with self.assertRaises(AccessError):
            customer.with_user(self.relationship_user)._end_relationship("other")
        self.assertFalse(customer.relationship_end_date)
