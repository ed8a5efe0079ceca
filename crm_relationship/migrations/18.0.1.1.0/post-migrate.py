"""18.0.1.1.0: the classification compares with the stored values instead of
keeping fingerprints; drop the columns of the fields that held them."""

from odoo.tools import SQL, sql


def migrate(cr, version):
    for table, column in [
        ("res_partner", "relationship_signature"),
        ("res_company", "relationship_fingerprint"),
    ]:
        if sql.column_exists(cr, table, column):
            cr.execute(
                SQL(
                    "ALTER TABLE %s DROP COLUMN %s",
                    SQL.identifier(table),
                    SQL.identifier(column),
                )
            )
