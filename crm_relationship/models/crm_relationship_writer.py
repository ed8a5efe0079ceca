import csv
import io

from odoo import api, fields, models
from odoo.tools import SQL

# Written by the classification, per company: {field: kind}; the kind drives
# the conversion to the company-dependent jsonb value.
CLASSIFICATION_FIELDS = {
    "relationship_tier_id": "id",
    "relationship_status": "str",
    "relationship_level": "str",
    "lifetime_value": "amount",
    "historical_revenue": "amount",
    "period_revenue": "amount",
    "previous_period_revenue": "amount",
    "purchase_count": "int",
    "first_purchase_date": "date",
    "last_purchase_date": "date",
    "rfm_recency_score": "int",
    "rfm_frequency_score": "int",
    "rfm_monetary_score": "int",
    "rfm_segment": "str",
    "region_scope": "str",
    "care_stage_id": "id",
    "care_phase": "str",
    "care_phase_auto": "str",
    "last_interaction_date": "date",
    "next_care_date": "date",
    "care_status": "str",
    "probability_alive": "float4",
    "predicted_purchases": "float4",
    "relationship_expected_spend": "amount",
    "relationship_likely_lost": "bool",
    "health_score": "score",
    "health_band": "str",
    "health_score_change": "score",
    "health_components": "str",
    "period_margin": "amount",
    "period_cost_to_serve": "amount",
    "period_profit": "amount",
    "is_unprofitable": "bool",
}
WRITE_TABLE = "crm_relationship_write"
# the column of each kind of value in WRITE_TABLE
COLUMN_TYPES = {
    "id": "int4",
    "str": "varchar",
    "amount": "float8",
    "int": "int4",
    "date": "date",
    "float4": "float8",
    "bool": "bool",
    "score": "int4",
}
# the SQL type a company-dependent value of each field type is read as (text
# for selection, char, text and html)
VALUE_CASTS = {
    "many2one": "int4",
    "integer": "int4",
    "float": "float8",
    "boolean": "bool",
    "date": "date",
    "datetime": "timestamp",
}


def company_value_sql(field, alias, key):
    """The value the company-dependent ``field`` stores for the company ``key``
    (its id as a string) on the row aliased ``alias``, typed as the field;
    NULL when that company has none. No fallback (``ir.default``), unlike the
    ORM's ``_field_to_sql``: what was written for the company, as it is."""
    value = SQL("%s->>%s", SQL.identifier(alias, field.name), key)
    cast = VALUE_CASTS.get(field.type)
    return SQL("(%s)::%s", value, SQL(cast)) if cast else value


def copy_rows(cr, statement, rows):
    """COPY the tuples ``rows`` (None is NULL) with ``statement`` (``COPY ...
    FROM STDIN WITH (FORMAT csv)``): cheaper to parse than any literal."""
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    text.seek(0)
    cr.copy_expert(statement, text)


class CrmRelationshipWriter(models.AbstractModel):
    """The bulk writer of the classified partner fields.

    The classification compares what it computed with what is stored and
    hands over only the fields that differ; they are copied into a temporary
    table and written by one UPDATE of the commercial partners and their
    contacts, then the ORM is told (invalidate, ``modified``).
    """

    _name = "crm.relationship.writer"
    _description = "Customer classification writer"

    @api.model
    def _stored_sql(self, alias, fname, key):
        """The typed value of the company-dependent partner field ``fname``
        (a classified one, a lock, the end date...) stored for the company
        ``key`` (its id as a string) on the partner aliased ``alias``."""
        return company_value_sql(self.env["res.partner"]._fields[fname], alias, key)

    @api.model
    def _to_json(self, kind, value, currency):
        """Value of a company-dependent jsonb column, None when empty; a score
        or a probability of 0 is a value."""
        if kind == "score":
            return None if value is None else int(value)
        if kind == "float4":
            return None if value is None else round(float(value), 4)
        if not value:
            return None
        if kind == "amount":
            return currency.round(value) or None
        if kind == "date":
            return fields.Date.to_string(value)
        return value

    @api.model
    def _amount_rounding(self, currency):
        """A fast rounding of amounts to ``currency``: ``round`` to its decimal
        places when its rounding is a power of ten (almost every currency)."""
        if currency.rounding == 10**-currency.decimal_places:
            digits = currency.decimal_places
            return lambda value: round(value, digits)
        return currency.round

    @api.model
    def _changed_rows(self, company, batch):
        """``{pid: {field: value}}``: for each customer of ``batch`` whose
        stored values (``"_stored"``, typed, None when empty) differ from the
        computed ones, the fields that differ (every field when a contact holds
        other values than its commercial partner); amounts are rounded with the
        company currency."""
        fnames = list(CLASSIFICATION_FIELDS)
        rounding = self._amount_rounding(company.currency_id)
        # the stored form of the values whose kind needs more than "empty is None"
        normalize = {
            "amount": lambda value: rounding(value) or None,
            "float4": lambda value: round(float(value), 4),
            "score": int,
        }
        special = [
            (index, fname, normalize[kind])
            for index, (fname, kind) in enumerate(CLASSIFICATION_FIELDS.items())
            if kind in normalize
        ]
        changed = {}
        for pid, vals in batch.items():
            row = [vals[fname] or None for fname in fnames]
            for index, fname, convert in special:
                value = vals[fname]
                row[index] = None if value is None else convert(value)
            stored = vals["_stored"]
            if tuple(row) == stored:
                continue
            changed[pid] = {
                fname: value
                for fname, value, old in zip(
                    fnames, row, stored or [object()] * len(row), strict=True
                )
                if value != old
            }
        return changed

    @api.model
    def _write_rows(self, company, rows):
        """Write ``{commercial partner id: {field: value}}`` in ``company``
        on the commercial partners and their contacts, setting only the fields
        given for each partner (None clears). The values are copied into a
        temporary table, then one UPDATE: a plain ORM write would cost one
        UPDATE per partner, each having its own figures, and a JSON literal of
        a whole batch costs more to parse than the write itself. Returns the
        number of commercial partners written.
        """
        if not rows:
            return 0
        fnames = [
            fname
            for fname in CLASSIFICATION_FIELDS
            if any(fname in values for values in rows.values())
        ]
        self.env["res.partner"].flush_model(fnames)
        cr = self.env.cr
        table = SQL.identifier(WRITE_TABLE)
        cr.execute(SQL("DROP TABLE IF EXISTS %s", table))
        cr.execute(
            SQL(
                "CREATE TEMP TABLE %s (id int4, given varbit, %s)",
                table,
                SQL(", ").join(
                    SQL(
                        "%s %s",
                        SQL.identifier(fname),
                        SQL(COLUMN_TYPES[CLASSIFICATION_FIELDS[fname]]),
                    )
                    for fname in fnames
                ),
            )
        )
        # per partner: its id, a bit per field telling whether it is given,
        # then the values (NULL clears a given field)
        copy_rows(
            cr,
            f"COPY {WRITE_TABLE} FROM STDIN WITH (FORMAT csv)",
            (
                (
                    pid,
                    "".join("1" if fname in values else "0" for fname in fnames),
                    *(values.get(fname) for fname in fnames),
                )
                for pid, values in rows.items()
            ),
        )
        key = str(company.id)
        updated = self.env.execute_query(
            SQL(
                """UPDATE res_partner p SET %(assignments)s
                     FROM %(table)s w
                    WHERE p.commercial_partner_id = w.id
                RETURNING p.id""",
                assignments=SQL(", ").join(
                    SQL(
                        """%(col)s = CASE
                            WHEN get_bit(w.given, %(bit)s) = 0 THEN p.%(col)s
                            WHEN w.%(col)s IS NULL
                            THEN NULLIF(p.%(col)s - %(key)s, '{}'::jsonb)
                            ELSE COALESCE(p.%(col)s, '{}'::jsonb)
                                 || jsonb_build_object(%(key)s, w.%(col)s) END""",
                        col=SQL.identifier(fname),
                        bit=bit,
                        key=key,
                    )
                    for bit, fname in enumerate(fnames)
                ),
                table=table,
            )
        )
        cr.execute(SQL("DROP TABLE %s", table))
        partners = self.env["res.partner"].browse([pid for (pid,) in updated])
        partners.invalidate_recordset(fnames)
        partners.modified(fnames)
        return len(rows)
