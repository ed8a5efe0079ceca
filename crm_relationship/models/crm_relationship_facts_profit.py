"""The profitability facts of the customers (docs/rules.md, Profit): gross
margin by rate or Odoo's own invoice margin, cost to serve, profit."""

from datetime import datetime, time, timedelta

from odoo import api, models
from odoo.tools import SQL

from ..tools.status import window_start
from .crm_relationship_facts import revenue_move_sql


class CrmRelationshipFacts(models.AbstractModel):
    _inherit = "crm.relationship.facts"

    @api.model
    def _profit_sql(self, company, as_of):
        """``_sales_sql`` with the customer's profitability in the window
        (docs/rules.md, Profit), columns added at the end:
        ``margin`` (gross margin GM: revenue times the company's margin rate,
        or Odoo's own invoice margin with the source ``product_cost``),
        ``historical_margin`` (GM to date, ``product_cost`` only),
        ``cost_to_serve`` (CS) and ``profit`` (PR = GM - CS)."""
        product_cost = company.relationship_margin_source == "product_cost"
        margin = (
            SQL("COALESCE(gm.margin, 0)")
            if product_cost
            else SQL("s.revenue * %s::numeric", company.relationship_margin_rate / 100)
        )
        return SQL(
            """
            SELECT s.*, %(margin)s AS margin, gm.historical_margin,
                   COALESCE(cs.cost_to_serve, 0) AS cost_to_serve,
                   %(margin)s - COALESCE(cs.cost_to_serve, 0) AS profit
              FROM (%(sales)s) s
         LEFT JOIN (%(margins)s) gm ON gm.pid = s.pid
         LEFT JOIN (%(costs)s) cs ON cs.pid = s.pid
            """,
            margin=margin,
            sales=self._sales_sql(company, as_of),
            margins=self._margins_sql(
                company, as_of, history=company.relationship_clv_method == "bgnbd"
            )
            if product_cost
            else SQL(
                "SELECT NULL::int AS pid, NULL::numeric AS margin, "
                "NULL::numeric AS historical_margin WHERE FALSE"
            ),
            costs=self._cost_to_serve_sql(company, as_of),
        )

    @api.model
    def _margins_sql(self, company, as_of, history=False):
        """Per commercial partner, Odoo's own invoice margin (the Margin of
        Invoicing > Reporting, ``account.invoice.report.price_margin``) of its
        revenue moves (``_revenue_moves_sql``) in the window (``margin``) and,
        with ``history`` (the predictive method reads it), to date
        (``historical_margin``, else NULL: only the window's lines are read),
        in company currency.

        The report's own query is aggregated, not a copy of its formula: one
        definition (untaxed amount minus quantity in the product's unit times
        the product's cost in the line's company, the opposite for a credit
        note), so that the figures equal the report's to the cent. Read as of
        the company alone, its currency table converts at the rate 1.
        """
        Report = (
            self.env["account.invoice.report"]
            .sudo()
            .with_context(allowed_company_ids=company.ids)
        )
        for model, fnames in Report._depends.items():
            self.env[model].flush_model(fnames)
        start = window_start(as_of, company.relationship_window_months)
        return SQL(
            """SELECT m.commercial_partner_id AS pid,
                      COALESCE(SUM(r.price_margin)
                          FILTER (WHERE m.invoice_date > %(start)s), 0) AS margin,
                      %(historical)s AS historical_margin
                 FROM (%(report)s) r
                 JOIN account_move m ON m.id = r.move_id
                WHERE %(moves)s %(window)s
                  -- the same moves, named on the report's own columns too, so
                  -- that they are picked before its lines are joined
                  AND r.company_id = %(company)s AND %(report_moves)s
                  AND r.invoice_date <= %(as_of)s
             GROUP BY m.commercial_partner_id""",
            start=start,
            historical=SQL("COALESCE(SUM(r.price_margin), 0)")
            if history
            else SQL("NULL::numeric"),
            report=Report._table_query,
            moves=self._revenue_moves_sql(company, as_of),
            window=SQL("")
            if history
            else SQL(
                "AND m.invoice_date > %(start)s AND r.invoice_date > %(start)s",
                start=start,
            ),
            company=company.id,
            report_moves=revenue_move_sql("r"),
            as_of=as_of,
        )

    @api.model
    def _cost_to_serve_sql(self, company, as_of):
        """Per commercial partner, its cost to serve CS in ``company`` over the
        window ending on ``as_of``: each interaction dated in it times the
        company's cost of its channel, plus each complaint received in it
        (UTC days) times the company's complaint cost. An empty select when
        the company has no cost (no scan)."""
        costs = [
            (channel.id, channel.cost)
            for channel in self.env["crm.relationship.channel"]
            .sudo()
            .with_company(company)
            .with_context(active_test=False)
            .search([])
            if channel.cost
        ]
        complaint_cost = company.relationship_complaint_cost
        selects = []
        start = window_start(as_of, company.relationship_window_months)
        if costs:
            self.env["crm.relationship.interaction"].flush_model(
                ["channel_id", "company_id", "date", "partner_id"]
            )
            selects.append(
                SQL(
                    """SELECT p.commercial_partner_id AS pid, c.cost
                         FROM crm_relationship_interaction i
                         JOIN (VALUES %(costs)s) c(channel_id, cost)
                           ON c.channel_id = i.channel_id
                         JOIN res_partner p ON p.id = i.partner_id
                        WHERE i.company_id = %(company)s
                          AND i.date > %(start)s AND i.date <= %(as_of)s""",
                    costs=SQL(", ").join(
                        SQL("(%s, %s::numeric)", cid, cost) for cid, cost in costs
                    ),
                    company=company.id,
                    start=start,
                    as_of=as_of,
                )
            )
        if complaint_cost:
            self.env["crm.relationship.feedback"].flush_model(
                ["company_id", "date_received", "feedback_type", "partner_id"]
            )
            selects.append(
                SQL(
                    """SELECT p.commercial_partner_id AS pid, %(cost)s::numeric
                         FROM crm_relationship_feedback f
                         JOIN res_partner p ON p.id = f.partner_id
                        WHERE f.company_id = %(company)s
                          AND f.feedback_type = 'complaint'
                          AND f.date_received >= %(start)s
                          AND f.date_received < %(end)s""",
                    cost=complaint_cost,
                    company=company.id,
                    start=datetime.combine(start + timedelta(days=1), time.min),
                    end=datetime.combine(as_of + timedelta(days=1), time.min),
                )
            )
        if not selects:
            return SQL(
                "SELECT NULL::int AS pid, NULL::numeric AS cost_to_serve WHERE FALSE"
            )
        return SQL(
            "SELECT pid, SUM(cost) AS cost_to_serve "
            "FROM (%s) c(pid, cost) GROUP BY pid",
            SQL(" UNION ALL ").join(selects),
        )
