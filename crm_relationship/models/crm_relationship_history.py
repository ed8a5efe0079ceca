from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import create_index

from ..tools import health
from .crm_relationship_tier import RELATIONSHIP_LEVELS
from .crm_relationship_writer import copy_rows
from .res_partner import HEALTH_BANDS, RELATIONSHIP_STATUSES

# what a relationship history row follows (docs/rules.md, History)
HISTORY_FIELDS = (
    "relationship_tier_id",
    "relationship_status",
    "relationship_level",
    "health_band",
)
# the run-facts columns of the states a history row holds, by column prefix:
# the last row before the run's date, the row at that date, and its previous
HISTORY_STATE_COLUMNS = {
    prefix: tuple(f"{prefix}_{name}" for name in ("tier_id", "status", "level", "band"))
    for prefix in ("history", "today", "today_previous")
}


class CrmRelationshipHistory(models.Model):
    """What changed in a customer's relationship, per company and date.

    Written only by the classification (``_write_from_run``), in bulk, for
    the days on which the tier, status, level or health band of a commercial
    partner changed; the first classification writes one row per customer.
    Nobody edits it: users read it, by its date (no log access columns: the
    first run copies one row per customer).
    """

    _name = "crm.relationship.history"
    _description = "Customer relationship history"
    _order = "date desc, id desc"
    _rec_name = "partner_id"
    _log_access = False

    partner_id = fields.Many2one(
        "res.partner", "Customer", required=True, index=True, ondelete="cascade"
    )
    # indexed first in (company_id, partner_id, date), see init()
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade")
    # indexed in the list's order (date desc, id desc), see init()
    date = fields.Date(required=True)
    tier_id = fields.Many2one("crm.relationship.tier", "Tier", ondelete="set null")
    previous_tier_id = fields.Many2one(
        "crm.relationship.tier", "Previous tier", ondelete="set null"
    )
    relationship_status = fields.Selection(RELATIONSHIP_STATUSES, "Status")
    previous_status = fields.Selection(RELATIONSHIP_STATUSES, "Previous status")
    relationship_level = fields.Selection(RELATIONSHIP_LEVELS, "Level")
    previous_level = fields.Selection(RELATIONSHIP_LEVELS, "Previous level")
    health_score = fields.Integer(aggregator="avg")
    health_band = fields.Selection(HEALTH_BANDS)
    previous_health_band = fields.Selection(HEALTH_BANDS, "Previous health band")
    tier_changed = fields.Boolean(
        "Tier moved", help="The tier differs from the one before this row."
    )

    def init(self):
        # a run's rows compared with those of the day before
        create_index(
            self.env.cr,
            "crm_relationship_history_partner_date_idx",
            self._table,
            ["company_id", "partner_id", "date"],
        )
        # the list opens on the last rows in its order: read from the index,
        # not sorted out of a whole day of rows (a first run dates one row
        # per customer the same day); the date filters range over it too
        create_index(
            self.env.cr,
            "crm_relationship_history_date_id_idx",
            self._table,
            ["date DESC", "id DESC"],
        )
        # the tier migration analysis reads the tier moves alone, a few
        # thousand rows a night among a row per customer
        create_index(
            self.env.cr,
            "crm_relationship_history_tier_move_idx",
            self._table,
            ["company_id", "date"],
            where="tier_changed AND previous_tier_id IS NOT NULL",
        )

    @api.model
    def _previous_rows_sql(self, company, as_of, none=False):
        """Per partner, its last history row of ``company`` dated before
        ``as_of``: the state a classification at ``as_of`` compares with
        (``none``: the same columns, no row)."""
        self.flush_model()
        return SQL(
            """SELECT DISTINCT ON (partner_id) partner_id, id, tier_id,
                      relationship_status, relationship_level, health_band
                 FROM crm_relationship_history
                WHERE company_id = %s AND date < %s AND NOT %s
             ORDER BY partner_id, date DESC, id DESC""",
            company.id,
            as_of,
            none,
        )

    @api.model
    def _write_from_run(self, company, as_of, batch):
        """One history row per customer of ``batch`` whose tier, status, level
        or health band differs from its last row before ``as_of`` (the first
        classification writes one per customer), dated ``as_of``. A row already
        at ``as_of`` is replaced when the state it holds changed again, and
        removed when the change was undone. One DELETE, one COPY."""

        def state(row, prefix):
            """The state a history row of the run table holds, by column prefix."""
            return health.RelationshipState(
                *(row[column] for column in HISTORY_STATE_COLUMNS[prefix])
            )

        to_delete, to_insert = [], []
        for pid, vals in batch.items():
            row = vals["_history"]
            values = tuple(vals[fname] for fname in HISTORY_FIELDS)
            if (
                row["has_history"]
                and not row["history_today_id"]
                and values
                == tuple(row[column] for column in HISTORY_STATE_COLUMNS["history"])
            ):
                continue  # the state of its last row: nothing is due
            new = health.RelationshipState(*values)
            previous = state(row, "history") if row["has_history"] else None
            due = health.history_due(previous, new) and (
                previous is not None or new != health.RelationshipState()
            )
            if row["history_today_id"]:
                today = state(row, "today")
                before = state(row, "today_previous")
                if (
                    due
                    and today == new
                    and before == (previous or health.RelationshipState())
                    and row["today_health_score"] == vals["health_score"]
                ):
                    continue
                to_delete.append(row["history_today_id"])
            if due:
                states = (
                    new.tier,
                    row["history_tier_id"],
                    new.status,
                    row["history_status"],
                    new.level,
                    row["history_level"],
                )
                to_insert.append(
                    (pid, company.id, as_of)
                    + tuple(value or None for value in states)
                    + (
                        vals["health_score"],
                        new.health_band or None,
                        row["history_band"],
                        (new.tier or None) != row["history_tier_id"],
                    )
                )
        if to_delete:
            self.env.cr.execute(
                SQL(
                    "DELETE FROM crm_relationship_history WHERE id = ANY(%s)",
                    to_delete,
                )
            )
        if to_insert:
            copy_rows(
                self.env.cr,
                """COPY crm_relationship_history (
                       partner_id, company_id, date, tier_id, previous_tier_id,
                       relationship_status, previous_status, relationship_level,
                       previous_level, health_score, health_band,
                       previous_health_band, tier_changed)
                   FROM STDIN WITH (FORMAT csv)""",
                to_insert,
            )
        if to_delete or to_insert:
            self.invalidate_model()
        return len(to_insert)
