from odoo import Command, fields
from odoo.tests import new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class CrmRelationshipCommon(AccountTestInvoicingCommon):
    """A company of its own with a chart of accounts, the default tiers, a
    Relationship Manager as the test user and a plain Relationship User.

    Dates are fixed: ``cls.as_of`` is the analysis date of every test.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager_group = cls.env.ref(
            "crm_relationship.crm_relationship_group_manager"
        )
        cls.user_group = cls.env.ref("crm_relationship.crm_relationship_group_user")
        cls.env.user.groups_id += cls.manager_group
        cls.company = cls.env.company
        cls.as_of = fields.Date.to_date("2026-06-30")
        cls.tiers = {
            tier.code: tier
            for tier in cls.env["crm.relationship.tier"].search(
                [("company_id", "=", cls.company.id)]
            )
        }
        cls.relationship_user = new_test_user(
            cls.env,
            login="relationship_user",
            name="Relationship User",
            groups="base.group_user,crm_relationship.crm_relationship_group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.relationship_manager = new_test_user(
            cls.env,
            login="relationship_manager",
            name="Relationship Manager",
            groups="base.group_user,crm_relationship.crm_relationship_group_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    @classmethod
    def _customer(cls, name, **vals):
        return cls.env["res.partner"].create({"name": name, "is_company": True, **vals})

    @classmethod
    def _invoice(
        cls,
        partner,
        invoice_date,
        amount,
        move_type="out_invoice",
        company=None,
        currency=None,
        post=True,
    ):
        """A customer invoice (or credit note) of one untaxed line of ``amount``."""
        company = company or cls.company
        move = (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": partner.id,
                    "invoice_date": invoice_date,
                    "currency_id": (currency or company.currency_id).id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Service",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        if post:
            move.action_post()
        return move

    def _recompute(self, partners=None, as_of=None, company=None):
        partners = partners if partners is not None else self.env["res.partner"]
        company = company or self.company
        return partners._recompute_relationship(
            as_of=as_of or self.as_of, company_ids=company.ids
        )
