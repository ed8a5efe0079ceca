import csv
import dataclasses
import functools
import io
import json
import threading
from collections import namedtuple
from contextlib import contextmanager
from dataclasses import replace

from psycopg2.extensions import TRANSACTION_STATUS_INERROR

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import care, clv, health, lifetime_value, rfm, tiering
from ..tools.status import CustomerFacts, relationship_status

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
    "relationship_revenue_rank": "int",
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
}
# what a relationship history row follows (DESIGN "Relationship history")
HISTORY_FIELDS = (
    "relationship_tier_id",
    "relationship_status",
    "relationship_level",
    "health_band",
)
# the run-table columns of the states a history row holds, by column prefix:
# the last row before the run's date, the row at that date, and its previous
HISTORY_STATE_COLUMNS = {
    prefix: tuple(f"{prefix}_{name}" for name in ("tier_id", "status", "level", "band"))
    for prefix in ("history", "today", "today_previous")
}
# care fields that interactions refresh between two classifications
CARE_DATE_FIELDS = {
    "last_interaction_date": "date",
    "next_care_date": "date",
    "care_status": "str",
}
RUN_TABLE = "crm_relationship_run"
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
READ_BATCH_SIZE = 20000
ADVISORY_LOCK = 0x43524D52  # "CRMR": namespace of the classification lock
# what the rules read of a tier, as plain data (the loop runs per customer)
TierInfo = namedtuple(
    "TierInfo", ["id", "tier_type", "relationship_level", "contact_interval_days"]
)


@functools.lru_cache(maxsize=256)
def _component_json(code, score, weight, facts):
    """``"code":[score,weight,{fact:value}]`` of one health component, amounts
    left out; most customers share the same few (cached)."""
    facts = {
        name: round(value, 4) if isinstance(value, float) else value
        for name, value in facts
        if name not in ("revenue", "previous_revenue")
    }
    if code == "trend" and score is not None and "change" not in facts:
        facts["no_revenue"] = True
    score = None if score is None else round(score, 1)
    return json.dumps({code: [score, weight, facts]}, separators=(",", ":"))[1:-1]


def _csv(rows):
    """``rows`` (tuples) as a file of CSV for COPY: None is NULL."""
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    text.seek(0)
    return text


class CrmRelationshipClassification(models.AbstractModel):
    """The classification engine: revenue, tier, RFM, status, level, lifetime
    value and care fields of every customer, per company.

    One pass per company: the facts of ``crm.relationship.facts`` are gathered
    into a temporary table with set-based queries (company-wide ranks and
    quintiles by SQL window functions), read back in batches, run through the
    pure rules of ``tools/``, and compared with what is stored: only the rows
    that differ are written. Nothing is cached, so a value changed by any
    means is repaired by the next run, and memory depends on the batch size,
    not on the number of customers.
    """

    _name = "crm.relationship.classification"
    _description = "Customer classification engine"

    # ------------------------------------------------------------------
    # ENTRY POINTS
    # ------------------------------------------------------------------

    @api.model
    def _run(self, companies, as_of, partner_ids=None, commit=False):
        """Classify the commercial partners ``partner_ids`` (every customer when
        None) of ``companies`` as of ``as_of``; yield the number of partners
        written by each batch. With ``commit``, each batch is committed (cron)."""
        for company in companies:
            with self._company_lock(company, full=partner_ids is None):
                for batch in self._iter_figures(company, as_of, partner_ids, True):
                    changed = self._changed_rows(company, batch)
                    if changed:
                        self._write_rows(company, changed)
                    self._write_history(company, as_of, batch)
                    yield len(changed)
                    if commit:
                        self.env.cr.commit()  # pylint: disable=invalid-commit

    @contextmanager
    def _company_lock(self, company, full):
        """One classification of a company at a time, on any worker.

        A full run holds a session lock, which survives the commits of its
        batches (the cron); a partial run (a button) takes the same lock for its
        transaction only, so it waits for a full run rather than interleave.
        """
        cr = self.env.cr
        key = (ADVISORY_LOCK, company.id)
        if not full:
            cr.execute(SQL("SELECT pg_advisory_xact_lock(%s, %s)", *key))
            yield
            return
        cr.execute(SQL("SELECT pg_advisory_lock(%s, %s)", *key))
        unlock = SQL("SELECT pg_advisory_unlock(%s, %s)", *key)
        try:
            yield
        except BaseException:
            if cr._cnx.info.transaction_status == TRANSACTION_STATUS_INERROR:
                # an aborted transaction runs nothing: release once rolled back
                cr.postrollback.add(lambda: cr.execute(unlock))
            else:
                cr.execute(unlock)
            raise
        cr.execute(unlock)

    @api.model
    def _iter_figures(self, company, as_of, partner_ids=None, with_stored=False):
        """Yield batches ``{pid: {field: value}}`` of the classification of
        ``company`` as of ``as_of`` (of ``partner_ids`` only when given), without
        writing anything: the KPIs of a past date read them too. With
        ``with_stored`` each row also carries ``"_stored"``, the values held
        now in the order of CLASSIFICATION_FIELDS (None when a contact holds
        other values than its commercial partner).
        """
        self.env.flush_all()  # the facts are read with SQL
        self._build_run_table(company, as_of, partner_ids)
        context = self._rules_context(company, as_of)
        self._fit_predictive(company, as_of, context, partner_ids, store=with_stored)
        for rows in self._read_run_rows(company, with_stored):
            self._predict_batch(rows, context)
            yield {row["pid"]: self._classify(row, context) for row in rows}
        self.env.cr.execute(SQL("DROP TABLE IF EXISTS %s", SQL.identifier(RUN_TABLE)))

    # ------------------------------------------------------------------
    # GATHER
    # ------------------------------------------------------------------

    @api.model
    def _build_run_table(self, company, as_of, partner_ids=None):
        """One row per customer in scope with every fact the rules read.

        The scope of a full run: partners with revenue moves, prospects, and
        partners holding any classified value in the company (so that values
        that no longer apply are cleared).
        """
        Facts = self.env["crm.relationship.facts"]
        key = str(company.id)
        if partner_ids is None:
            # a commercial partner that is neither a buyer nor a prospect is in
            # scope when it holds a classified value (to clear it)
            held = SQL(" OR ").join(
                SQL("p.%s ? %s", SQL.identifier(fname), key)
                for fname in CLASSIFICATION_FIELDS
            )
            partner_scope = SQL("p.id = p.commercial_partner_id")
        else:
            held = SQL("TRUE")
            partner_scope = SQL("p.id = ANY(%s)", list(partner_ids))

        def only_scope(facts, column="pid"):
            """``facts`` of the partners in scope: on a partial run, a filter
            that PostgreSQL pushes into their aggregates (so a button on one
            customer reads its own facts only; ranks stay company-wide)."""
            if partner_ids is None:
                return facts
            return SQL(
                "SELECT * FROM (%s) f WHERE f.%s = ANY(%s)",
                facts,
                SQL.identifier(column),
                list(partner_ids),
            )

        company_partner = company.partner_id
        self.env.cr.execute(SQL("DROP TABLE IF EXISTS %s", SQL.identifier(RUN_TABLE)))
        # compiling this large query costs seconds and saves nothing; its
        # hashes and sorts span the whole book
        self.env.cr.execute("SET LOCAL jit = off")
        self.env.cr.execute("SET LOCAL work_mem = '64MB'")
        self.env.cr.execute(
            SQL(
                """
            CREATE TEMP TABLE %(table)s AS
            WITH ranked AS (%(ranked)s),
                 prospects AS (%(prospects)s),
                 -- what the rules read of the partner, narrow: the wide
                 -- partner rows are not carried through the joins
                 partners AS MATERIALIZED (
                     SELECT p.id,
                            (p.health_score->>%(key)s)::int AS stored_health_score,
                            (p.health_score_change->>%(key)s)::int
                                AS stored_health_change,
                            CASE WHEN (p.relationship_tier_locked->>%(key)s)::boolean
                                 THEN (p.relationship_tier_id->>%(key)s)::int END
                                AS locked_tier_id,
                            CASE WHEN (p.relationship_level_locked->>%(key)s)::boolean
                                 THEN p.relationship_level->>%(key)s END
                                AS locked_level,
                            (p.relationship_end_date->>%(key)s)::date AS end_date,
                            CASE WHEN p.country_id IS NULL THEN NULL
                                 WHEN p.country_id != %(country)s
                                 THEN 'international'
                                 WHEN p.state_id = %(state)s THEN 'local'
                                 ELSE 'domestic' END AS region_scope,
                            (p.care_stage_id->>%(key)s)::int AS stage_id,
                            p.care_phase_auto->>%(key)s AS phase_auto,
                            p.create_date::date AS created,
                            %(held)s AS held
                       FROM res_partner p
                      WHERE %(partner_scope)s)
            SELECT p.id AS pid, r.revenue, r.previous_revenue,
                   r.historical_revenue, r.purchases, r.previous_purchases,
                   r.first_purchase, r.last_purchase, r.quarters, r.unpaid,
                   r.revenue_rank, r.recency_score, r.frequency_score,
                   r.monetary_score, r.buyers, r.previous_buyers,
                   r.returning_buyers,
                   r.pid IS NOT NULL AS has_sales,
                   pr.pid IS NOT NULL AS prospect,
                   oc.pid IS NOT NULL AS overdue_complaint,
                   COALESCE(oc.complaints, 0) AS overdue_complaints,
                   pd.repeat_purchases, pd.repeat_revenue,
                   sv.csat_scores, sv.nps_scores,
                   p.stored_health_score, p.stored_health_change,
                   hp.id IS NOT NULL AS has_history,
                   hp.tier_id AS history_tier_id,
                   hp.relationship_status AS history_status,
                   hp.relationship_level AS history_level,
                   hp.health_band AS history_band,
                   ht.id AS history_today_id,
                   ht.tier_id AS today_tier_id,
                   ht.relationship_status AS today_status,
                   ht.relationship_level AS today_level,
                   ht.health_band AS today_band,
                   ht.health_score AS today_health_score,
                   ht.previous_tier_id AS today_previous_tier_id,
                   ht.previous_status AS today_previous_status,
                   ht.previous_level AS today_previous_level,
                   ht.previous_health_band AS today_previous_band,
                   w.won_date,
                   oo.pid IS NOT NULL AS open_opportunity,
                   li.last_interaction,
                   p.locked_tier_id, p.locked_level, p.end_date, p.region_scope,
                   p.stage_id, p.phase_auto, p.created
              FROM partners p
         LEFT JOIN ranked r ON r.pid = p.id
         LEFT JOIN (SELECT DISTINCT * FROM prospects) pr(pid) ON pr.pid = p.id
         LEFT JOIN (%(overdue)s) oc ON oc.pid = p.id
         LEFT JOIN (%(purchase_days)s) pd ON pd.pid = p.id
         LEFT JOIN (%(surveys)s) sv ON sv.pid = p.id
         LEFT JOIN (%(history)s) hp ON hp.partner_id = p.id
         LEFT JOIN crm_relationship_history ht
                ON ht.partner_id = p.id AND ht.company_id = %(company)s
               AND ht.date = %(as_of)s
         LEFT JOIN (%(won)s) w ON w.pid = p.id
         LEFT JOIN (%(open)s) oo ON oo.pid = p.id
         LEFT JOIN (%(interactions)s) li ON li.pid = p.id
             WHERE p.held OR r.pid IS NOT NULL OR pr.pid IS NOT NULL
                """,
                table=SQL.identifier(RUN_TABLE),
                ranked=Facts._ranked_sales_sql(company, as_of),
                prospects=only_scope(Facts._prospects_sql(company, as_of), "id"),
                held=held,
                partner_scope=partner_scope,
                key=key,
                country=company_partner.country_id.id or 0,
                state=company_partner.state_id.id or 0,
                overdue=only_scope(Facts._overdue_complaint_counts_sql(company, as_of)),
                purchase_days=only_scope(self._purchase_days_source(company, as_of)),
                surveys=only_scope(Facts._survey_answers_sql(company, as_of)),
                history=only_scope(
                    self._previous_history_sql(company, as_of), "partner_id"
                ),
                company=company.id,
                as_of=as_of,
                won=only_scope(Facts._won_opportunities_sql(company, as_of)),
                open=only_scope(Facts._open_opportunities_sql(company)),
                interactions=Facts._last_interactions_sql(company, as_of, partner_ids),
            )
        )

    @api.model
    def _read_run_rows(self, company, with_stored):
        """Yield the rows of the run table as lists of dicts, READ_BATCH_SIZE at
        a time, from one query on a server-side cursor (held over the commits of
        a cron run), so that memory does not grow with the book. With
        ``with_stored``, ``"_stored"`` is the tuple of the values stored now (the
        partner's own, or None when a contact holds other values)."""
        if with_stored:
            key = str(company.id)
            # one pass over the contacts, not one lookup per customer
            source = SQL(
                """, d.pid IS NOT NULL, %(typed)s
                     FROM %(table)s r
                     JOIN res_partner p ON p.id = r.pid
                LEFT JOIN (SELECT DISTINCT c.commercial_partner_id AS pid
                             FROM res_partner c
                             JOIN res_partner o ON o.id = c.commercial_partner_id
                            WHERE c.id != c.commercial_partner_id
                              AND ROW(%(child)s) IS DISTINCT FROM ROW(%(own)s)) d
                       ON d.pid = r.pid""",
                typed=SQL(", ").join(
                    self._stored_sql("p", f, key) for f in CLASSIFICATION_FIELDS
                ),
                table=SQL.identifier(RUN_TABLE),
                child=SQL(", ").join(
                    SQL("c.%s->%s", SQL.identifier(f), key)
                    for f in CLASSIFICATION_FIELDS
                ),
                own=SQL(", ").join(
                    SQL("o.%s->%s", SQL.identifier(f), key)
                    for f in CLASSIFICATION_FIELDS
                ),
            )
        else:
            source = SQL("FROM %s r", SQL.identifier(RUN_TABLE))
        query = SQL("SELECT r.* %s", source)
        width = None
        cursor = self.env.cr._cnx.cursor("crm_relationship_run_rows", withhold=True)
        try:
            cursor.execute(query.code, query.params)
            while records := cursor.fetchmany(READ_BATCH_SIZE):
                if width is None:
                    names = [column.name for column in cursor.description]
                    width = len(names) - (
                        len(CLASSIFICATION_FIELDS) + 1 if with_stored else 0
                    )
                    names = names[:width]
                yield [
                    dict(
                        zip(names, record[:width], strict=True),
                        _stored=None
                        if not with_stored or record[width]
                        else record[width + 1 :],
                    )
                    for record in records
                ]
        finally:
            cursor.close()

    @api.model
    def _stored_sql(self, alias, fname, key):
        """The typed value of ``fname`` stored for the company ``key``."""
        value = SQL("%s->>%s", SQL.identifier(alias, fname), key)
        cast = {
            "id": "int",
            "int": "int",
            "score": "int",
            "amount": "float",
            "float4": "float",
            "bool": "boolean",
            "date": "date",
        }
        kind = CLASSIFICATION_FIELDS[fname]
        return SQL("(%s)::%s", value, SQL(cast[kind])) if kind in cast else value

    @api.model
    def _rules_context(self, company, as_of):
        """What the rules need besides a customer's own facts, read once."""
        company = company.sudo()
        tiers = (
            self.env["crm.relationship.tier"]
            .sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", company.id)])
        )
        active_tiers = tiers.filtered("active")
        special = {t.tier_type: t for t in active_tiers if t.tier_type != "revenue"}
        stages = self.env["crm.relationship.care.stage"].sudo().search([])
        first_stage = {}
        for stage in stages:
            first_stage.setdefault(stage.phase, stage.id)
        infos = {
            tier.id: TierInfo(
                tier.id,
                tier.tier_type,
                tier.relationship_level,
                tier.contact_interval_days,
            )
            for tier in tiers
        }
        return {
            "company": company,
            "as_of": as_of,
            "tiers": infos,
            "revenue_rules": [
                replace(rule, key=rule.key.id)
                for rule in active_tiers._to_revenue_rules()
            ],
            "rules_by_population": {},
            "inactive": infos[special["inactive"].id]
            if "inactive" in special
            else None,
            "potential": infos[special["potential"].id]
            if "potential" in special
            else None,
            "status_params": company._relationship_status_params(),
            "margin_rate": company.relationship_margin_rate / 100,
            "window_months": company.relationship_window_months,
            "stage_phases": {stage.id: stage.phase for stage in stages},
            "first_stage": first_stage,
            "currency": company.currency_id,
        }

    # ------------------------------------------------------------------
    # RULES
    # ------------------------------------------------------------------

    @api.model
    def _classify(self, row, ctx):
        """The classified values of one customer from its run-table ``row``."""
        as_of = ctx["as_of"]
        revenue = row["revenue"] or 0.0
        tiers = ctx["tiers"]
        if row["locked_tier_id"] in tiers:
            tier = tiers[row["locked_tier_id"]]
        elif row["has_sales"]:
            tier = ctx["inactive"]
            if revenue > 0:
                tier = tiers.get(self._revenue_tier_id(row, ctx))
        else:
            tier = ctx["potential"] if row["prospect"] else None
        facts = CustomerFacts(
            revenue=revenue,
            previous_revenue=row["previous_revenue"] or 0.0,
            purchases=row["purchases"] or 0,
            previous_purchases=row["previous_purchases"] or 0,
            first_purchase=row["first_purchase"],
            last_purchase=row["last_purchase"],
            quarters_with_purchase=(row["quarters"] or 0).bit_count(),
            ended=bool(row["end_date"]),
            overdue_complaint=row["overdue_complaint"],
        )
        recency = row["recency_score"]
        values = {
            "relationship_tier_id": tier and tier.id,
            "relationship_status": relationship_status(
                facts, as_of, ctx["status_params"]
            ),
            "relationship_level": row["locked_level"]
            or (tier and tier.relationship_level),
            "lifetime_value": self._lifetime_value(row, ctx),
            "historical_revenue": row["historical_revenue"],
            "period_revenue": revenue,
            "previous_period_revenue": facts.previous_revenue,
            "purchase_count": facts.purchases,
            "first_purchase_date": facts.first_purchase,
            "last_purchase_date": facts.last_purchase,
            "rfm_recency_score": recency,
            "rfm_frequency_score": row["frequency_score"],
            "rfm_monetary_score": row["monetary_score"],
            "rfm_segment": recency and rfm.rfm_segment(recency, row["frequency_score"]),
            "relationship_revenue_rank": row["revenue_rank"],
            "region_scope": row["region_scope"],
        }
        values.update(self._care_values(row, values, tier, ctx))
        values.update(self._predictive_values(row, ctx))
        values.update(self._health_values(row, values, ctx))
        values["_history"] = row
        values["_stored"] = row["_stored"]
        return values

    @api.model
    def _revenue_tier_id(self, row, ctx):
        rules = ctx["rules_by_population"].get(row["buyers"])
        if rules is None:
            rules = tiering.tier_rules(ctx["revenue_rules"], row["buyers"])
            ctx["rules_by_population"][row["buyers"]] = rules
        return tiering.revenue_tier(rules, row["revenue"], row["revenue_rank"])

    @api.model
    def _lifetime_value(self, row, ctx):
        """Lifetime value by the company's method: ``bgnbd`` when the company's
        fit is trusted (``_predict_batch``), else ``retention`` (DESIGN)."""
        if "_predicted" in row:
            return row["_predicted"][3]
        if not row["revenue"] or row["revenue"] <= 0:
            return 0.0
        factor = ctx.get("ltv_factor")
        if factor is None:
            company = ctx["company"]
            retention = lifetime_value.measured_retention(
                row["previous_buyers"],
                row["returning_buyers"],
                company.relationship_retention_fallback / 100,
            )
            factor = ctx["ltv_factor"] = lifetime_value.retention_factor(
                retention,
                company.relationship_discount_rate / 100,
                company.relationship_horizon_years,
            )
        margin = lifetime_value.annual_margin(
            row["revenue"], ctx["window_months"], ctx["margin_rate"]
        )
        return margin * factor

    @api.model
    def _care_values(self, row, values, tier, ctx):
        """Care phase, stage and dates: the stage moves only when the phase of
        the facts changes, so a card a person dragged stays until then."""
        last_purchase = row["last_purchase"]
        won = row["won_date"]
        in_sale = row["unpaid"] or bool(
            won and (not last_purchase or won > last_purchase)
        )
        derived = care.fact_phase(
            in_sale,
            bool(row["first_purchase"]),
            row["open_opportunity"] or bool(tier and tier.tier_type == "potential"),
        )
        stage_id, phase = care.next_stage(
            derived,
            row["phase_auto"],
            row["stage_id"],
            ctx["stage_phases"],
            ctx["first_stage"],
        )
        next_date = care.next_care_date(
            row["last_interaction"] or row["first_purchase"] or row["created"],
            tier and tier.contact_interval_days,
            bool(row["end_date"]),
        )
        return {
            "care_stage_id": stage_id,
            "care_phase": phase,
            "care_phase_auto": derived,
            "last_interaction_date": row["last_interaction"],
            "next_care_date": next_date,
            "care_status": care.care_status(next_date, ctx["as_of"]),
        }

    # ------------------------------------------------------------------
    # PREDICTIVE LIFETIME VALUE (method bgnbd)
    # ------------------------------------------------------------------

    @api.model
    def _purchase_days_source(self, company, as_of):
        """The purchase days of ``company``'s customers when its method is
        ``bgnbd``, else an empty select of the same columns (no extra scan)."""
        if company.relationship_clv_method == "bgnbd":
            return self.env["crm.relationship.facts"]._purchase_days_sql(company, as_of)
        return SQL(
            "SELECT NULL::int AS pid, NULL::int AS repeat_purchases, "
            "NULL::numeric AS repeat_revenue WHERE FALSE"
        )

    @api.model
    def _fit_predictive(self, company, as_of, ctx, partner_ids=None, store=False):
        """Fit BG/NBD and Gamma-Gamma on every customer of ``company`` who ever
        bought (one query into numpy arrays) when its method is ``bgnbd``; keep
        the fits in ``ctx["predictive"]`` when they can be trusted. With
        ``store``, the company keeps the parameters, the customers fitted, the
        verdict and its reason, and the date.

        A partial run reuses the company's trusted fit of the same date; any
        other reads the whole company, never only the partners classified.
        """
        ctx["predictive"] = None
        if company.relationship_clv_method != "bgnbd":
            return None
        available, _why = clv.predictive_dependencies()
        if not available:
            result = {"verdict": clv.FitVerdict(False, clv.REASON_DEPENDENCIES, 0)}
        elif (
            partner_ids is not None
            and company.relationship_fit_date == as_of
            and company.relationship_fit_status == "trusted"
        ):
            ctx["predictive"] = company._relationship_fitted_params()
            return None
        else:
            result = self._fit_company(
                self._predictive_columns(company, as_of, partner_ids)
            )
        if result["verdict"].trusted:
            ctx["predictive"] = {
                "bgnbd": result["bgnbd"],
                "gamma_gamma": result["gamma_gamma"],
            }
        if store:
            company._relationship_store_fit(result, as_of)
        return result

    @api.model
    def _predictive_columns(self, company, as_of, partner_ids=None):
        """x, t_x, age (weeks) and spend per repeat purchase m of every customer
        of ``company`` who ever bought, as numpy arrays: from the run table of
        a full run, else from the facts."""
        import numpy as np

        if partner_ids is None:
            source = SQL.identifier(RUN_TABLE)
        else:
            Facts = self.env["crm.relationship.facts"]
            source = SQL(
                """(SELECT s.first_purchase, s.last_purchase, pd.repeat_purchases,
                           pd.repeat_revenue
                      FROM (%s) s JOIN (%s) pd ON pd.pid = s.pid) src""",
                Facts._sales_sql(company, as_of),
                Facts._purchase_days_sql(company, as_of),
            )
        self.env.cr.execute(
            SQL(
                """SELECT repeat_purchases, (last_purchase - first_purchase) / 7.0,
                          (%(as_of)s::date - first_purchase) / 7.0,
                          CASE WHEN repeat_purchases > 0
                               THEN repeat_revenue / repeat_purchases ELSE 0 END
                     FROM %(source)s
                    WHERE first_purchase IS NOT NULL
                      AND repeat_purchases IS NOT NULL""",
                as_of=as_of,
                source=source,
            )
        )
        data = np.array(self.env.cr.fetchall(), dtype=float).reshape(-1, 4)
        return data.T

    @api.model
    def _fit_company(self, columns):
        """``{"bgnbd", "gamma_gamma", "verdict", "customers"}`` of one company's
        customers; no fit without enough repeat buyers (DESIGN)."""
        import numpy as np

        x, t_x, age, m = columns
        repeat_buyers = int(np.count_nonzero(x))
        result = {"bgnbd": None, "gamma_gamma": None, "customers": len(x)}
        if repeat_buyers < clv.MIN_REPEAT_BUYERS or not np.any((x > 0) & (m > 0)):
            result["verdict"] = clv.FitVerdict(
                False, clv.REASON_FEW_BUYERS, repeat_buyers
            )
            return result
        result["bgnbd"] = clv.fit_bgnbd(x, t_x, age)
        # Gamma-Gamma's v is in currency: fit on spends divided by their mean,
        # so that its bounds do not depend on the currency (p, q are free of
        # it), then scale v back
        scale = float(np.mean(m[(x > 0) & (m > 0)]))
        fit = clv.fit_gamma_gamma(x, m / scale)
        result["gamma_gamma"] = dataclasses.replace(fit, v=fit.v * scale)
        result["verdict"] = clv.fit_verdict(result["bgnbd"], result["gamma_gamma"])
        return result

    @api.model
    def _predict_batch(self, rows, ctx):
        """Predict, with numpy over the whole batch, the figures of the run-table
        ``rows`` of customers who ever bought: each gets ``"_predicted"`` =
        (probability alive, purchases of the next 12 months, expected spend per
        purchase, lifetime value). Nothing when the company's fit is not used.
        """
        fits = ctx.get("predictive")
        if not fits:
            return
        import numpy as np

        scored = [
            row
            for row in rows
            if row["first_purchase"] and row["repeat_purchases"] is not None
        ]
        if not scored:
            return
        as_of = ctx["as_of"]
        x = np.array([row["repeat_purchases"] for row in scored], dtype=float)
        t_x = (
            np.array(
                [(row["last_purchase"] - row["first_purchase"]).days for row in scored],
                dtype=float,
            )
            / 7.0
        )
        age = (
            np.array(
                [(as_of - row["first_purchase"]).days for row in scored], dtype=float
            )
            / 7.0
        )
        revenue = np.array([row["repeat_revenue"] for row in scored], dtype=float)
        m = np.divide(revenue, x, out=np.zeros_like(revenue), where=x > 0)
        bgnbd, gamma_gamma = fits["bgnbd"], fits["gamma_gamma"]
        company = ctx["company"]
        alive = clv.probability_alive(bgnbd, x, t_x, age)
        purchases = clv.predicted_purchases(bgnbd, x, t_x, age)
        spend = clv.expected_average_spend(gamma_gamma, x, m)
        value = clv.lifetime_value(
            bgnbd,
            x,
            t_x,
            age,
            spend,
            ctx["margin_rate"],
            company.relationship_discount_rate / 100,
            company.relationship_horizon_years,
        )
        for row, *figures in zip(
            scored,
            alive.tolist(),
            purchases.tolist(),
            spend.tolist(),
            value.tolist(),
            strict=True,
        ):
            row["_predicted"] = figures

    @api.model
    def _predictive_values(self, row, ctx):
        predicted = row.get("_predicted")
        if not predicted:
            return {
                "probability_alive": None,
                "predicted_purchases": None,
                "relationship_expected_spend": None,
                "relationship_likely_lost": False,
            }
        alive, purchases, spend, _value = predicted
        threshold = ctx.get("likely_lost")
        if threshold is None:
            threshold = ctx["likely_lost"] = (
                ctx["company"].relationship_likely_lost_threshold / 100
            )
        return {
            "probability_alive": alive,
            "predicted_purchases": purchases,
            "relationship_expected_spend": spend,
            "relationship_likely_lost": alive < threshold,
        }

    # ------------------------------------------------------------------
    # HEALTH SCORE
    # ------------------------------------------------------------------

    @api.model
    def _health_values(self, row, values, ctx):
        """Health score, band, components (compact JSON) and change since the
        previous run of a customer who ever bought (DESIGN "Health score")."""
        if not row["first_purchase"]:
            return dict.fromkeys(
                (
                    "health_score",
                    "health_band",
                    "health_score_change",
                    "health_components",
                ),
                None,
            )
        score = ctx.get("health")
        if score is None:
            score = ctx["health"] = health.health_scorer(
                **ctx["company"]._relationship_health_params()
            )
        predicted = row.get("_predicted")
        components = (
            health.activity_component(
                predicted[0] if predicted else None, row["recency_score"]
            ),
            health.trend_component(
                values["period_revenue"], values["previous_period_revenue"]
            ),
            health.care_component(values["care_status"]),
            health.service_component(row["overdue_complaints"]),
            health.satisfaction_component(
                row["csat_scores"] or (), row["nps_scores"] or ()
            ),
        )
        result = score(components)
        stored = row["stored_health_score"]
        if stored is None or result.score is None:
            change = None
        elif result.score == stored:
            change = row["stored_health_change"]
        else:
            change = result.score - stored
        return {
            "health_score": result.score,
            "health_band": result.band,
            "health_score_change": change,
            "health_components": self._health_components_json(result),
        }

    @api.model
    def _health_components_json(self, result):
        """``{code: [score, weight, {fact: value}]}`` without money amounts: the
        breakdown is readable by every internal user."""
        parts = (
            _component_json(item.code, item.score, item.weight, item.facts)
            for item in result.components
        )
        return "{" + ",".join(parts) + "}"

    # ------------------------------------------------------------------
    # RELATIONSHIP HISTORY
    # ------------------------------------------------------------------

    @api.model
    def _previous_history_sql(self, company, as_of):
        """Per partner, its last history row of ``company`` dated before
        ``as_of``: the state a classification at ``as_of`` compares with."""
        self.env["crm.relationship.history"].flush_model()
        return SQL(
            """SELECT DISTINCT ON (partner_id) partner_id, id, tier_id,
                      relationship_status, relationship_level, health_band
                 FROM crm_relationship_history
                WHERE company_id = %s AND date < %s
             ORDER BY partner_id, date DESC, id DESC""",
            company.id,
            as_of,
        )

    @api.model
    def _write_history(self, company, as_of, batch):
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
            self.env.cr.copy_expert(
                """COPY crm_relationship_history (
                       partner_id, company_id, date, tier_id, previous_tier_id,
                       relationship_status, previous_status, relationship_level,
                       previous_level, health_score, health_band,
                       previous_health_band, tier_changed)
                   FROM STDIN WITH (FORMAT csv)""",
                _csv(to_insert),
            )
        if to_delete or to_insert:
            self.env["crm.relationship.history"].invalidate_model()
        return len(to_insert)

    # ------------------------------------------------------------------
    # WRITE
    # ------------------------------------------------------------------

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
        cr.copy_expert(
            f"COPY {WRITE_TABLE} FROM STDIN WITH (FORMAT csv)",
            _csv(
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

    # ------------------------------------------------------------------
    # CARE DATES BETWEEN TWO RUNS
    # ------------------------------------------------------------------

    @api.model
    def _refresh_care_dates(self, company, partner_ids, as_of=None):
        """Refresh the last interaction, next care date and care status of the
        commercial partners ``partner_ids`` in ``company`` after interactions
        changed, by the same rules as the classification; two queries."""
        partner_ids = [pid for pid in partner_ids if pid]
        if not partner_ids:
            return
        as_of = as_of or fields.Date.context_today(self)
        key = str(company.id)
        self.env["res.partner"].flush_model()
        last_dates = self.env["crm.relationship.facts"]._last_interactions_sql(
            company, partner_ids=partner_ids
        )
        rows = self.env.execute_query(
            SQL(
                """SELECT p.id, li.last_interaction, t.contact_interval_days,
                          p.relationship_end_date->>%(key)s IS NOT NULL,
                          (p.first_purchase_date->>%(key)s)::date,
                          p.create_date::date
                     FROM res_partner p
                LEFT JOIN crm_relationship_tier t
                       ON t.id = (p.relationship_tier_id->>%(key)s)::int
                LEFT JOIN (%(last_dates)s) li ON li.pid = p.id
                    WHERE p.id = ANY(%(ids)s)""",
                key=key,
                ids=partner_ids,
                last_dates=last_dates,
            )
        )
        currency = company.currency_id
        values = {}
        for pid, last, interval, ended, first_purchase, created in rows:
            next_date = care.next_care_date(
                last or first_purchase or created, interval, ended
            )
            status = care.care_status(next_date, as_of)
            values[pid] = {
                fname: self._to_json(kind, value, currency)
                for (fname, kind), value in zip(
                    CARE_DATE_FIELDS.items(), (last, next_date, status), strict=True
                )
            }
        self._write_rows(company, values)

    @api.model
    def _refresh_care_status(self, company, as_of):
        """Age ``care_status`` of the customers of ``company`` to ``as_of`` by the
        care rule: read the next care dates, write the statuses that change."""
        key = str(company.id)
        self.env["res.partner"].flush_model(["next_care_date", "care_status"])
        rows = self.env.execute_query(
            SQL(
                """SELECT id, (next_care_date->>%(key)s)::date, care_status->>%(key)s
                     FROM res_partner
                    WHERE id = commercial_partner_id
                      AND (next_care_date ? %(key)s OR care_status ? %(key)s)""",
                key=key,
            )
        )
        changed = {}
        for pid, next_date, stored in rows:
            status = care.care_status(next_date, as_of)
            if status != stored:
                changed[pid] = {"care_status": status}
        self._write_rows(company, changed)
        return len(changed)

    @api.model
    def _auto_commit(self):
        """Whether a cron run may commit its batches (never in tests)."""
        return bool(self.env.context.get("ir_cron_progress_id")) and not getattr(
            threading.current_thread(), "testing", False
        )
