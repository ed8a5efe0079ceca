"""What each customer was last classified from, so that a company-wide run
classifies again only the customers whose own figures or the company's rules
moved, or for whom a date the rules read has come (docs/rules.md, Scale)."""

import hashlib
from dataclasses import fields
from typing import NamedTuple

from odoo import api, models
from odoo.modules.module import get_manifest
from odoo.tools import SQL

from .crm_relationship_run_facts import RUN_TABLE
from .crm_relationship_writer import copy_rows

STATE_TABLE = "crm_relationship_run_state"
# the states of the run under way, kept at its end (a temporary table)
KEPT_TABLE = "crm_relationship_run_kept"
# what a fingerprint leaves out of the rules' context (RulesContext), and why;
# every other field of it enters as it is, a new one too
CONTEXT_LEFT_OUT = {
    # each customer's valid_until says until when its values hold
    "as_of",
    # their rank limits move with the number of buyers every night: the
    # fingerprint of a customer holds the place of its rank among them
    "tier_rules",
    # a function: the company's health parameters stand for it
    "health_score",
    # the matrix this run measures: the rules read the levels it gives
    "kotler",
    # a predictive run classifies every customer (its probabilities move daily)
    "predictive",
    # whether the run keeps the dates: it does whenever there is a seed
    "dated",
}
# run-table columns a fingerprint leaves out: the rank (its place among the
# rank limits goes in); the number of buyers (the limits carry it); the
# classified values the rules read back, as held before the run (the
# fingerprint reads them all as held after it, ``now_<field>``); and the
# history rows the run compares with, which it wrote with the values it
# stored: the day after a change, the row of that day becomes the last one,
# which changes nothing
RUN_COLUMNS_LEFT_OUT = (
    "revenue_rank",
    "buyers",
    "stored_health_score",
    "stored_health_change",
    "stage_id",
    "phase_auto",
    "has_history",
)
HISTORY_PREFIXES = ("history_", "today_")


class RunKeys(NamedTuple):
    """What a full run compares its customers with: its date, the rules'
    part of the fingerprints, the rank limits, and whether the company kept
    any fingerprint (else everyone is read, and measured at the end)."""

    as_of: object
    seed: int
    limits: list
    known: bool


class CrmRelationshipRunState(models.AbstractModel):
    """The fingerprint of what each customer was last classified from.

    A company-wide run reads back only the customers whose fingerprint, a
    64-bit hash of their row of the run's facts, of the values they hold and
    of the company's rules, differs from the one kept at their last
    classification, or whose values were valid until a date now reached (the
    status and the care status read the date: ``status_valid_until``,
    ``care_status_valid_until``). Any other customer would get the very values
    it holds. The fingerprints are kept in a narrow table of their own, not on
    the partner: writing them does not rewrite a partner row. An upgrade of
    the module forgets them all, so that new rules apply to every customer.
    """

    _name = "crm.relationship.run.state"
    _description = "Customer classification fingerprints"

    def init(self):
        result = super().init()
        self.env.cr.execute(
            SQL(
                """CREATE TABLE IF NOT EXISTS %(table)s (
                       -- no foreign keys: checking them would cost more than
                       -- the rest of keeping a state; a full run forgets the
                       -- customers it no longer holds (_store)
                       company_id int4 NOT NULL,
                       partner_id int4 NOT NULL,
                       fingerprint int8 NOT NULL,
                       valid_from date NOT NULL,
                       valid_until date,
                       PRIMARY KEY (company_id, partner_id)
                   );
                   TRUNCATE %(table)s""",
                table=SQL.identifier(STATE_TABLE),
            )
        )
        return result

    @api.model
    def _seed(self, company, ctx):
        """The rules' part of the fingerprints of ``company``'s run with the
        context ``ctx``, an int8; None when the run classifies every customer."""
        if ctx.predictive:
            return None
        parts = [
            (item.name, getattr(ctx, item.name))
            for item in fields(ctx)
            if item.name not in CONTEXT_LEFT_OUT
        ]
        parts += [
            ("tier_rules", tuple(rule for rule, _limit in ctx.tier_rules)),
            ("health", company._relationship_health_params()),
            # the writer rounds the amounts it compares to the currency
            ("currency", company.currency_id.id, company.currency_id.rounding),
            ("version", get_manifest("crm_relationship")["version"]),
        ]
        digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    @api.model
    def _rank_limits(self, ctx):
        """The rank limits of the revenue tiers, as ``width_bucket`` bounds."""
        return sorted(
            {limit + 1 for _rule, limit in ctx.tier_rules if limit is not None}
        )

    @api.model
    def _fingerprint_sql(self, alias, columns, seed, limits, rounded=()):
        """The fingerprint of the row ``alias`` of ``columns``: a hash of its
        values, the rank as its place among the tiers' ``limits``, the
        columns ``rounded`` to 6 decimals: a sum of floats (the invoice
        report's margins) differs in its last bits with the order in which
        PostgreSQL adds them, from one run to the next."""
        values = [
            SQL("round(%s::numeric, 6)", SQL.identifier(alias, column))
            if column in rounded
            else SQL.identifier(alias, column)
            for column in columns
            if column not in RUN_COLUMNS_LEFT_OUT
            and not column.startswith(HISTORY_PREFIXES)
        ]
        if limits:
            values.append(
                SQL(
                    "width_bucket(%s, %s::int4[])",
                    SQL.identifier(alias, "revenue_rank"),
                    limits,
                )
            )
        # each column hashed by its type, no text made of it
        return SQL("hash_record_extended(ROW(%s), %s)", SQL(", ").join(values), seed)

    @api.model
    def _has_any(self, company):
        """Whether a run of ``company`` kept fingerprints."""
        return bool(
            self.env.execute_query(
                SQL(
                    "SELECT 1 FROM %s WHERE company_id = %s LIMIT 1",
                    SQL.identifier(STATE_TABLE),
                    company.id,
                )
            )
        )

    @api.model
    def _changed_sql(self, company, as_of, alias):
        """Whether the row ``alias`` (with its ``pid`` and ``fingerprint``)
        must be classified again as of ``as_of``."""
        return SQL(
            """NOT EXISTS (
                   SELECT FROM %(table)s s
                    WHERE s.company_id = %(company)s AND s.partner_id = %(pid)s
                      AND s.fingerprint = %(fingerprint)s
                      AND s.valid_from <= %(as_of)s
                      AND (s.valid_until IS NULL OR s.valid_until > %(as_of)s))""",
            table=SQL.identifier(STATE_TABLE),
            company=company.id,
            pid=SQL.identifier(alias, "pid"),
            fingerprint=SQL.identifier(alias, "fingerprint"),
            as_of=as_of,
        )

    @api.model
    def _begin(self):
        """Start keeping the states of a run: an empty staging table."""
        self.env.cr.execute(
            SQL(
                """DROP TABLE IF EXISTS %(kept)s;
                   CREATE TEMP TABLE %(kept)s
                       (pid int4, fingerprint int8, valid_until date)""",
                kept=SQL.identifier(KEPT_TABLE),
            )
        )

    @api.model
    def _keep(self, batch, written):
        """Stage what the customers of ``batch`` were classified from, but for
        those ``written``: their fingerprint is measured on the values
        written, at the end of the run (``_store``). Nothing for a run
        without fingerprints."""
        rows = [
            (
                pid,
                None if pid in written else values["_history"]["fingerprint"],
                values["_valid_until"],
            )
            for pid, values in batch.items()
            if "fingerprint" in values["_history"]
        ]
        if rows:
            copy_rows(
                self.env.cr,
                f"COPY {KEPT_TABLE} FROM STDIN WITH (FORMAT csv)",
                rows,
            )

    @api.model
    def _keys(self, company, ctx):
        """The ``RunKeys`` of a full run of ``company`` with the rules'
        context ``ctx``, None when the run classifies every customer."""
        seed = self._seed(company, ctx)
        if seed is None:
            return None
        return RunKeys(ctx.as_of, seed, self._rank_limits(ctx), self._has_any(company))

    @api.model
    def _store(self, company, keys):
        """Keep the staged states of the run of ``company`` (``keys``), the
        fingerprints left to measure measured on the values the run wrote:
        the next run then reads back only what moved since. Forget the
        customers the run no longer holds (deleted, merged, out of scope)."""
        self.env["res.partner"].flush_model()
        kept = SQL.identifier(KEPT_TABLE)
        # a temporary table has no statistics until analysed: the planner
        # would take the staged customers for a few
        self.env.cr.execute(SQL("ANALYZE %s", kept))
        self.env.cr.execute(
            SQL(
                """INSERT INTO %(table)s AS s
                          (company_id, partner_id, fingerprint, valid_from,
                           valid_until)
                   SELECT %(company)s, k.pid,
                          COALESCE(k.fingerprint, f.fingerprint), %(as_of)s,
                          k.valid_until
                     FROM %(kept)s k
                LEFT JOIN (%(fingerprints)s) f ON f.pid = k.pid
                    -- a customer deleted during the run has none
                    WHERE COALESCE(k.fingerprint, f.fingerprint) IS NOT NULL
                       ON CONFLICT (company_id, partner_id) DO UPDATE
                      SET fingerprint = EXCLUDED.fingerprint,
                          valid_from = EXCLUDED.valid_from,
                          valid_until = EXCLUDED.valid_until;
                   -- a set difference: linear whatever the planner guesses
                   -- of a table just filled
                   DELETE FROM %(table)s s
                    USING (SELECT partner_id FROM %(table)s
                            WHERE company_id = %(company)s
                           EXCEPT SELECT pid FROM %(run)s) gone
                    WHERE s.company_id = %(company)s
                      AND s.partner_id = gone.partner_id;
                   DROP TABLE %(kept)s""",
                table=SQL.identifier(STATE_TABLE),
                company=company.id,
                as_of=keys.as_of,
                kept=kept,
                # a first run measures everyone's, in one pass
                fingerprints=self.env["crm.relationship.run.facts"]._fingerprinted_sql(
                    company,
                    keys.seed,
                    keys.limits,
                    pids=SQL("SELECT pid FROM %s WHERE fingerprint IS NULL", kept)
                    if keys.known
                    else None,
                ),
                run=SQL.identifier(RUN_TABLE),
            )
        )

    @api.model
    def _forget(self, company):
        """The next run of ``company`` classifies every customer again."""
        self.env.cr.execute(
            SQL(
                "DELETE FROM %s WHERE company_id = %s",
                SQL.identifier(STATE_TABLE),
                company.id,
            )
        )
