from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
class TestProgram(CrmRelationshipCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Program = cls.env["crm.relationship.program"]
        cls.Member = cls.env["crm.relationship.program.member"]
        cls.stages = {
            code: cls.env.ref(f"crm_relationship.crm_relationship_program_stage_{code}")
            for code in ("targeted", "contacted", "engaged", "converted", "dropped")
        }

    def _program(self, **vals):
        return self.Program.create(
            {
                "name": "Program",
                "date_start": "2026-02-01",
                "date_end": "2026-05-31",
                "state": "running",
                **vals,
            }
        )

    # ------------------------------------------------------------------
    # enrollment
    # ------------------------------------------------------------------

    def test_target_enrollment_matches_tiers_and_filter(self):
        hanoi_vip = self._customer("Hà Nội VIP", city="Hanoi")
        hanoi_small = self._customer("Hà Nội Nhỏ", city="Hanoi")
        saigon_small = self._customer("Sài Gòn Nhỏ", city="Saigon")
        archived = self._customer("Hà Nội Lưu trữ", city="Hanoi")
        prospect = self._customer("Hà Nội Tiềm năng", city="Hanoi", customer_rank=1)
        contact = self.env["res.partner"].create(
            {"name": "Anh Minh", "parent_id": hanoi_vip.id, "city": "Hanoi"}
        )
        self._invoice(hanoi_vip, "2026-05-01", 5000.0)
        self._invoice(hanoi_small, "2026-05-02", 300.0)
        self._invoice(saigon_small, "2026-05-03", 200.0)
        self._invoice(archived, "2026-05-04", 100.0)
        self._recompute()
        archived.action_archive()
        self.assertEqual(hanoi_vip.relationship_tier_id, self.tiers["vip"])
        self.assertEqual(hanoi_small.relationship_tier_id, self.tiers["small"])
        self.assertEqual(contact.relationship_tier_id, self.tiers["vip"])
        self.assertEqual(prospect.relationship_tier_id, self.tiers["potential"])

        program = self._program(
            target_tier_ids=[
                Command.set((self.tiers["vip"] | self.tiers["small"]).ids)
            ],
            target_domain="[('city', '=', 'Hanoi')]",
        )
        action = program.action_add_target_customers()
        self.assertEqual(program.member_ids.partner_id, hanoi_vip | hanoi_small)
        self.assertIn("2", action["params"]["message"])
        self.assertEqual(program.member_ids.stage_id, self.stages["targeted"])
        self.assertEqual(program.member_count, 2)

        action = program.action_add_target_customers()
        self.assertEqual(len(program.member_ids), 2)
        self.assertEqual(action["params"]["type"], "info")

        # without tiers the filter alone decides; prospects are customers too
        program.target_tier_ids = False
        program.action_add_target_customers()
        self.assertEqual(
            program.member_ids.partner_id, hanoi_vip | hanoi_small | prospect
        )

    def test_enroll_wizard_on_selected_customers(self):
        first = self._customer("Khách Một")
        second = self._customer("Khách Hai")
        program = self._program()
        wizard = (
            self.env["crm.relationship.program.enroll"]
            .with_context(active_model="res.partner", active_ids=(first | second).ids)
            .create({"program_id": program.id})
        )
        self.assertEqual(wizard.partner_ids, first | second)
        wizard.action_enroll()
        self.assertEqual(program.member_ids.partner_id, first | second)
        # once only
        wizard.action_enroll()
        self.assertEqual(len(program.member_ids), 2)

    def test_bad_input_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "cannot end before it starts"):
            self._program(date_start="2026-03-01", date_end="2026-02-01")
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self._program(budget=-1.0)
        with self.assertRaisesRegex(ValidationError, "not a valid filter"):
            self._program(target_domain="[('no_such_field', '=', 1)]")
        with self.assertRaisesRegex(ValidationError, "not a valid filter"):
            self._program(target_domain="[('city', '=',")

        program = self._program()
        company = self._customer("Công ty Mẹ")
        contact = self.env["res.partner"].create(
            {"name": "Chị Lan", "parent_id": company.id}
        )
        with self.assertRaisesRegex(ValidationError, "enroll the company"):
            self.Member.create({"program_id": program.id, "partner_id": contact.id})
        archived = self._customer("Khách Cũ")
        archived.action_archive()
        with self.assertRaisesRegex(ValidationError, "archived"):
            self.Member.create({"program_id": program.id, "partner_id": archived.id})

        program.action_done()
        self.assertEqual(program.state, "done")
        with self.assertRaisesRegex(UserError, "cannot change"):
            program.target_domain = "[('city', '=', 'Hue')]"
        with self.assertRaisesRegex(UserError, "cannot change"):
            program.target_tier_ids = [Command.link(self.tiers["vip"].id)]
        with self.assertRaisesRegex(UserError, "Only draft or running"):
            self.Member.create({"program_id": program.id, "partner_id": company.id})
        program.action_draft()
        program.target_domain = "[('city', '=', 'Hue')]"
        self.assertEqual(program.target_domain, "[('city', '=', 'Hue')]")

    def test_activity_plan_is_applied_to_new_members(self):
        call = self.env.ref("mail.mail_activity_data_call")
        todo = self.env.ref("mail.mail_activity_data_todo")
        plan = self.env["mail.activity.plan"].create(
            {
                "name": "Welcome",
                "res_model": "res.partner",
                "template_ids": [
                    Command.create(
                        {
                            "activity_type_id": call.id,
                            "summary": "Welcome call",
                            "responsible_type": "on_demand",
                            "delay_count": 2,
                            "delay_unit": "days",
                        }
                    ),
                    Command.create(
                        {
                            "activity_type_id": todo.id,
                            "summary": "Send the offer",
                            "responsible_type": "other",
                            "responsible_id": self.relationship_manager.id,
                        }
                    ),
                ],
            }
        )
        customer = self._customer("Khách Mới")
        program = self._program(
            activity_plan_id=plan.id, user_id=self.relationship_user.id
        )
        program._enroll(customer)
        activities = customer.activity_ids
        self.assertEqual(len(activities), 2)
        by_summary = {a.summary: a for a in activities}
        self.assertEqual(by_summary["Welcome call"].user_id, self.relationship_user)
        self.assertEqual(by_summary["Welcome call"].activity_type_id, call)
        self.assertEqual(
            by_summary["Send the offer"].user_id, self.relationship_manager
        )
        # enrolling again creates no membership, so no second round of activities
        program._enroll(customer)
        self.assertEqual(len(customer.activity_ids), 2)

    def test_program_membership_makes_a_prospect(self):
        stranger = self._customer("Người Lạ")
        self.assertEqual(stranger.customer_rank, 0)
        self._program()._enroll(stranger)
        # the classification reads res_partner.commercial_partner_id in SQL
        self.env.flush_all()
        self._recompute()
        self.assertEqual(stranger.relationship_tier_id, self.tiers["potential"])

    # ------------------------------------------------------------------
    # results
    # ------------------------------------------------------------------

    def test_conversion_and_revenue_since_enrollment(self):
        early = self._customer("Khách Sớm")
        late = self._customer("Khách Muộn")
        silent = self._customer("Khách Im Lặng")
        program = self._program(budget=100.0)
        members = self.Member.create(
            [
                {
                    "program_id": program.id,
                    "partner_id": early.id,
                    "date_enrolled": "2026-01-15",
                },
                {
                    "program_id": program.id,
                    "partner_id": late.id,
                    "date_enrolled": "2026-03-01",
                },
                {
                    "program_id": program.id,
                    "partner_id": silent.id,
                    "date_enrolled": "2026-03-01",
                },
            ]
        )
        member_early, member_late, member_silent = members
        # early: enrolled before the program starts, the start date counts
        self._invoice(early, "2026-01-20", 1000.0)
        self._invoice(early, "2026-02-05", 300.0)
        # late: before enrollment, inside, a credit note, after the end
        self._invoice(late, "2026-02-15", 100.0)
        self._invoice(late, "2026-03-10", 200.0)
        self._invoice(late, "2026-04-01", 50.0, move_type="out_refund")
        self._invoice(late, "2026-06-10", 400.0)
        # silent: only a draft
        self._invoice(silent, "2026-04-01", 900.0, post=False)

        program._recompute_results(as_of="2026-03-31")
        self.assertEqual(member_early.revenue, 300.0)
        self.assertEqual(member_late.revenue, 200.0)
        self.assertEqual(member_silent.revenue, 0.0)
        self.assertEqual(program.revenue, 500.0)
        self.assertEqual(member_early.stage_id, self.stages["converted"])
        self.assertEqual(str(member_early.date_converted), "2026-02-05")
        self.assertEqual(str(member_late.date_converted), "2026-03-10")
        self.assertEqual(member_silent.stage_id, self.stages["targeted"])
        self.assertEqual(program.converted_count, 2)
        self.assertAlmostEqual(program.conversion_rate, 200 / 3, places=2)

        # a person moves a converted member back: the next run leaves it there
        member_late.stage_id = self.stages["engaged"]
        self.assertFalse(member_late.date_converted)
        program._recompute_results(as_of="2026-06-30")
        self.assertEqual(member_late.revenue, 150.0)
        self.assertEqual(member_late.stage_id, self.stages["engaged"])
        self.assertEqual(program.revenue, 450.0)
        self.assertEqual(program.converted_count, 1)
        self.assertEqual(str(program.results_date), "2026-06-30")

    def test_roi_arithmetic(self):
        customer = self._customer("Khách ROI")
        program = self._program(budget=100.0)
        program._enroll(customer)
        program.member_ids.date_enrolled = "2026-02-01"
        self._invoice(customer, "2026-03-01", 450.0)
        program._recompute_results(as_of="2026-06-30")
        self.assertEqual(program.revenue, 450.0)
        # margin 30 %: (450 x 0.3 - 100) / 100 = 35 %
        self.assertEqual(self.company.relationship_margin_rate, 30.0)
        self.assertAlmostEqual(program.roi, 35.0)
        self.assertTrue(program.roi_available)
        self.company.relationship_margin_rate = 10.0
        # (45 - 100) / 100 = -55 %
        self.assertAlmostEqual(program.roi, -55.0)
        program.budget = 0.0
        self.assertFalse(program.roi_available)
        self.assertEqual(program.roi, 0.0)

    def test_cron_recomputes_running_programs_only(self):
        customer = self._customer("Khách Cron")
        running = self._program(date_end=False)
        draft = self._program(state="draft", date_end=False)
        running._enroll(customer)
        draft._enroll(customer)
        (running | draft).member_ids.date_enrolled = "2026-02-01"
        self._invoice(customer, "2026-03-01", 120.0)
        self.Program.browse()._recompute_results(as_of="2026-06-30")
        self.assertEqual(running.revenue, 120.0)
        self.assertEqual(draft.revenue, 0.0)

    def test_results_query_count_does_not_grow_with_members(self):
        program = self._program()
        customers = self.env["res.partner"].create(
            [{"name": f"Khách {i}", "is_company": True} for i in range(30)]
        )
        program._enroll(customers)
        program.member_ids.date_enrolled = "2026-02-01"
        for customer in customers[:10]:
            self._invoice(customer, "2026-03-01", 10.0)
        program._recompute_results(as_of="2026-03-31")
        self.assertEqual(program.revenue, 100.0)
        self.env.invalidate_all()
        self._invoice(customers[10], "2026-03-02", 5.0)
        self.env.flush_all()
        with self.assertQueryCount(10):
            program._recompute_results(as_of="2026-03-31")
        self.assertEqual(program.revenue, 105.0)

    def test_revenue_counts_the_program_company_only(self):
        other = self.setup_other_company(name="Chi nhánh Đà Nẵng")["company"]
        self.env.user.company_ids += other
        customer = self._customer("Khách Hai Công Ty")
        program = self._program()
        program._enroll(customer)
        program.member_ids.date_enrolled = "2026-02-01"
        self._invoice(customer, "2026-03-01", 70.0)
        self._invoice(customer, "2026-03-02", 900.0, company=other)
        program._recompute_results(as_of="2026-06-30")
        self.assertEqual(program.revenue, 70.0)
        other_program = self._program(name="Elsewhere", company_id=other.id)
        self.assertEqual(
            self.Program.with_user(self.relationship_user).search(
                [("id", "in", (program | other_program).ids)]
            ),
            program,
            "the user sees the programs of their company, and only those",
        )

    # ------------------------------------------------------------------
    # security
    # ------------------------------------------------------------------

    def test_user_changes_only_own_programs(self):
        own = self._program(name="Mine", user_id=self.relationship_user.id)
        other = self._program(name="Theirs", user_id=self.relationship_manager.id)
        customer = self._customer("Khách An Toàn", customer_rank=1)
        other_member = other._enroll(customer)

        as_user = self.Program.with_user(self.relationship_user)
        self.assertEqual(as_user.browse(other.id).name, "Theirs")
        as_user.browse(own.id).write({"budget": 50.0})
        self.assertEqual(own.budget, 50.0)
        with self.assertRaises(AccessError):
            as_user.browse(other.id).write({"budget": 50.0})
        with self.assertRaises(AccessError):
            as_user.create({"name": "For someone else", "user_id": self.env.uid})
        with self.assertRaises(AccessError):
            other_member.with_user(self.relationship_user).stage_id = self.stages[
                "contacted"
            ]
        # a member the user owns can be moved even in someone else's program
        other_member.user_id = self.relationship_user
        other_member.with_user(self.relationship_user).stage_id = self.stages[
            "contacted"
        ]
        self.assertEqual(other_member.stage_id, self.stages["contacted"])

        own.with_user(self.relationship_user).action_refresh_results()
        # the responsible enrolls the targets of their own program
        own.target_domain = f"[('id', '=', {customer.id})]"
        own.with_user(self.relationship_user).action_add_target_customers()
        self.assertEqual(own.member_ids.partner_id, customer)
        self.assertEqual(own.member_ids.user_id, self.relationship_user)
        newcomer = self._customer("Khách Mới Đến", customer_rank=1)
        other.target_domain = f"[('id', '=', {newcomer.id})]"
        with self.assertRaises(AccessError):
            other.with_user(self.relationship_user).action_add_target_customers()
        with self.assertRaises(AccessError):
            other.with_user(self.relationship_user).action_refresh_results()

        as_manager = self.Program.with_user(self.relationship_manager)
        as_manager.browse(own.id).write({"budget": 70.0})
        self.assertEqual(own.budget, 70.0)
