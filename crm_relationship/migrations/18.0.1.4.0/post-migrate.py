"""18.0.1.4.0: the revenue rank is computed when read, no longer stored.

A rank moves for every customer below one whose revenue moved: stored, it made
each nightly run rewrite most partners. The jsonb column the classification
filled is dropped (a catalogue change, no table rewrite).
"""

from odoo.tools import sql


def migrate(cr, version):
    if sql.column_exists(cr, "res_partner", "relationship_revenue_rank"):
        cr.execute("ALTER TABLE res_partner DROP COLUMN relationship_revenue_rank")
