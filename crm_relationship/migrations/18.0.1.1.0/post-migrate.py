"""18.0.1.1.0: the classification compares with the stored values instead of
keeping fingerprints; drop the columns of the fields that held them, and the
indexes of the classified fields, which no search uses and every nightly
write had to maintain (they are declared ``index=False`` now)."""

from odoo.tools import SQL, sql

from odoo.addons.crm_relationship.models.crm_relationship_writer import (
    CLASSIFICATION_FIELDS,
)


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
    for fname in CLASSIFICATION_FIELDS:
        sql.drop_index(cr, sql.make_index_name("res_partner", fname), "res_partner")
