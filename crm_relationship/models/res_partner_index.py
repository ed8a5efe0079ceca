import logging
import time

from odoo import api, models
from odoo.tools import SQL
from odoo.tools.sql import index_exists

_logger = logging.getLogger(__name__)

# company-dependent many2ones read without core's existence subquery
PLAIN_MANY2ONES = ("relationship_tier_id", "care_stage_id")
# the figures the rank read on the form orders (docs/rules.md, Tiers)
RANKED_FIGURES = ("period_revenue", "period_profit")
# what the screens read of a partner besides the value an index is on: with
# them in the index, PostgreSQL reads the index alone, not the partner table
COMMERCIAL = ("id", "commercial_partner_id")
# a kanban's column sum, the actions' filter of commercial partners and core's
# multi-company rule on partners
KANBAN = (
    "lifetime_value",
    "active",
    "is_company",
    "parent_id",
    "partner_share",
    "company_id",
)
INCLUDED = {
    # the kanbans' columns and progress bars; the tier simulation's current tiers
    "relationship_tier_id": (
        "relationship_tier_id",
        "relationship_status",
        *KANBAN,
        *COMMERCIAL,
        "period_revenue",
    ),
    "care_stage_id": ("care_stage_id", "care_status", *KANBAN),
    # the rank, the tier simulation, and the others among whom a one-customer
    # recompute places its customer
    "period_revenue": (
        *COMMERCIAL,
        "period_revenue",
        "period_profit",
        "purchase_count",
        "last_purchase_date",
        "relationship_tier_locked",
        "relationship_tier_id",
    ),
    "period_profit": (*COMMERCIAL, "period_revenue", "period_profit"),
}


class ResPartner(models.Model):
    """How the screens read the classified values: per-company indexes of
    those they filter, group and rank by, and the tier and care stage without
    core's existence subquery.

    A company-dependent value is an expression of a jsonb column, which core
    indexes only as ``column IS NOT NULL``: each kanban column of a tier or a
    care stage, and the rank on a customer's form, would scan every partner.
    One index per company on the very expression the queries use lets
    PostgreSQL read only the rows of that column or above that rank; the
    index also holds what those screens read besides the value (``INCLUDED``),
    so that the counts and sums of the kanban columns, the rank and the tier
    simulation read the index alone.
    """

    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    def init(self):
        result = super().init()
        self._relationship_create_indexes(self.env["res.company"].sudo().search([]))
        return result

    def _field_to_sql(self, alias, fname, query=None, flush=True):
        """The module's company-dependent many2ones (tier, care stage) without
        core's per-row existence subquery.

        Core wraps a company-dependent many2one in ``(SELECT id FROM comodel
        WHERE id = ...)`` to hide deleted ids: on 100,000 partners that makes
        every count of the customers kanban and the care pipeline take half a
        second. Core's own unlink already clears (``set null``) or refuses
        (``restrict``) an id in use in the jsonb column, so the plain value is
        exact. ``super()`` has no way to leave the subquery out: this is core's
        expression without it.
        """
        if fname not in PLAIN_MANY2ONES:
            return super()._field_to_sql(alias, fname, query, flush)
        self.check_field_access_rights("read", [fname])
        field = self._fields[fname]
        column = SQL.identifier(alias, fname, to_flush=field if flush else None)
        value = SQL("%s->%s", column, str(self.env.company.id))
        fallback = field.get_company_dependent_fallback(self)
        if fallback:
            value = SQL("COALESCE(%s, to_jsonb(%s::int4))", value, fallback.id)
        return SQL("(%s->>0)::int4", value)

    def _order_field_to_sql(self, alias, field_name, direction, nulls, query):
        """Order by the tier or the care stage as their own order does, by
        each id's place in that order rather than through a join.

        Core joins the comodel to order by its ``_order``, and the kanban's
        grouped reads order their columns so: PostgreSQL joins each of a
        million partners before it counts them, which doubles the time of the
        customers kanban and of the care pipeline. There are a few tiers and
        stages; their ids in order make the same order of the groups (a
        missing id, like no tier, sorts as NULL does through the join)."""
        if field_name not in PLAIN_MANY2ONES:
            return super()._order_field_to_sql(
                alias, field_name, direction, nulls, query
            )
        comodel = self.env[self._fields[field_name].comodel_name]
        ordered = comodel.sudo().with_context(active_test=False).search([]).ids
        sql_field = self._field_to_sql(alias, field_name, query)
        if query.groupby:
            query.groupby = SQL("%s, %s", query.groupby, sql_field)
        return SQL(
            "array_position(%s::int4[], %s) %s %s", ordered, sql_field, direction, nulls
        )

    @api.model
    def _relationship_index_expressions(self, company):
        """``{index name: (expression, included columns)}`` of ``company``,
        each expression as the module's queries write it: ``_field_to_sql``
        for the many2ones, ``company_value_sql`` for the figures."""
        key = int(company.id)  # a literal of the index definition
        expressions = {
            fname: f"(({fname}->'{key}'->>0)::int4)" for fname in PLAIN_MANY2ONES
        }
        expressions.update(
            (fname, f"(({fname}->>'{key}')::float8)") for fname in RANKED_FIGURES
        )
        return {
            f"res_partner_{fname}_company_{key}": (expression, INCLUDED[fname])
            for fname, expression in expressions.items()
        }

    @api.model
    def _relationship_create_indexes(self, companies):
        """Create the indexes of ``companies`` that do not exist yet (or not
        with all their included columns), then gather the table's statistics:
        PostgreSQL keeps statistics on the expression of an index (not of a
        partial one, hence whole indexes), without which it guesses how many
        customers a column holds and may walk the whole table in name order to
        fill an empty one."""
        cr = self.env.cr
        created = False
        for company in companies:
            indexes = self._relationship_index_expressions(company)
            for name, (expression, included) in indexes.items():
                if index_exists(cr, name):
                    if self._relationship_included_columns(name) == list(included):
                        continue
                    cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))
                cr.execute(
                    SQL(
                        "CREATE INDEX %s ON %s (%s) INCLUDE (%s)",
                        SQL.identifier(name),
                        SQL.identifier(self._table),
                        SQL(expression),
                        SQL(", ").join(map(SQL.identifier, included)),
                    )
                )
                created = True
        if created:
            self._relationship_analyze()

    @api.model
    def _relationship_included_columns(self, name):
        """The columns the index ``name`` includes besides its key, in order."""
        [[columns]] = self.env.execute_query(
            SQL(
                """SELECT ARRAY(
                       SELECT a.attname
                         FROM unnest(i.indkey) WITH ORDINALITY k(attnum, position)
                         JOIN pg_attribute a ON a.attrelid = i.indrelid
                                            AND a.attnum = k.attnum
                        WHERE k.position > i.indnkeyatts
                     ORDER BY k.position)
                     FROM pg_index i
                    WHERE i.indexrelid = %s::regclass""",
                name,
            )
        )
        return columns

    @api.model
    def _relationship_analyze(self):
        """Gather the partner table's statistics now, not when autovacuum
        gets to it: after a run that rewrote much of the book, the planner
        would still believe the pages it rewrote visible to all and read the
        kanbans' columns from their index, fetching every row from the table
        (seconds instead of one pass)."""
        self.env.cr.execute(SQL("ANALYZE %s", SQL.identifier(self._table)))

    @api.model
    def _relationship_rebuild_indexes(self, company):
        """Once the transaction has committed, vacuum the partner table and
        rebuild the indexes of ``company``, without blocking anyone (``VACUUM``
        and ``REINDEX INDEX CONCURRENTLY`` run outside any transaction): a run
        that rewrote most of the book left a dead version of each customer's
        row, which an index-only scan must check in the table until vacuumed,
        and a new entry in each index, which doubles it; the kanbans read them
        whole (docs/rules.md, Scale), and autovacuum would take minutes to get
        there. A rebuild that fails is logged and its unfinished copy
        dropped: the index in use stays as it was."""
        names = list(self._relationship_index_expressions(company))
        registry = self.env.registry
        company_id = company.id
        table = SQL.identifier(self._table)

        def rebuild():
            started = time.monotonic()
            try:
                with registry.cursor() as cr:
                    cr._cnx.autocommit = True  # no transaction for either
                    cr.execute(SQL("VACUUM (ANALYZE) %s", table))
                    for name in names:
                        try:
                            cr.execute(
                                SQL(
                                    "REINDEX INDEX CONCURRENTLY %s",
                                    SQL.identifier(name),
                                ),
                                log_exceptions=False,
                            )
                        except Exception:
                            _logger.warning(
                                "Rebuild of the index %s failed", name, exc_info=True
                            )
                            cr.execute(
                                SQL(
                                    "DROP INDEX CONCURRENTLY IF EXISTS %s",
                                    SQL.identifier(f"{name}_ccnew"),
                                )
                            )
            except Exception:
                _logger.warning(
                    "Rebuild of the indexes of company %s failed",
                    company_id,
                    exc_info=True,
                )
                return
            _logger.info(
                "Vacuumed the partners and rebuilt the %d indexes of company %s "
                "in %.2fs",
                len(names),
                company_id,
                time.monotonic() - started,
            )

        self.env.cr.postcommit.add(rebuild)
