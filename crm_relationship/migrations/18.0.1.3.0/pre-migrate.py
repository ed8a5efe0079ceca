"""18.0.1.3.0: survey scores are never NULL.

A recommendation of 0 given through the form was left NULL (the ORM reads
NULL as 0 and skipped writing 0 over it), which stopped the classification of
the whole company. Repair the scores before the new CHECK constraint
(an answered recommendation has a score) is added.
"""

from odoo.tools import sql


def migrate(cr, version):
    if not sql.table_exists(cr, "crm_relationship_feedback"):
        return
    cr.execute(
        "UPDATE crm_relationship_feedback SET nps_score = 0 WHERE nps_score IS NULL"
    )
    cr.execute(
        "UPDATE crm_relationship_feedback SET csat_score = 0 WHERE csat_score IS NULL"
    )
