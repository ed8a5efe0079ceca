import json
import logging
import time

from odoo import api, fields, models
from odoo.tools import SQL, split_every
from odoo.tools.misc import get_lang

from ..tools import care, health
from .crm_relationship_rules import health_change
from .crm_relationship_run_facts import stream_rows

_logger = logging.getLogger(__name__)

ACTIVITY_BATCH_SIZE = 1000
# care fields that interactions refresh between two classifications
CARE_DATE_FIELDS = {
    "last_interaction_date": "date",
    "next_care_date": "date",
    "care_status": "str",
}
# what a new care status changes of the health between two classifications
HEALTH_FIELDS = [
    "health_score",
    "health_band",
    "health_score_change",
    "health_components",
]
# what ``_health_rescorer``'s rescore reads of a customer, in its order
RESCORE_FIELDS = ("health_components", "health_score", "health_score_change")


class CrmRelationshipCareScheduler(models.AbstractModel):
    """The care cron: plans "Customer care" activities for overdue customers
    within what each person can do in a day.

    Each person gets at most their daily care capacity (``res.users``
    override, else the company's) of open care activities. The most valuable
    overdue customers come first: tier in sequence order, then lifetime value,
    then the longest overdue; the rest waits for the next days, so a first run
    on a large book floods nobody. A customer goes to its salesperson, else to
    its sales team's leader, else to the company's default care user.
    """

    _name = "crm.relationship.care.scheduler"
    _description = "Customer care scheduler"

    @api.model
    def _schedule(self, as_of=None):
        """Age the care statuses to ``as_of`` (default today) and plan the
        activities; one query per company picks the customers. Returns the
        activities created."""
        as_of = fields.Date.to_date(as_of) or fields.Date.context_today(self)
        activity_type = self.env.ref(
            "crm_relationship.mail_activity_type_customer_care",
            raise_if_not_found=False,
        )
        Activity = self.env["mail.activity"].sudo()
        if not activity_type:
            return Activity
        engine = self.env["crm.relationship.classification"]
        model_id = self.env["ir.model"]._get_id("res.partner")
        vals_list = []
        for company in self.env["res.company"].sudo().search([]):
            started = time.monotonic()
            aged = self._refresh_care_status(company, as_of)
            planned = len(vals_list)
            vals_list += [
                {
                    "res_model_id": model_id,
                    "res_id": pid,
                    "activity_type_id": activity_type.id,
                    "user_id": user_id,
                    "date_deadline": as_of,
                }
                for pid, user_id in self._pick_customers(company, activity_type)
            ]
            _logger.info(
                "Care scheduler of company %s as of %s: %d care statuses aged, "
                "%d care activities to plan, in %.2fs",
                company.id,
                as_of,
                aged,
                len(vals_list) - planned,
                time.monotonic() - started,
            )
        summaries = self._summaries_by_user({vals["user_id"] for vals in vals_list})
        for vals in vals_list:
            vals["summary"] = summaries[vals["user_id"]]
        commit = engine._auto_commit()
        activities = Activity
        Activity = Activity.with_context(mail_activity_quick_update=True)
        done = 0
        for batch in split_every(ACTIVITY_BATCH_SIZE, vals_list):
            # mail.activity reads each record's display_name one by one: load
            # them in one query first
            self.env["res.partner"].browse([v["res_id"] for v in batch]).mapped(
                "display_name"
            )
            activities |= Activity.create(list(batch))
            done += len(batch)
            if commit:
                self.env["ir.cron"]._notify_progress(
                    done=done, remaining=len(vals_list) - done
                )
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return activities

    @api.model
    def _summaries_by_user(self, user_ids):
        """``{user id: summary}``: the activity's summary in the language of the
        person it is assigned to (the cron itself runs in OdooBot's), translated
        once per language, not once per activity. A language since deactivated
        falls back to the database's default one."""
        users = self.env["res.users"].sudo().browse(user_ids)
        users.fetch(["lang"])
        default_lang = get_lang(self.env).code
        Lang = self.env["res.lang"]
        langs = {user.id: Lang._get_code(user.lang) or default_lang for user in users}
        by_lang = {
            lang: self.with_context(lang=lang).env._("Customer care: contact is due")
            for lang in set(langs.values())
        }
        return {user_id: by_lang[lang] for user_id, lang in langs.items()}

    @api.model
    def _pick_customers(self, company, activity_type):
        """``[(partner id, user id)]``: the overdue customers of ``company``
        without an open care activity, for whom their assignee has room today,
        most valuable first."""
        key = str(company.id)

        def stored(fname):
            return self.env["crm.relationship.writer"]._stored_sql("p", fname, key)

        self.env["mail.activity"].flush_model(
            ["active", "activity_type_id", "res_id", "res_model", "user_id"]
        )
        self.env["res.users"].flush_model(["active", "share"])
        self.env["crm.team.member"].flush_model(["active", "crm_team_id", "user_id"])
        self.env["res.partner"].flush_model()
        # the customer's sales team when the partner has one (module sale),
        # else the last team of its salesperson (who may have left)
        team = SQL(
            """(SELECT m.crm_team_id FROM crm_team_member m
                 WHERE m.user_id = p.user_id ORDER BY m.active DESC, m.id DESC
                 LIMIT 1)"""
        )
        if "team_id" in self.env["res.partner"]._fields:
            team = SQL("COALESCE(p.team_id, %s)", team)
        team_leader = SQL(
            "(SELECT t.user_id FROM crm_team t WHERE t.id = %s AND t.active)", team
        )
        return self.env.execute_query(
            SQL(
                """
            WITH open_care AS (
                SELECT res_id, user_id FROM mail_activity
                 WHERE res_model = 'res.partner' AND active
                   AND activity_type_id = %(type)s
            ), users AS (
                SELECT u.id,
                       COALESCE(NULLIF(u.relationship_care_capacity, 0),
                                %(capacity)s)
                       - COALESCE(o.open, 0) AS room
                  FROM res_users u
             LEFT JOIN (SELECT user_id, COUNT(*) AS open FROM open_care
                      GROUP BY user_id) o ON o.user_id = u.id
                 WHERE u.active AND NOT u.share
            ), candidates AS (
                SELECT p.id,
                       COALESCE(
                           (SELECT id FROM users WHERE id = p.user_id),
                           (SELECT id FROM users WHERE id = %(team_leader)s),
                           %(default_user)s) AS user_id,
                       t.sequence AS tier_sequence,
                       %(lifetime_value)s AS lifetime_value,
                       %(next_care_date)s AS next_care_date
                  FROM res_partner p
             LEFT JOIN crm_relationship_tier t ON t.id = %(tier_id)s
                 WHERE p.active AND p.id = p.commercial_partner_id
                   AND %(care_status)s = 'overdue'
                   -- a hashed list, whatever PostgreSQL guesses of the
                   -- overdue customers (a nested loop took 7 s at 100,000)
                   AND p.id NOT IN (SELECT res_id FROM open_care
                                     WHERE res_id IS NOT NULL)
            ), ranked AS (
                SELECT c.id, c.user_id, ROW_NUMBER() OVER (
                           PARTITION BY c.user_id
                           ORDER BY c.tier_sequence NULLS LAST,
                                    c.lifetime_value DESC NULLS LAST,
                                    c.next_care_date, c.id) AS position
                  FROM candidates c
            )
            SELECT r.id, r.user_id FROM ranked r
              JOIN users u ON u.id = r.user_id
             WHERE r.position <= u.room
          ORDER BY r.user_id, r.position
                """,
                type=activity_type.id,
                capacity=company.relationship_care_capacity,
                team_leader=team_leader,
                default_user=company._relationship_default_care_user().id or None,
                lifetime_value=stored("lifetime_value"),
                next_care_date=stored("next_care_date"),
                tier_id=stored("relationship_tier_id"),
                care_status=stored("care_status"),
            )
        )

    # ------------------------------------------------------------------
    # CARE DATES BETWEEN TWO CLASSIFICATIONS
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
        Writer = self.env["crm.relationship.writer"]
        self.env["res.partner"].flush_model()
        last_dates = self.env["crm.relationship.facts"]._last_interactions_sql(
            company, partner_ids=partner_ids
        )
        rows = self.env.execute_query(
            SQL(
                """SELECT p.id, li.last_interaction, t.contact_interval_days,
                          %(end_date)s IS NOT NULL, %(first_purchase)s,
                          p.create_date::date, %(health)s
                     FROM res_partner p
                LEFT JOIN crm_relationship_tier t ON t.id = %(tier_id)s
                LEFT JOIN (%(last_dates)s) li ON li.pid = p.id
                    WHERE p.id = ANY(%(ids)s)""",
                end_date=Writer._stored_sql("p", "relationship_end_date", key),
                first_purchase=Writer._stored_sql("p", "first_purchase_date", key),
                health=SQL(", ").join(
                    Writer._stored_sql("p", fname, key) for fname in RESCORE_FIELDS
                ),
                tier_id=Writer._stored_sql("p", "relationship_tier_id", key),
                ids=partner_ids,
                last_dates=last_dates,
            )
        )
        currency = company.currency_id
        rescore = self._health_rescorer(company)
        values = {}
        for pid, last, interval, ended, first_purchase, created, *stored in rows:
            next_date = care.next_care_date(
                last or first_purchase or created, interval, ended
            )
            status = care.care_status(next_date, as_of)
            values[pid] = {
                fname: Writer._to_json(kind, value, currency)
                for (fname, kind), value in zip(
                    CARE_DATE_FIELDS.items(), (last, next_date, status), strict=True
                )
            }
            values[pid].update(rescore(status, *stored))
        Writer._write_rows(company, values)

    @api.model
    def _refresh_care_status(self, company, as_of):
        """Age ``care_status`` of the customers of ``company`` to ``as_of`` by the
        care rule: read the next care dates, write the statuses that change
        with the health they give."""
        key = str(company.id)
        self.env["res.partner"].flush_model(
            ["next_care_date", "care_status", *HEALTH_FIELDS]
        )
        Writer = self.env["crm.relationship.writer"]
        query = SQL(
            """SELECT id, %(stored)s
                 FROM res_partner
                WHERE id = commercial_partner_id
                  AND (next_care_date ? %(key)s OR care_status ? %(key)s)""",
            stored=SQL(", ").join(
                Writer._stored_sql("res_partner", fname, key)
                for fname in ("next_care_date", "care_status", *RESCORE_FIELDS)
            ),
            key=key,
        )
        rescore = self._health_rescorer(company)
        aged = 0
        # streamed: each row carries the health breakdown
        for rows in stream_rows(self.env.cr, "crm_relationship_care_status", query):
            changed = {}
            for pid, next_date, stored_status, *stored in rows:
                status = care.care_status(next_date, as_of)
                if status != stored_status:
                    changed[pid] = {
                        "care_status": status,
                        **rescore(status, *stored),
                    }
            Writer._write_rows(company, changed)
            aged += len(changed)
        return aged

    @api.model
    def _health_rescorer(self, company):
        """``rescore(care_status, components, score, change)``: the health
        fields of a customer whose care status became ``care_status`` between
        two classifications, from its stored components (``health_components``)
        with the care one scored again and weighed as the classification does;
        {} for a customer without a health score. Component scores are stored
        to 0.1, so the score is a full run's but for a rounding at the half."""
        scorer = health.health_scorer(**company.sudo()._relationship_health_params())

        def rescore(care_status, components, score, change):
            if not components:
                return {}
            parts = json.loads(components)
            care_part = health.care_component(care_status)
            result = scorer(
                tuple(
                    care_part
                    if code == "care"
                    else health.Component(code, parts[code][0], ())
                    for code in health.COMPONENTS
                )
            )
            weight = result.component("care").weight
            parts["care"] = [care_part.score, weight, dict(care_part.facts)]
            return {
                "health_score": result.score,
                "health_band": result.band,
                "health_score_change": health_change(result.score, score, change),
                "health_components": json.dumps(parts, separators=(",", ":")),
            }

        return rescore
