"""18.0.1.2.0: the relationship history is copied in bulk without log access
columns (its date says when); drop them, with the index of company_id that the
(company_id, partner_id, date) index already serves."""

from odoo.tools import SQL, sql


def migrate(cr, version):
    for column in ("create_uid", "create_date", "write_uid", "write_date"):
        if sql.column_exists(cr, "crm_relationship_history", column):
            cr.execute(
                SQL(
                    "ALTER TABLE crm_relationship_history DROP COLUMN %s",
                    SQL.identifier(column),
                )
            )
    sql.drop_index(
        cr,
        sql.make_index_name("crm_relationship_history", "company_id"),
        "crm_relationship_history",
    )
