from odoo import api, models
from odoo.tools import SQL

from .crm_relationship_writer import CLASSIFICATION_FIELDS

RUN_TABLE = "crm_relationship_run"
READ_BATCH_SIZE = 20000


def stream_rows(cr, name, query):
    """Yield the rows of ``query`` (an SQL) READ_BATCH_SIZE at a time from a
    server-side cursor named ``name`` of the transaction of ``cr``, so that
    memory follows the batch, not the book. Odoo's cursor has no server-side
    cursor: a named one of its connection is the way."""
    cursor = cr._cnx.cursor(name)
    try:
        cursor.execute(query.code, query.params)
        while records := cursor.fetchmany(READ_BATCH_SIZE):
            yield records
    finally:
        cursor.close()


class CrmRelationshipRunFacts(models.AbstractModel):
    """The facts of one classification run of one company.

    Every fact of ``crm.relationship.facts`` is joined, with set-based
    queries, into one temporary table holding a row per customer in scope
    (company-wide ranks and quintiles by SQL window functions; on a partial run
    the few customers placed among the figures the others hold), with what the
    partner holds now; the run reads it back in batches from a server-side
    cursor, so that memory depends on the batch size, not on the book.
    """

    _name = "crm.relationship.run.facts"
    _description = "Customer classification run facts"

    @api.model
    def _build(self, company, as_of, partner_ids=None, sales_only=False):
        """One row per customer in scope with every fact the rules read.

        The scope of a full run: partners with revenue moves, prospects, and
        partners holding any classified value in the company (so that values
        that no longer apply are cleared). ``sales_only``: the partners with
        revenue moves alone, without the history rows a run compares with, for
        a caller that writes nothing (the KPIs of a past date). Returns the
        number of rows.
        """
        Facts = self.env["crm.relationship.facts"]
        key = str(company.id)

        def stored(fname):
            return self.env["crm.relationship.writer"]._stored_sql("p", fname, key)

        if sales_only:
            held = SQL("FALSE")
            partner_scope = SQL("p.id = p.commercial_partner_id")
        elif partner_ids is None:
            # a commercial partner that is neither a buyer nor a prospect is in
            # scope when it holds a classified value (to clear it)
            held = SQL(" OR ").join(
                SQL("p.%s ? %s", SQL.identifier(fname), key)
                for fname in CLASSIFICATION_FIELDS
            )
            partner_scope = SQL("p.id = p.commercial_partner_id")
        else:
            held = SQL("TRUE")
            partner_scope = SQL("p.id = ANY(%s)", list(partner_ids))

        def only_scope(facts, column="pid"):
            """``facts`` of the partners in scope: on a partial run, a filter
            that PostgreSQL pushes into their aggregates (so a button on one
            customer reads its own facts only)."""
            if partner_ids is None:
                return facts
            return SQL(
                "SELECT * FROM (%s) f WHERE f.%s = ANY(%s)",
                facts,
                SQL.identifier(column),
                list(partner_ids),
            )

        company_partner = company.partner_id
        self.env.cr.execute(SQL("DROP TABLE IF EXISTS %s", SQL.identifier(RUN_TABLE)))
        # compiling this large query costs seconds and saves nothing; its
        # hashes and sorts span the whole book
        self.env.cr.execute("SET LOCAL jit = off")
        self.env.cr.execute("SET LOCAL work_mem = '64MB'")
        self.env.cr.execute(
            SQL(
                """
            CREATE TEMP TABLE %(table)s AS
            WITH ranked AS (%(ranked)s),
                 prospects AS (%(prospects)s),
                 -- what the rules read of the partner, narrow: the wide
                 -- partner rows are not carried through the joins
                 partners AS MATERIALIZED (
                     SELECT p.id,
                            %(health_score)s AS stored_health_score,
                            %(health_score_change)s AS stored_health_change,
                            CASE WHEN %(tier_locked)s THEN %(tier_id)s END
                                AS locked_tier_id,
                            CASE WHEN %(level_locked)s THEN %(level)s END
                                AS locked_level,
                            %(end_date)s AS end_date,
                            CASE WHEN p.country_id IS NULL THEN NULL
                                 WHEN p.country_id != %(country)s
                                 THEN 'international'
                                 WHEN p.state_id = %(state)s THEN 'local'
                                 ELSE 'domestic' END AS region_scope,
                            %(stage_id)s AS stage_id,
                            %(phase_auto)s AS phase_auto,
                            p.create_date::date AS created,
                            %(held)s AS held
                       FROM res_partner p
                      WHERE %(partner_scope)s)
            SELECT p.id AS pid,
                   -- the sums of amounts as floats, which the rules read: the
                   -- database converts them faster than the driver's Decimals
                   r.revenue::float8 AS revenue,
                   r.previous_revenue::float8 AS previous_revenue,
                   r.historical_revenue::float8 AS historical_revenue,
                   r.purchases, r.previous_purchases,
                   r.first_purchase, r.last_purchase, r.quarters, r.unpaid,
                   r.revenue_rank, r.recency_score, r.frequency_score,
                   r.monetary_score, r.buyers,
                   r.pid IS NOT NULL AS has_sales, r.month_end_retained,
                   pr.pid IS NOT NULL AS prospect,
                   oc.pid IS NOT NULL AS overdue_complaint,
                   COALESCE(oc.complaints, 0) AS overdue_complaints,
                   pd.repeat_purchases, pd.repeat_revenue,
                   sv.csat_scores, sv.nps_scores,
                   p.stored_health_score, p.stored_health_change,
                   hp.id IS NOT NULL AS has_history,
                   hp.tier_id AS history_tier_id,
                   hp.relationship_status AS history_status,
                   hp.relationship_level AS history_level,
                   hp.health_band AS history_band,
                   ht.id AS history_today_id,
                   ht.tier_id AS today_tier_id,
                   ht.relationship_status AS today_status,
                   ht.relationship_level AS today_level,
                   ht.health_band AS today_band,
                   ht.health_score AS today_health_score,
                   ht.previous_tier_id AS today_previous_tier_id,
                   ht.previous_status AS today_previous_status,
                   ht.previous_level AS today_previous_level,
                   ht.previous_health_band AS today_previous_band,
                   w.won_date,
                   oo.pid IS NOT NULL AS open_opportunity,
                   li.last_interaction,
                   p.locked_tier_id, p.locked_level, p.end_date, p.region_scope,
                   p.stage_id, p.phase_auto, p.created,
                   r.margin::float8 AS margin,
                   r.historical_margin::float8 AS historical_margin,
                   r.cost_to_serve::float8 AS cost_to_serve,
                   r.profit::float8 AS profit
              FROM partners p
         LEFT JOIN ranked r ON r.pid = p.id
         LEFT JOIN (SELECT DISTINCT * FROM prospects) pr(pid) ON pr.pid = p.id
         LEFT JOIN (%(overdue)s) oc ON oc.pid = p.id
         LEFT JOIN (%(purchase_days)s) pd ON pd.pid = p.id
         LEFT JOIN (%(surveys)s) sv ON sv.pid = p.id
         LEFT JOIN (%(history)s) hp ON hp.partner_id = p.id
         LEFT JOIN crm_relationship_history ht
                ON ht.partner_id = p.id AND ht.company_id = %(company)s
               AND ht.date = %(as_of)s AND %(with_history)s
         LEFT JOIN (%(won)s) w ON w.pid = p.id
         LEFT JOIN (%(open)s) oo ON oo.pid = p.id
         LEFT JOIN (%(interactions)s) li ON li.pid = p.id
             WHERE p.held OR r.pid IS NOT NULL OR pr.pid IS NOT NULL
                """,
                table=SQL.identifier(RUN_TABLE),
                ranked=Facts._ranked_sales_sql(company, as_of)
                if partner_ids is None
                else Facts._placed_sales_sql(company, as_of, partner_ids),
                prospects=SQL("SELECT NULL::int AS id WHERE FALSE")
                if sales_only
                else only_scope(Facts._prospects_sql(company, as_of), "id"),
                held=held,
                partner_scope=partner_scope,
                health_score=stored("health_score"),
                health_score_change=stored("health_score_change"),
                tier_locked=stored("relationship_tier_locked"),
                tier_id=stored("relationship_tier_id"),
                level_locked=stored("relationship_level_locked"),
                level=stored("relationship_level"),
                end_date=stored("relationship_end_date"),
                stage_id=stored("care_stage_id"),
                phase_auto=stored("care_phase_auto"),
                country=company_partner.country_id.id or 0,
                state=company_partner.state_id.id or 0,
                overdue=only_scope(Facts._overdue_complaint_counts_sql(company, as_of)),
                purchase_days=only_scope(
                    Facts._purchase_days_if_predictive_sql(company, as_of)
                ),
                surveys=only_scope(Facts._survey_answers_sql(company, as_of)),
                history=only_scope(
                    self.env["crm.relationship.history"]._previous_rows_sql(
                        company, as_of, none=sales_only
                    ),
                    "partner_id",
                ),
                with_history=SQL("NOT %s", sales_only),
                company=company.id,
                as_of=as_of,
                won=only_scope(Facts._won_opportunities_sql(company, as_of)),
                open=only_scope(Facts._open_opportunities_sql(company)),
                interactions=Facts._last_interactions_sql(company, as_of, partner_ids),
            )
        )
        count = self.env.cr.rowcount
        # a temporary table has no statistics until analysed: the queries that
        # join it would take its million rows for a few
        self.env.cr.execute(SQL("ANALYZE %s", SQL.identifier(RUN_TABLE)))
        return count

    @api.model
    def _rows_sql(self, company, with_stored, full=True, pids=None, ordered=True):
        """The rows of the run table (``pids``, an SQL of partner ids, only
        when given), with the values stored now when ``with_stored``: a flag
        ``held_apart`` when a contact holds other values than its commercial
        partner, then those values (``now_<field>``), in partner order unless
        not ``ordered``."""
        table = SQL.identifier(RUN_TABLE)
        if not with_stored:
            return SQL("SELECT r.* FROM %s r", table)
        key = str(company.id)
        Writer = self.env["crm.relationship.writer"]
        # a full run: one pass over the contacts, not one lookup per
        # customer; a partial one: the contacts of its few customers
        scope = SQL()
        if pids is not None:
            scope = SQL("AND c.commercial_partner_id IN (%s)", pids)
        elif not full:
            scope = SQL("AND c.commercial_partner_id IN (SELECT pid FROM %s)", table)
        return SQL(
            """SELECT r.*, d.pid IS NOT NULL AS held_apart, %(typed)s
                 FROM %(table)s r
                 JOIN res_partner p ON p.id = r.pid
            LEFT JOIN (SELECT DISTINCT c.commercial_partner_id AS pid
                         FROM res_partner c
                         JOIN res_partner o ON o.id = c.commercial_partner_id
                        -- a contact has a parent: what the planner can
                        -- count, unlike the ids that differ
                        WHERE c.parent_id IS NOT NULL
                          AND c.id != c.commercial_partner_id %(scope)s
                          AND ROW(%(child)s) IS DISTINCT FROM ROW(%(own)s)) d
                   ON d.pid = r.pid
                WHERE %(pids)s %(order)s""",
            # by partner, whatever the plan of the run table: a batch's writes
            # then touch neighbouring partners, not the whole table
            order=SQL("ORDER BY r.pid") if ordered else SQL(),
            typed=SQL(", ").join(
                SQL(
                    "%s AS %s",
                    Writer._stored_sql("p", f, key),
                    SQL.identifier(f"now_{f}"),
                )
                for f in CLASSIFICATION_FIELDS
            ),
            table=table,
            scope=scope,
            pids=SQL("TRUE") if pids is None else SQL("r.pid IN (%s)", pids),
            child=SQL(", ").join(
                SQL("c.%s->%s", SQL.identifier(f), key) for f in CLASSIFICATION_FIELDS
            ),
            own=SQL(", ").join(
                SQL("o.%s->%s", SQL.identifier(f), key) for f in CLASSIFICATION_FIELDS
            ),
        )

    @api.model
    def _fingerprinted_sql(self, company, seed, limits, pids=None):
        """``_rows_sql`` with the stored values and, first, the
        ``fingerprint`` of each row (``crm.relationship.run.state``)."""
        run_columns = self.env.execute_query(
            SQL(
                """SELECT attname, atttypid = 'float8'::regtype FROM pg_attribute
                    WHERE attrelid = %s::regclass AND attnum > 0
                      AND NOT attisdropped ORDER BY attnum""",
                RUN_TABLE,
            )
        )
        columns = [column for column, _float in run_columns]
        columns += ["held_apart", *(f"now_{f}" for f in CLASSIFICATION_FIELDS)]
        return SQL(
            "SELECT %s AS fingerprint, x.* FROM (%s) x",
            self.env["crm.relationship.run.state"]._fingerprint_sql(
                "x",
                columns,
                seed,
                limits,
                rounded={column for column, is_float in run_columns if is_float},
            ),
            self._rows_sql(company, True, pids=pids, ordered=False),
        )

    @api.model
    def _read(self, company, with_stored, full=True, changed=None):
        """Yield the rows of the run table as lists of dicts, READ_BATCH_SIZE at
        a time, from one query on a server-side cursor (held over the commits of
        a cron run), so that memory does not grow with the book. With
        ``with_stored``, ``"_stored"`` is the tuple of the values stored now (the
        partner's own, or None when a contact holds other values).

        ``changed``, the ``RunKeys`` of a full run with the stored values: the
        rows whose fingerprint (``"fingerprint"``) tells that they must be
        classified again (``crm.relationship.run.state``)."""
        query = self._rows_sql(company, with_stored, full)
        if changed and not changed.known:
            # a first run reads everyone: the fingerprints are measured at its
            # end, on the values it wrote
            query = SQL("SELECT NULL::int8 AS fingerprint, x.* FROM (%s) x", query)
        elif changed:
            query = SQL(
                "SELECT * FROM (%s) x WHERE %s ORDER BY x.pid",
                self._fingerprinted_sql(company, changed.seed, changed.limits),
                self.env["crm.relationship.run.state"]._changed_sql(
                    company, changed.as_of, "x"
                ),
            )
        width = None
        # Odoo's cursor has no server-side cursor: a named one of its connection
        # streams the rows (memory stays flat) and, held, survives the commits
        # of a cron run's batches
        cursor = self.env.cr._cnx.cursor("crm_relationship_run_rows", withhold=True)
        try:
            cursor.execute(query.code, query.params)
            while records := cursor.fetchmany(READ_BATCH_SIZE):
                if width is None:
                    names = [column.name for column in cursor.description]
                    width = len(names) - (
                        len(CLASSIFICATION_FIELDS) + 1 if with_stored else 0
                    )
                    names = names[:width]
                yield [
                    dict(
                        zip(names, record[:width], strict=True),
                        _stored=None
                        if not with_stored or record[width]
                        else record[width + 1 :],
                    )
                    for record in records
                ]
        finally:
            cursor.close()

    @api.model
    def _buyers(self):
        """The company's customers with revenue > 0 in the window, from the run
        table (0 when no customer of the run has sales)."""
        rows = self.env.execute_query(
            SQL(
                "SELECT buyers FROM %s WHERE buyers IS NOT NULL LIMIT 1",
                SQL.identifier(RUN_TABLE),
            )
        )
        return rows[0][0] if rows else 0

    @api.model
    def _retention_counts(self):
        """``crm.relationship.facts._retention_counts`` at the last month end
        on or before the run's date, from the run table of a full run (every
        customer with sales) instead of the moves of two more windows."""
        [counts] = self.env.execute_query(
            SQL(
                """SELECT COUNT(month_end_retained),
                          COUNT(*) FILTER (WHERE month_end_retained)
                     FROM %s""",
                SQL.identifier(RUN_TABLE),
            )
        )
        return counts

    @api.model
    def _buyers_profit(self):
        """Yield (revenue, profit, rank, locked tier id) of every customer of
        the run with revenue > 0 in the window, what places the customers in
        the revenue tiers, for Kotler's matrix (a full run holds them all);
        streamed READ_BATCH_SIZE rows at a time, so memory stays flat."""
        query = SQL(
            "SELECT revenue, profit, revenue_rank, locked_tier_id FROM %s "
            "WHERE revenue > 0",
            SQL.identifier(RUN_TABLE),
        )
        for records in stream_rows(self.env.cr, "crm_relationship_run_buyers", query):
            yield from records

    @api.model
    def _drop(self):
        self.env.cr.execute(SQL("DROP TABLE IF EXISTS %s", SQL.identifier(RUN_TABLE)))
