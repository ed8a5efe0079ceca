"""Demo data of the company made by code: a seeded population of buyers for
a trusted predictive fit, and customers of different profitability."""

import random
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models


class ResCompany(models.Model):
    _inherit = "res.company"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _relationship_demo_predictive(self):
        """Demo data: enough repeat buyers for a trusted predictive fit in the
        main company (a seeded population of small shops buying at their own
        pace), a VIP that bought every week, then went silent (likely lost),
        the predictive method, and a classification six months ago before
        today's, so that tier moves show in the history."""
        company = self.env.ref("base.main_company")
        today = fields.Date.context_today(self)
        rnd = random.Random(42)
        partners = self.env["res.partner"].create(
            [
                {"name": f"Cửa hàng bán lẻ {n:02d}", "is_company": True}
                for n in range(1, 61)
            ]
        )
        vip = self.env["res.partner"].create(
            {"name": "Công ty CP Thương mại Đông Á", "is_company": True}
        )

        def move(partner, day, amount):
            return {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": day,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Hàng hóa và dịch vụ",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [],
                        }
                    )
                ],
            }

        vals_list = []
        for partner in partners:
            day = today - timedelta(days=rnd.randrange(120, 540))
            rate = rnd.gammavariate(2, 1 / 20)  # purchases per week
            dropout = rnd.betavariate(1.2, 4)
            spend = rnd.gammavariate(3, 1 / 20000)
            while day <= today:
                vals_list.append(
                    move(partner, day, round(rnd.gammavariate(3, 1 / spend), -2))
                )
                if rnd.random() < dropout:
                    break
                day += timedelta(days=max(1, int(rnd.expovariate(rate) * 7)))
        first = today - relativedelta(months=11)
        for week in range(20):
            amount = round(rnd.uniform(60000, 90000), -2)
            vals_list.append(move(vip, first + timedelta(weeks=week), amount))
        self.env["account.move"].with_company(company).create(vals_list).action_post()
        company.relationship_clv_method = "bgnbd"
        Partner = self.env["res.partner"]
        Partner._recompute_relationship(
            as_of=today - relativedelta(months=6), company_ids=company.ids
        )
        Partner._recompute_relationship(as_of=today, company_ids=company.ids)

    @api.model
    def _relationship_demo_profit(self):
        """Demo data: products with costs and the Invoicing report's margin as
        the main company's gross margin, what interactions and complaints cost,
        and a few small shops that cost more to serve than they bring (the
        hump of the whale curve); the large tier's level follows Kotler's
        matrix."""
        company = self.env.ref("base.main_company")
        today = fields.Date.context_today(self)
        Product = self.env["product.product"].with_company(company)
        steel, installation, promotion = Product.create(
            [
                {"name": "Thép cuộn cán nóng", "list_price": 1200.0},
                {"name": "Dịch vụ lắp đặt", "type": "service", "list_price": 500.0},
                {"name": "Hàng khuyến mãi", "list_price": 100.0},
            ]
        )
        steel.standard_price = 900.0
        installation.standard_price = 150.0
        # sold below cost to win the shops' shelves
        promotion.standard_price = 160.0
        channels = {
            "crm_relationship.crm_relationship_channel_phone": 5.0,
            "crm_relationship.crm_relationship_channel_email": 1.0,
            "crm_relationship.crm_relationship_channel_meeting": 80.0,
            "crm_relationship.crm_relationship_channel_visit": 150.0,
        }
        for xmlid, cost in channels.items():
            channel = self.env.ref(xmlid, raise_if_not_found=False)
            if channel:
                channel.with_company(company).cost = cost
        company.write(
            {
                "relationship_margin_source": "product_cost",
                "relationship_complaint_cost": 200.0,
            }
        )
        shops = self.env["res.partner"].create(
            [
                {"name": name, "is_company": True}
                for name in (
                    "Cửa hàng Điện thoại Mai Linh",
                    "Tạp hóa Cô Ba",
                    "Quầy hàng Chợ Lớn",
                )
            ]
        )
        lines = [
            (promotion, 3000, 100.0),
            (installation, 2, 450.0),
            (promotion, 2000, 100.0),
        ]
        moves = []
        for index, shop in enumerate(shops):
            product, quantity, price = lines[index]
            moves.append(
                {
                    "move_type": "out_invoice",
                    "partner_id": shop.id,
                    "invoice_date": today - timedelta(days=40 + 30 * index),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "quantity": quantity,
                                "price_unit": price,
                                "tax_ids": [],
                            }
                        )
                    ],
                }
            )
        self.env["account.move"].with_company(company).create(moves).action_post()
        visit = self.env.ref("crm_relationship.crm_relationship_channel_visit")
        interactions = (
            self.env["crm.relationship.interaction"]
            .with_company(company)
            .create(
                [
                    {
                        "summary": "Thăm cửa hàng, hỗ trợ trưng bày",
                        "partner_id": shop.id,
                        "date": today - timedelta(days=10 + 20 * visit_number),
                        "channel_id": visit.id,
                        "company_id": company.id,
                    }
                    for shop in shops
                    for visit_number in range(4)
                ]
            )
        )
        complaints = (
            self.env["crm.relationship.feedback"]
            .with_company(company)
            .sudo()
            .create(
                [
                    {
                        "name": "Khiếu nại giao hàng chậm",
                        "partner_id": shop.id,
                        "feedback_type": "complaint",
                        "company_id": company.id,
                    }
                    for shop in shops
                ]
            )
        )
        # module data, so that uninstalling removes them with their channels
        # and feedback stages
        self.env["ir.model.data"]._update_xmlids(
            [
                {
                    "xml_id": f"crm_relationship.{record._table}_profit_{n}_demo",
                    "record": record,
                    "noupdate": True,
                }
                for records in (interactions, complaints)
                for n, record in enumerate(records, start=1)
            ]
        )
        self.env["crm.relationship.tier"].search(
            [("company_id", "=", company.id), ("code", "=", "large")]
        ).level_rule = "kotler"
