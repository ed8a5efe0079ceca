"""Every SQL fact the relationship rules read, one method each: a fact
written twice would drift, so they share one model (the profitability facts
in crm_relationship_facts_profit.py; each method is one select, but the
counting placement of a few customers, which reads their sales and counts
first to write them in its select)."""

import functools
from datetime import datetime, time, timedelta

from odoo import api, models
from odoo.tools import SQL

from ..tools.lifetime_value import retention_date
from ..tools.status import quarter_bounds, window_start

# what the revenue queries of the module read of account.move, to flush first
REVENUE_FIELDS = [
    "amount_untaxed_signed",
    "commercial_partner_id",
    "company_id",
    "invoice_date",
    "move_type",
    "payment_state",
    "state",
]
# the RFM score 1..5 of a cumulative share (docs/rules.md, RFM)
QUINTILE = "GREATEST(1, CEIL(ROUND((5 * %s)::numeric, 9)))::int"
# a partial run of at most this many customers places each by counting the
# population above and below it (one pass); more are placed by window functions
# (one sort of the population per ordering)
PLACE_BY_COUNTING = 20


def revenue_move_sql(alias=None):
    """The moves that make revenue, in any company and at any date: posted
    customer invoices and credit notes (of the table aliased ``alias``, or of
    the bare table). A purchase is such an invoice. The one definition: the
    facts, the program results and the partial index on account_move use it."""

    def column(name):
        return SQL.identifier(alias, name) if alias else SQL.identifier(name)

    return SQL(
        "%s = 'posted' AND %s IN ('out_invoice', 'out_refund')",
        column("state"),
        column("move_type"),
    )


class CrmRelationshipFacts(models.AbstractModel):
    """The facts the relationship rules read, one query each.

    Each method returns an SQL select keyed by commercial partner (``pid``) for
    one company as of a date; the classification engine joins them into one
    pass, and the KPIs and tests reuse them, so that every fact (revenue of a
    window, an overdue complaint, a prospect...) has a single definition.
    """

    _name = "crm.relationship.facts"
    _description = "Customer relationship facts"

    @api.model
    def _revenue_moves_sql(self, company, as_of, alias="m"):
        """The moves that make revenue: posted customer invoices and credit
        notes of ``company`` dated up to ``as_of``. Their signed untaxed amount
        in company currency is the revenue; a purchase is such an invoice."""
        self.env["account.move"].flush_model(REVENUE_FIELDS)
        return SQL(
            """%(m)s.company_id = %(company)s AND %(revenue_move)s
               AND %(m)s.invoice_date <= %(as_of)s
               AND %(m)s.commercial_partner_id IS NOT NULL""",
            m=SQL.identifier(alias),
            revenue_move=revenue_move_sql(alias),
            company=company.id,
            as_of=as_of,
        )

    @api.model
    def _sales_sql(self, company, as_of):
        """Per commercial partner who has revenue moves: revenue of the window
        and of the previous one, revenue to date, purchases in both windows,
        first and last purchase, a bit per quarter of the window with a purchase,
        whether an invoice is still unpaid, and ``month_end_retained``: at the
        last month end, whether a customer active in the previous window is
        active again (``_retention_counts``, None for the others)."""
        months = company.relationship_window_months
        start = window_start(as_of, months)
        q1, q2, q3, _q4 = quarter_bounds(as_of, months)
        return SQL(
            """
            SELECT m.commercial_partner_id AS pid,
                   COALESCE(SUM(m.amount_untaxed_signed)
                       FILTER (WHERE m.invoice_date > %(start)s), 0) AS revenue,
                   COALESCE(SUM(m.amount_untaxed_signed)
                       FILTER (WHERE m.invoice_date > %(previous_start)s
                                 AND m.invoice_date <= %(start)s), 0)
                       AS previous_revenue,
                   SUM(m.amount_untaxed_signed) AS historical_revenue,
                   COUNT(*) FILTER (WHERE m.move_type = 'out_invoice'
                                      AND m.invoice_date > %(start)s) AS purchases,
                   COUNT(*) FILTER (WHERE m.move_type = 'out_invoice'
                                      AND m.invoice_date > %(previous_start)s
                                      AND m.invoice_date <= %(start)s)
                       AS previous_purchases,
                   MIN(m.invoice_date) FILTER (WHERE m.move_type = 'out_invoice')
                       AS first_purchase,
                   MAX(m.invoice_date) FILTER (WHERE m.move_type = 'out_invoice')
                       AS last_purchase,
                   COALESCE(BIT_OR(CASE WHEN m.invoice_date > %(q1)s THEN 1
                                        WHEN m.invoice_date > %(q2)s THEN 2
                                        WHEN m.invoice_date > %(q3)s THEN 4
                                        ELSE 8 END)
                       FILTER (WHERE m.move_type = 'out_invoice'
                                 AND m.invoice_date > %(start)s), 0) AS quarters,
                   BOOL_OR(m.move_type = 'out_invoice'
                           AND m.payment_state IN ('not_paid', 'partial')) AS unpaid,
                   %(month_end_retained)s AS month_end_retained
              FROM account_move m
             WHERE %(moves)s
          GROUP BY m.commercial_partner_id
            """,
            start=start,
            previous_start=window_start(as_of, months, 2),
            month_end_retained=self._retained_sql(company, retention_date(as_of)),
            q1=q1,
            q2=q2,
            q3=q3,
            moves=self._revenue_moves_sql(company, as_of),
        )

    @api.model
    def _ranked_sales_sql(self, company, as_of):
        """``_sales_sql`` (with ``_profit_sql``'s figures) and what compares a
        customer to the whole company, among the customers with revenue > 0 in
        the window: the rank by revenue, or by profit when the company's tiers
        are by profit (ties by partner id), the RFM quintile scores
        (``ceil(5 * cume_dist())``, docs/rules.md, RFM)."""
        quintile = QUINTILE % "CUME_DIST() OVER (ORDER BY %s)"
        # the window functions sort the buyers' few columns, not the wide
        # rows of the sales (half the time of the ranking at a million)
        return SQL(
            """
            WITH s AS MATERIALIZED (%(sales)s),
                 ranks AS (
                     SELECT pid,
                            (ROW_NUMBER() OVER (
                                ORDER BY %(basis)s DESC, pid))::int AS revenue_rank,
                            %(recency)s AS recency_score,
                            %(frequency)s AS frequency_score,
                            %(monetary)s AS monetary_score,
                            COUNT(*) OVER () AS buyers
                       FROM s WHERE revenue > 0)
            SELECT s.*, b.revenue_rank, b.recency_score, b.frequency_score,
                   b.monetary_score, b.buyers
              FROM s LEFT JOIN ranks b ON b.pid = s.pid
            """,
            recency=SQL(quintile % "last_purchase"),
            frequency=SQL(quintile % "purchases"),
            monetary=SQL(quintile % "revenue"),
            sales=self._profit_sql(company, as_of),
            # the tiers' basis (docs/rules.md, Profit): an
            # unprofitable customer ranks last
            basis=SQL(
                "profit" if company.relationship_tier_basis == "profit" else "revenue"
            ),
        )

    @api.model
    def _placed_sales_sql(self, company, as_of, partner_ids):
        """``_ranked_sales_sql`` of the commercial partners ``partner_ids`` only,
        placed among the others from what the last classification stored (their
        revenue, profit, purchases and last purchase of the window) instead of
        recomputing the whole company: the sales of the few, one scan of the
        stored figures. When nothing else changed since that classification,
        the figures equal those of a full run.

        The rank follows the company's tier basis as in ``_ranked_sales_sql``:
        revenue, or profit (ties by partner id; an unprofitable customer ranks
        last). The cumulative share of a quintile is the share of the
        population with a value up to the customer's own, as ``CUME_DIST()``
        counts it."""
        self.env["res.partner"].flush_model(
            [
                "commercial_partner_id",
                "period_revenue",
                "period_profit",
                "purchase_count",
                "last_purchase_date",
            ]
        )
        stored = functools.partial(
            self.env["crm.relationship.writer"]._stored_sql, "p", key=str(company.id)
        )
        sales = self._profit_sql(company, as_of)
        ids = list(partner_ids)
        # the others with revenue > 0, from what they hold
        others = SQL(
            """SELECT p.id AS pid, %(revenue)s AS revenue, %(profit)s AS profit,
                      %(purchases)s AS purchases, %(last_purchase)s AS last_purchase
                 FROM res_partner p
                WHERE p.id = p.commercial_partner_id
                  AND p.id != ALL(%(ids)s) AND %(revenue)s > 0""",
            ids=ids,
            revenue=stored("period_revenue"),
            # a profit of 0 is stored as no value
            profit=SQL("COALESCE(%s, 0)", stored("period_profit")),
            purchases=SQL("COALESCE(%s, 0)", stored("purchase_count")),
            last_purchase=stored("last_purchase_date"),
        )
        # the tiers' basis (docs/rules.md, Profit), as _ranked_sales_sql
        basis = "profit" if company.relationship_tier_basis == "profit" else "revenue"
        if len(ids) <= PLACE_BY_COUNTING:
            return self._counted_sales_sql(sales, ids, others, basis)
        population = SQL(
            """
            WITH s AS MATERIALIZED (
                     SELECT * FROM (%(sales)s) s WHERE s.pid = ANY(%(ids)s)),
                 -- the customers with revenue > 0: the partners of the run from
                 -- their sales, the others from what they hold
                 population AS MATERIALIZED (
                     SELECT pid, revenue, profit, purchases, last_purchase
                       FROM s WHERE revenue > 0
                  UNION ALL %(others)s)""",
            sales=sales,
            ids=ids,
            others=others,
        )
        basis = SQL.identifier(basis)
        return SQL(
            """%(population)s,
                 placed AS (
                     SELECT pid,
                            (ROW_NUMBER() OVER (ORDER BY %(basis)s DESC, pid))::int
                                AS revenue_rank,
                            %(recency)s AS recency_score,
                            %(frequency)s AS frequency_score,
                            %(monetary)s AS monetary_score
                       FROM population)
            SELECT s.*, pl.revenue_rank, pl.recency_score, pl.frequency_score,
                   pl.monetary_score,
                   (SELECT COUNT(*) FROM population) AS buyers
              FROM s LEFT JOIN placed pl ON pl.pid = s.pid
            """,
            population=population,
            basis=basis,
            recency=SQL(QUINTILE % "CUME_DIST() OVER (ORDER BY last_purchase)"),
            frequency=SQL(QUINTILE % "CUME_DIST() OVER (ORDER BY purchases)"),
            monetary=SQL(QUINTILE % "CUME_DIST() OVER (ORDER BY revenue)"),
        )

    @api.model
    def _counted_sales_sql(self, sales, partner_ids, others, basis):
        """``_placed_sales_sql`` of a few customers: their sales first, then
        who is above or below each of them among the customers with revenue >
        0 (``others`` and themselves), with their figures written in, so that
        PostgreSQL counts for all of them in one parallel pass over the
        company's index of the stored revenue (res_partner_index) instead of
        once per customer; the counts are written in the query returned."""
        placed = self.env.execute_query(
            SQL(
                """SELECT pid, revenue::float8, profit::float8, purchases,
                          last_purchase
                     FROM (%s) s WHERE s.pid = ANY(%s) AND s.revenue > 0""",
                sales,
                partner_ids,
            )
        )
        counts = [SQL("COUNT(*)")]
        for pid, revenue, profit, purchases, last_purchase in placed:
            value = profit if basis == "profit" else revenue
            counts += [
                SQL(
                    """COUNT(*) FILTER (WHERE o.%(basis)s > %(value)s
                                           OR o.%(basis)s = %(value)s
                                          AND o.pid < %(pid)s)""",
                    basis=SQL.identifier(basis),
                    value=value,
                    pid=pid,
                ),
                SQL("COUNT(*) FILTER (WHERE o.last_purchase <= %s)", last_purchase),
                SQL("COUNT(*) FILTER (WHERE o.purchases <= %s)", purchases),
                SQL("COUNT(*) FILTER (WHERE o.revenue <= %s)", revenue),
            ]
        # the others counted apart, in parallel, then the few themselves
        columns = SQL(", ").join(
            SQL("%s AS %s", count, SQL.identifier(f"c{i}"))
            for i, count in enumerate(counts)
        )
        parts = [SQL("SELECT %s FROM (%s) o", columns, others)]
        if placed:
            rows = SQL(", ").join(
                SQL("(%s, %s::float8, %s::float8, %s::int8, %s::date)", *row)
                for row in placed
            )
            parts.append(
                SQL(
                    """SELECT %s FROM (VALUES %s)
                           o(pid, revenue, profit, purchases, last_purchase)""",
                    columns,
                    rows,
                )
            )
        totals = SQL(", ").join(
            SQL("SUM(%s)::int8", SQL.identifier(f"c{i}")) for i in range(len(counts))
        )
        [[buyers, *counted]] = self.env.execute_query(
            SQL("SELECT %s FROM (%s) parts", totals, SQL(" UNION ALL ").join(parts))
        )
        values = SQL(", ").join(
            SQL("(%s, %s, %s, %s, %s)", row[0], *counted[4 * i : 4 * i + 4])
            for i, row in enumerate(placed)
        ) or SQL("(NULL::int, 0, 0, 0, 0)")
        share = f"(c.%s::float8 / {int(buyers) or 1})"
        return SQL(
            """
            SELECT s.*,
                   CASE WHEN s.revenue > 0 THEN c.above::int + 1 END AS revenue_rank,
                   CASE WHEN s.revenue > 0 THEN %(recency)s END AS recency_score,
                   CASE WHEN s.revenue > 0 THEN %(frequency)s END AS frequency_score,
                   CASE WHEN s.revenue > 0 THEN %(monetary)s END AS monetary_score,
                   %(buyers)s::bigint AS buyers
              FROM (%(sales)s) s
         LEFT JOIN (VALUES %(values)s) c(pid, above, recent, frequent, spent)
                ON c.pid = s.pid
             WHERE s.pid = ANY(%(ids)s)
            """,
            sales=sales,
            ids=partner_ids,
            values=values,
            buyers=buyers,
            recency=SQL(QUINTILE % (share % "recent")),
            frequency=SQL(QUINTILE % (share % "frequent")),
            monetary=SQL(QUINTILE % (share % "spent")),
        )

    @api.model
    def _retained_sql(self, company, as_of):
        """The aggregate, over a customer's revenue moves ``m``, telling
        whether a customer active in the window before the one ending on
        ``as_of`` (revenue > 0 there) is active in it again; NULL for a
        customer who was not (``tools.kpi.retained``). The one SQL form of the
        lifetime value's retention (docs/rules.md, Lifetime value)."""
        months = company.relationship_window_months
        return SQL(
            """CASE WHEN COALESCE(SUM(m.amount_untaxed_signed) FILTER (
                             WHERE m.invoice_date > %(previous_start)s
                               AND m.invoice_date <= %(start)s), 0) > 0
                    THEN COALESCE(SUM(m.amount_untaxed_signed) FILTER (
                             WHERE m.invoice_date > %(start)s
                               AND m.invoice_date <= %(as_of)s), 0) > 0 END""",
            previous_start=window_start(as_of, months, 2),
            start=window_start(as_of, months),
            as_of=as_of,
        )

    @api.model
    def _retention_counts(self, company, as_of):
        """``(active in the previous window, retained)`` of ``company`` at
        ``as_of`` (``_retained_sql``), from the moves of the two windows only;
        a full run counts them from its own sales instead
        (``month_end_retained``)."""
        [counts] = self.env.execute_query(
            SQL(
                """SELECT COUNT(retained), COUNT(*) FILTER (WHERE retained)
                     FROM (SELECT %(retained)s AS retained
                             FROM account_move m
                            WHERE %(moves)s AND m.invoice_date > %(previous_start)s
                         GROUP BY m.commercial_partner_id) r""",
                retained=self._retained_sql(company, as_of),
                previous_start=window_start(
                    as_of, company.relationship_window_months, 2
                ),
                moves=self._revenue_moves_sql(company, as_of),
            )
        )
        return counts

    @api.model
    def _get_prospect_queries(self, company, as_of):
        """Selects of the commercial partners that are prospects of ``company``
        (docs/rules.md, Tiers: an active opportunity of the company or of none,
        a membership in one of its programs, or a customer role where the
        partner belongs to the company, or is shared and had bought from no
        company by ``as_of``). The rules ask only about partners without a
        revenue move in ``company`` (else it bought), so these may leave its
        moves out.

        Override hook: a feature adding a prospect signal appends its query.
        """
        self.env["res.partner"].flush_model(
            ["active", "commercial_partner_id", "company_id", "customer_rank"]
        )
        self.env["crm.lead"].flush_model(["active", "company_id", "partner_id", "type"])
        self.env["crm.relationship.program.member"].flush_model(
            ["company_id", "partner_id"]
        )
        # "in no company" is then "in no other one": a single company looks
        # up no move
        others = (
            self.env["res.company"]
            .sudo()
            .with_context(active_test=False)
            .search([("id", "!=", company.id)])
            .ids
        )
        bought_elsewhere = SQL("FALSE")
        if others:
            bought_elsewhere = SQL(
                """EXISTS (SELECT 1 FROM account_move m
                            WHERE m.company_id = ANY(%(others)s)
                              AND m.commercial_partner_id = p.id
                              AND %(revenue_move)s
                              AND m.invoice_date <= %(as_of)s)""",
                others=others,
                revenue_move=revenue_move_sql("m"),
                as_of=as_of,
            )
        return [
            SQL(
                """SELECT p.id FROM res_partner p
                    WHERE p.active AND p.customer_rank > 0
                      AND p.id = p.commercial_partner_id
                      AND (p.company_id = %(company)s
                           OR p.company_id IS NULL AND NOT %(bought_elsewhere)s)""",
                company=company.id,
                bought_elsewhere=bought_elsewhere,
            ),
            SQL(
                """SELECT p.commercial_partner_id FROM crm_lead l
                     JOIN res_partner p ON p.id = l.partner_id
                    WHERE l.active AND l.type = 'opportunity'
                      AND (l.company_id IS NULL OR l.company_id = %s)""",
                company.id,
            ),
            SQL(
                "SELECT partner_id FROM crm_relationship_program_member "
                "WHERE company_id = %s",
                company.id,
            ),
        ]

    @api.model
    def _prospects_sql(self, company, as_of):
        return SQL(" UNION ").join(self._get_prospect_queries(company, as_of))

    @api.model
    def _overdue_complaints_sql(self, company, as_of):
        """Commercial partners with a complaint in ``company`` open at the end of
        ``as_of`` (UTC) and past its deadline then. Open at that time: received
        before and not resolved before (a back-fill still sees a complaint
        resolved later as open)."""
        return SQL(
            "SELECT pid FROM (%s) c", self._overdue_complaint_counts_sql(company, as_of)
        )

    @api.model
    def _overdue_complaint_counts_sql(self, company, as_of):
        """Per commercial partner, the number of its complaints in ``company``
        open at the end of ``as_of`` and past their deadline then (see
        ``_overdue_complaints_sql``)."""
        self.env["crm.relationship.feedback"].flush_model(
            [
                "partner_id",
                "company_id",
                "feedback_type",
                "is_closed",
                "date_received",
                "date_deadline",
                "date_resolved",
            ]
        )
        end = datetime.combine(as_of + timedelta(days=1), time.min)
        return SQL(
            """SELECT p.commercial_partner_id AS pid, COUNT(*) AS complaints
                 FROM crm_relationship_feedback f
                 JOIN res_partner p ON p.id = f.partner_id
                WHERE f.company_id = %(company)s
                  AND f.feedback_type = 'complaint'
                  AND f.date_received < %(end)s
                  AND f.date_deadline < %(end)s
                  AND (f.date_resolved IS NULL OR f.date_resolved >= %(end)s)
                  AND (f.date_resolved IS NOT NULL OR NOT f.is_closed)
             GROUP BY p.commercial_partner_id""",
            company=company.id,
            end=end,
        )

    @api.model
    def _purchase_days_sql(self, company, as_of):
        """Per commercial partner who ever bought from ``company`` by ``as_of``
        (docs/rules.md, Lifetime value): ``repeat_purchases`` x = days with
        a posted out_invoice minus 1, and ``repeat_revenue``, the net revenue
        (invoices minus credit notes) dated after the first purchase day. The
        first and last purchase days are ``_sales_sql``'s first and last
        purchase."""
        return SQL(
            """SELECT pid,
                      (COUNT(DISTINCT day) FILTER (WHERE purchase) - 1)::int
                          AS repeat_purchases,
                      COALESCE(SUM(amount) FILTER (WHERE day > first_day), 0)
                          AS repeat_revenue
                 FROM (SELECT m.commercial_partner_id AS pid,
                              m.invoice_date AS day,
                              m.move_type = 'out_invoice' AS purchase,
                              m.amount_untaxed_signed AS amount,
                              -- partitioned by an expression, not the column
                              -- itself: PostgreSQL then sorts the moves instead
                              -- of walking an index in partner order, which
                              -- fetches every move from the table at random
                              -- (1,000,000 customers: 13.0 s -> 4.5 s)
                              MIN(m.invoice_date)
                                  FILTER (WHERE m.move_type = 'out_invoice')
                                  OVER (PARTITION BY m.commercial_partner_id + 0)
                                  AS first_day
                         FROM account_move m
                        WHERE %(moves)s) s
                WHERE first_day IS NOT NULL
             GROUP BY pid""",
            moves=self._revenue_moves_sql(company, as_of),
        )

    @api.model
    def _survey_answers_sql(self, company, as_of):
        """Per commercial partner, the CSAT (1..5) and NPS (0..10) answers of
        its feedback in ``company`` received in the analysis window ending on
        ``as_of``: answered then (survey), else received then."""
        self.env["crm.relationship.feedback"].flush_model(
            [
                "partner_id",
                "company_id",
                "csat_score",
                "nps_score",
                "nps_answered",
                "date_received",
                "survey_answered_date",
            ]
        )
        start = window_start(as_of, company.relationship_window_months)
        return SQL(
            """SELECT p.commercial_partner_id AS pid,
                      ARRAY_AGG(f.csat_score ORDER BY f.id)
                          FILTER (WHERE f.csat_score > 0) AS csat_scores,
                      ARRAY_AGG(COALESCE(f.nps_score, 0) ORDER BY f.id)
                          FILTER (WHERE f.nps_answered) AS nps_scores
                 FROM crm_relationship_feedback f
                 JOIN res_partner p ON p.id = f.partner_id
                WHERE f.company_id = %(company)s
                  AND (f.csat_score > 0 OR f.nps_answered)
                  AND COALESCE(f.survey_answered_date, f.date_received)
                      >= %(start)s
                  AND COALESCE(f.survey_answered_date, f.date_received) < %(end)s
             GROUP BY p.commercial_partner_id""",
            company=company.id,
            start=datetime.combine(start + timedelta(days=1), time.min),
            end=datetime.combine(as_of + timedelta(days=1), time.min),
        )

    @api.model
    def _overdue_complaint_partner_ids(self, company, as_of):
        query = self._overdue_complaints_sql(company, as_of)
        return {pid for (pid,) in self.env.execute_query(query)}

    @api.model
    def _purchase_days_if_predictive_sql(self, company, as_of):
        """``_purchase_days_sql`` when ``company``'s lifetime value method is
        ``bgnbd``, else an empty select of the same columns (no extra scan)."""
        if company.relationship_clv_method == "bgnbd":
            return self._purchase_days_sql(company, as_of)
        return SQL(
            "SELECT NULL::int AS pid, NULL::int AS repeat_purchases, "
            "NULL::numeric AS repeat_revenue WHERE FALSE"
        )

    @api.model
    def _predictive_inputs_sql(self, company, as_of, source=None):
        """x (repeat purchases), t_x and age (weeks) and the spend per repeat
        purchase m of every customer of ``company`` who ever bought by
        ``as_of``: the inputs of the BG/NBD and Gamma-Gamma fits. ``source``
        is a relation that already holds the purchase days and first and last
        purchases (a run's table); by default they are read from the moves."""
        if source is None:
            source = SQL(
                """(SELECT s.first_purchase, s.last_purchase, pd.repeat_purchases,
                           pd.repeat_revenue
                      FROM (%s) s JOIN (%s) pd ON pd.pid = s.pid) src""",
                self._sales_sql(company, as_of),
                self._purchase_days_sql(company, as_of),
            )
        return SQL(
            """SELECT repeat_purchases, (last_purchase - first_purchase) / 7.0,
                      (%(as_of)s::date - first_purchase) / 7.0,
                      CASE WHEN repeat_purchases > 0
                           THEN repeat_revenue / repeat_purchases ELSE 0 END
                 FROM %(source)s
                WHERE first_purchase IS NOT NULL
                  AND repeat_purchases IS NOT NULL""",
            as_of=as_of,
            source=source,
        )

    @api.model
    def _won_opportunities_sql(self, company, as_of):
        """Per commercial partner, the last day an opportunity of ``company``
        (or of none) was won, up to ``as_of``."""
        self.env["crm.lead"].flush_model(
            ["active", "company_id", "date_closed", "partner_id", "stage_id", "type"]
        )
        return SQL(
            """SELECT p.commercial_partner_id AS pid,
                      MAX(l.date_closed::date) AS won_date
                 FROM crm_lead l
                 JOIN crm_stage s ON s.id = l.stage_id AND s.is_won
                 JOIN res_partner p ON p.id = l.partner_id
                WHERE l.active AND l.type = 'opportunity'
                  AND (l.company_id IS NULL OR l.company_id = %(company)s)
                  AND l.date_closed::date <= %(as_of)s
             GROUP BY p.commercial_partner_id""",
            company=company.id,
            as_of=as_of,
        )

    @api.model
    def _open_opportunities_sql(self, company):
        """Commercial partners with an open opportunity of ``company`` or of none."""
        return SQL(
            """SELECT DISTINCT p.commercial_partner_id AS pid
                 FROM crm_lead l
                 JOIN res_partner p ON p.id = l.partner_id
            LEFT JOIN crm_stage s ON s.id = l.stage_id
                WHERE l.active AND l.type = 'opportunity'
                  AND NOT COALESCE(s.is_won, FALSE)
                  AND (l.company_id IS NULL OR l.company_id = %s)""",
            company.id,
        )

    @api.model
    def _last_interactions_sql(self, company, as_of=None, partner_ids=None):
        """Per commercial partner, the date of its last interaction in
        ``company`` (up to ``as_of`` when given)."""
        self.env["crm.relationship.interaction"].flush_model(
            ["company_id", "date", "partner_id"]
        )
        conditions = [SQL("company_id = %s", company.id)]
        if as_of:
            conditions.append(SQL("date <= %s", as_of))
        if partner_ids is not None:
            conditions.append(SQL("partner_id = ANY(%s)", list(partner_ids)))
        return SQL(
            """SELECT partner_id AS pid, MAX(date) AS last_interaction
                 FROM crm_relationship_interaction
                WHERE %s GROUP BY partner_id""",
            SQL(" AND ").join(conditions),
        )
