from odoo import api, models
from odoo.tools import SQL
from odoo.tools.sql import create_index, index_exists

from .res_partner import PLAIN_MANY2ONES

# the figures the rank read on the form orders (docs/rules.md, Tiers)
RANKED_FIGURES = ("period_revenue", "period_profit")


class ResPartner(models.Model):
    """Per-company indexes of the classified values the screens filter, group
    and rank by.

    A company-dependent value is an expression of a jsonb column, which core
    indexes only as ``column IS NOT NULL``: each kanban column of a tier or a
    care stage, and the rank on a customer's form, would scan every partner.
    One index per company on the very expression the queries use lets
    PostgreSQL read only the rows of that column or above that rank.
    """

    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    def init(self):
        result = super().init()
        self._relationship_create_indexes(self.env["res.company"].sudo().search([]))
        return result

    @api.model
    def _relationship_index_expressions(self, company):
        """``{index name: expression}`` of ``company``, each expression as the
        module's queries write it: ``_field_to_sql`` for the many2ones,
        ``company_value_sql`` for the figures."""
        key = int(company.id)  # a literal of the index definition
        expressions = {
            fname: f"(({fname}->'{key}'->>0)::int4)" for fname in PLAIN_MANY2ONES
        }
        expressions.update(
            (fname, f"(({fname}->>'{key}')::float8)") for fname in RANKED_FIGURES
        )
        return {
            f"res_partner_{fname}_company_{key}": expression
            for fname, expression in expressions.items()
        }

    @api.model
    def _relationship_create_indexes(self, companies):
        """Create the indexes of ``companies`` that do not exist yet, then
        gather the table's statistics: PostgreSQL keeps statistics on the
        expression of an index (not of a partial one, hence whole indexes),
        without which it guesses how many customers a column holds and may
        walk the whole table in name order to fill an empty one."""
        created = False
        for company in companies:
            indexes = self._relationship_index_expressions(company)
            for name, expression in indexes.items():
                if not index_exists(self.env.cr, name):
                    create_index(self.env.cr, name, self._table, [expression])
                    created = True
        if created:
            self.env.cr.execute(SQL("ANALYZE %s", SQL.identifier(self._table)))
