from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestProgramTour(HttpCase):
    def test_member_pipeline_drag_to_converted(self):
        customer = self.env["res.partner"].create(
            {"name": "Tour Customer", "is_company": True}
        )
        program = self.env["crm.relationship.program"].create(
            {
                "name": "Tour program",
                "state": "running",
                "user_id": self.env.ref("base.user_admin").id,
                "date_start": "2026-01-01",
            }
        )
        member = program._enroll(customer)
        targeted = self.env.ref(
            "crm_relationship.crm_relationship_program_stage_targeted"
        )
        self.assertEqual(member.stage_id, targeted)
        self.start_tour(
            "/odoo/action-crm_relationship.crm_relationship_program_action",
            "crm_relationship_program_pipeline_tour",
            login="admin",
        )
        self.assertEqual(
            member.stage_id,
            self.env.ref("crm_relationship.crm_relationship_program_stage_converted"),
        )
        self.assertTrue(member.date_converted)
