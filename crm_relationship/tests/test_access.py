from lxml import etree

from odoo import Command, api, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from ..models.groups import MONEY_GROUPS
from ..models.res_partner import SERVER_OWNED_FIELDS
from .common import CrmRelationshipCommon

MONEY_FIELDS = (
    "lifetime_value",
    "historical_revenue",
    "period_revenue",
    "previous_period_revenue",
)
OWNED_MESSAGE = "computed by the relationship classification"


@tagged("post_install", "-at_install")
class TestAccess(CrmRelationshipCommon):
    """Two companies; a plain employee, a Relationship User and a Relationship
    Manager of company A only (``cls.company``), and an employee who may edit
    contacts (the issue's attacker)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Chi nhánh Hà Nội")["company"]
        cls.env.user.company_ids += cls.company_b
        cls.tiers_b = {
            tier.code: tier
            for tier in cls.env["crm.relationship.tier"].search(
                [("company_id", "=", cls.company_b.id)]
            )
        }
        one_company = {
            "company_id": cls.company.id,
            "company_ids": [Command.set(cls.company.ids)],
        }
        cls.employee = new_test_user(
            cls.env, login="plain_employee", groups="base.group_user", **one_company
        )
        # reads money figures, as billing, without any relationship group
        cls.accountant = new_test_user(
            cls.env,
            login="accountant",
            groups="base.group_user,account.group_account_invoice",
            **one_company,
        )
        cls.contact_editor = new_test_user(
            cls.env,
            login="contact_editor",
            groups="base.group_user,base.group_partner_manager",
            **one_company,
        )
        cls.customer = cls._customer("Công ty Bảo Mật")
        cls.contact = cls.env["res.partner"].create(
            {"name": "Chị Hoa", "parent_id": cls.customer.id}
        )
        cls._invoice(cls.customer, "2026-02-01", 1000.0)
        cls.customer_b = cls._customer("Khách Hà Nội")
        cls._invoice(cls.customer_b, "2026-03-01", 7000.0, company=cls.company_b)
        for company in cls.company | cls.company_b:
            cls.env["res.partner"]._recompute_relationship(
                as_of=cls.as_of, company_ids=company.ids
            )
        cls.writers = (
            cls.contact_editor,
            cls.relationship_user,
            cls.relationship_manager,
        )

    def _output_value(self, fname):
        """A value of the field's type, other than the stored one."""
        field = self.env["res.partner"]._fields[fname]
        if field.type == "selection":
            return field.get_values(self.env)[-1]
        return {
            "float": 1e9,
            "integer": 99,
            "date": "2099-12-31",
            "char": "forged",
            "boolean": True,
        }[field.type]

    def _stored(self, partner, fnames):
        partner.invalidate_recordset()
        return partner.sudo().read(fnames)[0]

    @staticmethod
    def _read_spec(views, view_type):
        """The web client's read specification of a view from get_views: the
        fields of the arch, outside sub-views."""
        arch = etree.fromstring(views["views"][view_type]["arch"])
        info = views["models"]["res.partner"]["fields"]
        names = {
            node.get("name") for node in arch.xpath("//field[not(ancestor::field)]")
        }
        return {
            fname: {"fields": {"display_name": {}}}
            if info[fname]["type"] == "many2one"
            else {}
            for fname in names
        }

    def _rpc(self, user, method, args, kwargs=None):
        """Call ``method`` the way /web/dataset/call_kw and XML-RPC do."""
        return api.call_kw(
            self.env["res.partner"].with_user(user), method, args, kwargs or {}
        )

    # ------------------------------------------------------------------
    # outputs are server-owned
    # ------------------------------------------------------------------

    def test_outputs_refused_for_every_user(self):
        Partner = self.env["res.partner"]
        outputs = sorted(SERVER_OWNED_FIELDS.intersection(Partner._fields))
        self.assertGreaterEqual(len(outputs), 21)
        before = self._stored(self.customer, outputs)
        for user in self.writers:
            for fname in outputs:
                vals = {fname: self._output_value(fname)}
                with self.subTest(user=user.login, field=fname):
                    with self.assertRaisesRegex(AccessError, OWNED_MESSAGE):
                        self.customer.with_user(user).write(vals)
                    with self.assertRaisesRegex(AccessError, OWNED_MESSAGE):
                        self._rpc(user, "write", [self.customer.ids, vals])
                    with self.assertRaisesRegex(AccessError, OWNED_MESSAGE):
                        self._rpc(
                            user,
                            "web_save",
                            [self.customer.ids, vals],
                            {"specification": {}},
                        )
                    with self.assertRaisesRegex(AccessError, OWNED_MESSAGE):
                        self._rpc(user, "create", [{"name": "Giả mạo", **vals}])
        # the import (load) creates and writes through the same methods
        xmlid = self.customer.get_external_id()[self.customer.id] or None
        if not xmlid:
            self.env["ir.model.data"].create(
                {
                    "module": "__import__",
                    "name": "guarded_customer",
                    "model": "res.partner",
                    "res_id": self.customer.id,
                }
            )
            xmlid = "__import__.guarded_customer"
        result = self._rpc(
            self.relationship_manager,
            "load",
            [["id", "name", "period_revenue"], [[xmlid, "Công ty Bảo Mật", "1e9"]]],
        )
        self.assertFalse(result["ids"])
        self.assertIn(OWNED_MESSAGE, result["messages"][0]["message"])
        self.assertEqual(self._stored(self.customer, outputs), before)
        # the plain employee cannot write partners at all
        with self.assertRaises(AccessError):
            self.customer.with_user(self.employee).write(
                {"next_care_date": "2099-12-31"}
            )

    def test_issue_example_is_refused(self):
        """The write of the issue, through RPC, by someone who may edit contacts."""
        vals = {"next_care_date": "2099-12-31", "care_status": "on_time"}
        with self.assertRaisesRegex(AccessError, "Next care date"):
            self._rpc(self.contact_editor, "write", [self.customer.ids, vals])
        self.assertEqual(self.customer.care_status, "overdue")
        self.assertEqual(
            self.customer.next_care_date, fields.Date.to_date("2026-02-15")
        )

    def test_defaults_never_set_outputs(self):
        context = {
            "default_lifetime_value": 1e9,
            "default_relationship_status": "loyal",
            "default_relationship_tier_id": self.tiers["vip"].id,
        }
        partner_id = self._rpc(
            self.relationship_manager,
            "create",
            [{"name": "Mặc định", "is_company": True}],
            {"context": context},
        )
        partner = self.env["res.partner"].browse(partner_id)
        self.assertFalse(partner.relationship_status)
        self.assertFalse(partner.relationship_tier_id)
        self.assertFalse(partner.relationship_tier_locked)
        self.assertEqual(partner.lifetime_value, 0.0)

    def test_contacts_are_guarded_like_their_company(self):
        for user in self.writers:
            with self.subTest(user=user.login):
                with self.assertRaisesRegex(AccessError, OWNED_MESSAGE):
                    self.contact.with_user(user).write({"period_revenue": 1.0})
        for user in (self.contact_editor, self.relationship_user):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.contact.with_user(user).relationship_tier_id = self.tiers["small"]
        self.assertEqual(self.contact.relationship_tier_id, self.tiers["vip"])

    def test_new_contacts_receive_their_company_figures(self):
        """Odoo's commercial sync still copies the outputs, in every company."""
        for user in (self.contact_editor, self.relationship_user):
            contact = (
                self.env["res.partner"]
                .with_user(user)
                .create(
                    {"name": f"Liên hệ {user.login}", "parent_id": self.customer.id}
                )
            )
            self.assertEqual(contact.relationship_tier_id, self.tiers["vip"])
            self.assertEqual(contact.relationship_status, "active")
            self.assertEqual(contact.sudo().period_revenue, 1000.0)
            self.assertEqual(contact.care_status, "overdue")
        moved = self.env["res.partner"].create({"name": "Anh Bình"})
        moved.with_user(self.contact_editor).parent_id = self.customer_b
        moved_b = moved.with_company(self.company_b).sudo()
        self.assertEqual(moved_b.period_revenue, 7000.0)
        self.assertEqual(moved_b.relationship_tier_id, self.tiers_b["vip"])

    def test_merging_partners_still_works(self):
        duplicate = self._customer("Công ty Bảo Mật (trùng)")
        self._invoice(duplicate, "2026-04-01", 10.0)
        self._recompute(duplicate)
        # core's merge reads fields only an administrator may (signup_type):
        # merge as the administrator, a user who is not the superuser
        admin = self.env.ref("base.user_admin")
        wizard = (
            self.env["base.partner.merge.automatic.wizard"].with_user(admin).create({})
        )
        wizard._merge((self.customer | duplicate).ids, self.customer)
        self.assertFalse(duplicate.exists())
        self.assertFalse(self.customer.relationship_tier_locked, "no lock by a merge")
        self._recompute(self.customer)
        self.assertEqual(self.customer.period_revenue, 1010.0)

    # ------------------------------------------------------------------
    # tier and level: managers only, with their lock
    # ------------------------------------------------------------------

    def test_manager_sets_tier_and_level_with_their_lock(self):
        as_manager = self.customer.with_user(self.relationship_manager)
        as_manager.relationship_tier_id = self.tiers["small"]
        self.assertEqual(self.customer.relationship_tier_id, self.tiers["small"])
        self.assertTrue(self.customer.relationship_tier_locked, "locked by itself")
        self.assertEqual(self.customer.relationship_level, "reactive")
        self.assertTrue(self.customer.relationship_level_locked)
        self._rpc(
            self.relationship_manager,
            "write",
            [self.customer.ids, {"relationship_level": "partnership"}],
        )
        self.assertEqual(self.customer.relationship_level, "partnership")
        self._recompute(self.customer)
        self.assertEqual(self.customer.relationship_tier_id, self.tiers["small"])
        self.assertEqual(self.customer.relationship_level, "partnership")
        self.assertEqual(self.contact.relationship_tier_id, self.tiers["small"])

        for fname, lock, value in (
            (
                "relationship_tier_id",
                "relationship_tier_locked",
                self.tiers["large"].id,
            ),
            ("relationship_level", "relationship_level_locked", "basic"),
        ):
            with self.subTest(field=fname), self.assertRaises(UserError):
                as_manager.write({fname: value, lock: False})
        with self.assertRaises(ValidationError):
            as_manager.relationship_tier_id = self.tiers_b["large"]
        self.assertEqual(self.customer.relationship_tier_id, self.tiers["small"])
        self.assertEqual(self.customer.relationship_level, "partnership")

    def test_users_cannot_set_tier_or_level(self):
        for user in (self.contact_editor, self.relationship_user):
            for vals in (
                {"relationship_tier_id": self.tiers["small"].id},
                {
                    "relationship_tier_id": self.tiers["small"].id,
                    "relationship_tier_locked": True,
                },
                {
                    "relationship_level": "partnership",
                    "relationship_level_locked": True,
                },
                {"relationship_tier_locked": False},
            ):
                with self.subTest(user=user.login, vals=vals):
                    with self.assertRaisesRegex(
                        AccessError, "Only Relationship Managers"
                    ):
                        self._rpc(user, "write", [self.customer.ids, vals])
                    with self.assertRaisesRegex(
                        AccessError, "Only Relationship Managers"
                    ):
                        self._rpc(user, "create", [{"name": "Khách", **vals}])
        self.assertEqual(self.customer.relationship_tier_id, self.tiers["vip"])
        self.assertFalse(self.customer.relationship_tier_locked)

    # ------------------------------------------------------------------
    # who reads what
    # ------------------------------------------------------------------

    def test_money_figures_need_a_relationship_or_accounting_group(self):
        as_employee = self.customer.with_user(self.employee)
        for fname in MONEY_FIELDS:
            with self.subTest(field=fname):
                with self.assertRaises(AccessError):
                    as_employee.read([fname])
                with self.assertRaises(AccessError):
                    self.env["res.partner"].with_user(self.employee).search(
                        [(fname, ">", 500)]
                    )
        self.assertNotIn("lifetime_value", as_employee.fields_get())
        shared = as_employee.read(
            [
                "relationship_tier_id",
                "relationship_status",
                "relationship_level",
                "care_stage_id",
                "care_status",
                "next_care_date",
            ]
        )[0]
        self.assertEqual(shared["relationship_tier_id"][0], self.tiers["vip"].id)
        self.assertEqual(shared["relationship_status"], "active")
        self.assertEqual(shared["relationship_level"], "partnership")
        self.assertEqual(shared["care_status"], "overdue")

        for user in (self.accountant, self.relationship_user):
            with self.subTest(user=user.login):
                self.assertEqual(
                    self.customer.with_user(user).read(MONEY_FIELDS)[0][
                        "period_revenue"
                    ],
                    1000.0,
                )

    def test_views_open_for_a_plain_employee(self):
        Partner = self.env["res.partner"].with_user(self.employee)
        domain = [("id", "in", (self.customer | self.contact).ids)]
        cases = [
            ("res_partner_view_kanban_customers", "kanban"),
            ("res_partner_view_list_customers", "list"),
            ("res_partner_view_pivot_analysis", "pivot"),
            ("res_partner_view_graph_analysis", "graph"),
            ("res_partner_view_kanban_care", "kanban"),
            ("res_partner_view_list_care", "list"),
            ("res_partner_view_search_care", "search"),
        ]
        for xmlid, view_type in cases:
            view = self.env.ref(f"crm_relationship.{xmlid}")
            with self.subTest(view=xmlid):
                result = Partner.get_views([(view.id, view_type)])
                arch = result["views"][view_type]["arch"]
                for fname in MONEY_FIELDS:
                    self.assertNotIn(f'name="{fname}"', arch)
                self.assertNotIn("Lifetime value", arch)
                self.assertNotIn("LTV", arch)
                shown = result["models"]["res.partner"]["fields"]
                self.assertIn("relationship_tier_id", shown)
                self.assertFalse(set(MONEY_FIELDS) & set(shown))
                if view_type in ("kanban", "list"):
                    spec = self._read_spec(result, view_type)
                    self.assertIn("relationship_tier_id", spec)
                    records = Partner.web_search_read(domain, spec)["records"]
                    self.assertEqual(len(records), 2)
        groups = Partner.web_read_group(
            domain, ["care_stage_id"], ["care_stage_id"], lazy=True
        )["groups"]
        self.assertEqual(sum(group["care_stage_id_count"] for group in groups), 2)
        form = Partner.get_views([(False, "form")])
        arch = form["views"]["form"]["arch"]
        self.assertNotIn('name="lifetime_value"', arch)
        spec = self._read_spec(form, "form")
        record = Partner.browse(self.customer.id).web_read(spec)
        self.assertEqual(record[0]["id"], self.customer.id)

    def test_views_show_outputs_read_only(self):
        form = self.env["res.partner"].with_user(self.relationship_manager)
        fields_info = form.get_views([(False, "form")])["models"]["res.partner"][
            "fields"
        ]
        for fname in (
            "relationship_status",
            "period_revenue",
            "next_care_date",
            "care_phase",
        ):
            with self.subTest(field=fname):
                self.assertTrue(fields_info[fname]["readonly"])
        self.assertFalse(fields_info["relationship_tier_id"]["readonly"])
        self.assertFalse(fields_info["care_stage_id"]["readonly"])

    def test_money_fields_are_hidden_by_their_own_groups(self):
        """The views name no group on a money field: the field's ``groups``
        (MONEY_GROUPS) hide it from whoever may not read it, in every view."""
        reasons = ("relationship_tier_reason", "relationship_status_reason")
        employee = self.env["res.partner"].with_user(self.employee)
        form = employee.get_views([(False, "form")])
        arch = form["views"]["form"]["arch"]
        for fname in (*MONEY_FIELDS, *reasons):
            with self.subTest(field=fname):
                self.assertNotIn(f'name="{fname}"', arch)
                self.assertNotIn(fname, form["models"]["res.partner"]["fields"])
        record = employee.browse(self.customer.id).web_read(
            self._read_spec(form, "form")
        )[0]
        self.assertEqual(record["name"], self.customer.name)
        self.assertFalse(set(MONEY_FIELDS) & set(record))

        customers_list = self.env.ref(
            "crm_relationship.res_partner_view_list_customers"
        )
        for user in (self.accountant, self.relationship_user):
            with self.subTest(user=user.login):
                views = (
                    self.env["res.partner"]
                    .with_user(user)
                    .get_views([(customers_list.id, "list")])
                )
                list_arch = views["views"]["list"]["arch"]
                for fname in ("period_revenue", "lifetime_value"):
                    self.assertIn(f'name="{fname}"', list_arch)
                records = (
                    self.env["res.partner"]
                    .with_user(user)
                    .web_search_read(
                        [("id", "=", self.customer.id)],
                        self._read_spec(views, "list"),
                    )["records"]
                )
                self.assertEqual(records[0]["period_revenue"], 1000.0)
        form = (
            self.env["res.partner"]
            .with_user(self.relationship_user)
            .get_views([(False, "form")])
        )
        for fname in (*MONEY_FIELDS, *reasons):
            with self.subTest(field=fname, user="relationship_user"):
                self.assertIn(f'name="{fname}"', form["views"]["form"]["arch"])

    def test_views_gate_money_nodes_with_the_money_groups(self):
        """Where a view gates a node that is not a field (a progress bar summing
        a money field, a card's money block), it names MONEY_GROUPS exactly."""
        views = self.env["ir.ui.view"].search(
            [("model", "=", "res.partner"), ("arch_db", "ilike", "group_account")]
        )
        gated = []
        for view in views.filtered(lambda v: v.xml_id.startswith("crm_relationship.")):
            for node in etree.fromstring(view.arch_db).xpath("//*[@groups]"):
                if "account." in node.get("groups"):
                    self.assertNotEqual(node.tag, "field", view.xml_id)
                    self.assertEqual(node.get("groups"), MONEY_GROUPS, view.xml_id)
                    gated.append(node.tag)
        self.assertEqual(sorted(gated), ["div", "div", "progressbar", "progressbar"])

    def test_partner_form_title_keeps_the_name_full_width(self):
        """The customer's name fills the title as core's char fields do there:
        the name input partner_autocomplete puts in its place would stay about
        20 characters wide and cut "Công ty Cổ phần Thép Phương Nam". The
        badges sit on their own line under the name, never beside it."""
        form = self.env["res.partner"].with_user(self.relationship_user)
        arch = form.get_views([(False, "form")])["views"]["form"]["arch"]
        (title,) = etree.fromstring(arch).xpath(
            "//sheet/div[contains(concat(' ', @class, ' '), ' oe_title ')]"
        )
        names = title.xpath("./h1/field[@name='name']")
        self.assertEqual(len(names), 2, "company and individual")
        for name in names:
            self.assertIn("w-100", name.get("class", "").split())
        (badges,) = title.xpath(
            "./div[contains(concat(' ', @class, ' '), ' o_crm_relationship_badges ')]"
        )
        self.assertEqual(badges.getprevious().tag, "h1")
        self.assertFalse(title.xpath("./h1//*[@name='relationship_tier_id']"))

    # ------------------------------------------------------------------
    # company scope of the wizards
    # ------------------------------------------------------------------

    def test_simulation_stays_in_the_current_company(self):
        Simulation = self.env["crm.relationship.tier.simulation"].with_user(
            self.relationship_manager
        )
        forged = Simulation.with_context(default_company_id=self.company_b.id)
        defaults = forged.default_get(["company_id", "line_ids"])
        self.assertEqual(defaults["company_id"], self.company.id)
        simulation = forged.create(
            {"company_id": self.company_b.id, "line_ids": defaults["line_ids"]}
        )
        self.assertEqual(simulation.company_id, self.company)
        self.assertEqual(simulation.line_ids.tier_id.company_id, self.company)
        self.assertEqual(simulation.customer_count, 1, "company B's customer is unseen")
        vip_line = simulation.line_ids.filtered(
            lambda ln: ln.tier_id == self.tiers["vip"]
        )
        self.assertEqual(vip_line.current_revenue, 1000.0)
        with self.assertRaises(ValidationError):
            simulation.company_id = self.company_b
        with self.assertRaises(ValidationError):
            simulation.write(
                {
                    "line_ids": [
                        Command.create(
                            {
                                "tier_id": self.tiers_b["vip"].id,
                                "threshold_type": "amount",
                            }
                        )
                    ]
                }
            )
        self.assertEqual(simulation.line_ids.tier_id.company_id, self.company)

    def test_simulation_of_a_manager_of_both_companies(self):
        self.relationship_manager.company_ids += self.company_b
        Simulation = (
            self.env["crm.relationship.tier.simulation"]
            .with_user(self.relationship_manager)
            .with_context(allowed_company_ids=[self.company.id, self.company_b.id])
        )
        simulation = Form(Simulation).save()
        self.assertEqual(simulation.company_id, self.company)
        with self.assertRaises(ValidationError):
            simulation.line_ids[0].tier_id = self.tiers_b["vip"]
        in_b = Form(
            Simulation.with_context(allowed_company_ids=[self.company_b.id])
        ).save()
        self.assertEqual(in_b.company_id, self.company_b)
        self.assertEqual(in_b.customer_count, 1)
        self.assertEqual(
            in_b.line_ids.filtered(
                lambda ln: ln.tier_id == self.tiers_b["vip"]
            ).current_revenue,
            7000.0,
        )

    def test_kpi_backfill_refuses_other_companies(self):
        vals = {
            "date_from": "2026-05-01",
            "date_to": "2026-06-30",
            "company_ids": [Command.set(self.company_b.ids)],
        }
        Backfill = self.env["crm.relationship.kpi.backfill"]
        with self.assertRaisesRegex(UserError, "companies you are working in"):
            Backfill.with_user(self.relationship_manager).create(vals).action_backfill()
        # a manager of both companies, working in company A only
        self.relationship_manager.company_ids += self.company_b
        wizard = (
            Backfill.with_user(self.relationship_manager)
            .with_context(allowed_company_ids=self.company.ids)
            .create(vals)
        )
        values = self.env["crm.relationship.kpi.value"]
        with self.assertRaisesRegex(UserError, "companies you are working in"):
            wizard.action_backfill()
        self.assertFalse(values.search([("company_id", "=", self.company_b.id)]))
        wizard.company_ids = self.company | self.company_b
        wizard.action_backfill()
        self.assertTrue(values.search([("company_id", "=", self.company.id)]))
        self.assertFalse(values.search([("company_id", "=", self.company_b.id)]))

    def test_enroll_and_end_wizards_stay_in_the_user_companies(self):
        program_b = self.env["crm.relationship.program"].create(
            {"name": "Chương trình Hà Nội", "company_id": self.company_b.id}
        )
        customer_of_b = self._customer("Khách riêng B", company_id=self.company_b.id)
        enroll = (
            self.env["crm.relationship.program.enroll"]
            .with_user(self.relationship_manager)
            .create(
                {
                    "program_id": program_b.id,
                    "partner_ids": [Command.set(self.customer.ids)],
                }
            )
        )
        with self.assertRaises(AccessError):
            enroll.action_enroll()
        self.assertFalse(program_b.member_ids)
        end = (
            self.env["res.partner.relationship.end"]
            .with_user(self.relationship_manager)
            .create(
                {
                    "partner_ids": [Command.set(customer_of_b.ids)],
                    "reason": "fraud",
                }
            )
        )
        with self.assertRaises(AccessError):
            end.action_end_relationship()
        for company in self.company | self.company_b:
            self.assertFalse(
                customer_of_b.sudo().with_company(company).relationship_end_date
            )

    # ------------------------------------------------------------------
    # ending a relationship
    # ------------------------------------------------------------------

    def test_only_managers_end_or_resume_relationships(self):
        customer = self.customer
        messages = len(customer.message_ids)
        for user in (self.employee, self.contact_editor, self.relationship_user):
            as_user = customer.with_user(user)
            with self.subTest(user=user.login):
                with self.assertRaisesRegex(AccessError, "Relationship Managers"):
                    as_user.action_end_relationship()
                with self.assertRaisesRegex(AccessError, "Relationship Managers"):
                    as_user.action_reactivate_relationship()
                with self.assertRaises(AccessError):
                    self.env["res.partner.relationship.end"].with_user(
                        user
                    ).with_context(
                        active_model="res.partner", active_ids=customer.ids
                    ).create({"reason": "fraud"})
        customer.invalidate_recordset()
        self.assertFalse(customer.relationship_end_date)
        self.assertFalse(customer.relationship_end_reason)
        self.assertEqual(customer.relationship_status, "active")
        self.assertEqual(len(customer.message_ids), messages, "nothing posted")

        wizard = (
            self.env["res.partner.relationship.end"]
            .with_user(self.relationship_manager)
            .with_context(active_model="res.partner", active_ids=customer.ids)
            .create({"reason": "fraud", "date": "2026-06-30"})
        )
        wizard.action_end_relationship()
        self.assertEqual(customer.relationship_end_reason, "fraud")
        self.assertEqual(customer.relationship_status, "lost")
        self.assertEqual(self.contact.relationship_end_reason, "fraud")
        with self.assertRaises(AccessError):
            self.contact.with_user(
                self.relationship_manager
            ).relationship_end_date = False
        customer.with_user(self.relationship_manager).action_reactivate_relationship()
        self.assertFalse(customer.relationship_end_date)
        self.assertFalse(self.contact.relationship_end_date)

    def test_read_only_entry_points(self):
        Partner = type(self.env["res.partner"])
        for method in (
            Partner.action_view_relationship_feedback,
            Partner.action_view_care_interactions,
            type(self.env["crm.relationship.tier"]).action_view_partners,
            type(self.env["crm.relationship.kpi"]).action_view_values,
            type(self.env["crm.relationship.tier.simulation"]).onchange,
        ):
            with self.subTest(method=method.__name__):
                self.assertTrue(getattr(method, "_readonly", False))
