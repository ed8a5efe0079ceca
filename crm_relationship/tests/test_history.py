from datetime import date

from lxml import etree

from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from .common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-10-01 09:00:00")
class TestRelationshipHistory(CrmRelationshipCommon):
    """History rows written by classification runs at several dates.

    P buys 5,000 on 2026-06-01 and Q 100 on 2026-06-10; R is a prospect. With
    two buyers, the top 1 % is P alone (vip) and Q is small. On 2026-08-01 Q
    buys 10,000 and overtakes P: as of 2026-09-30 Q is vip and P small.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.p = cls._customer("History P")
        cls.q = cls._customer("History Q")
        cls.r = cls._customer("History R", customer_rank=1)
        cls._invoice(cls.p, "2026-06-01", 5000)
        cls._invoice(cls.q, "2026-06-10", 100)
        cls.partners = cls.p | cls.q | cls.r
        cls.History = cls.env["crm.relationship.history"]

    def _rows(self, **domain):
        return self.History.search(
            [("partner_id", "in", self.partners.ids)]
            + [(name, "=", value) for name, value in domain.items()],
            order="date, partner_id",
        )

    def _summary(self, rows):
        return {
            (row.partner_id, row.date): (
                row.previous_tier_id.code,
                row.tier_id.code,
                row.previous_status or None,
                row.relationship_status or None,
                row.previous_level or None,
                row.relationship_level or None,
            )
            for row in rows
        }

    def test_first_classification_writes_one_row_per_customer(self):
        self._recompute(self.partners, as_of=date(2026, 6, 30))
        june = date(2026, 6, 30)
        self.assertEqual(
            self._summary(self._rows()),
            {
                (self.p, june): (False, "vip", None, "new", None, "partnership"),
                (self.q, june): (False, "small", None, "new", None, "reactive"),
                (self.r, june): (False, "potential", None, None, None, "basic"),
            },
        )
        self.assertEqual(self._rows(partner_id=self.p.id).company_id, self.company)
        self.assertTrue(self._rows(partner_id=self.p.id).health_band)
        self.assertFalse(self._rows(partner_id=self.r.id).health_band)
        # the same date again: nothing new
        self._recompute(self.partners, as_of=june)
        self.assertEqual(len(self._rows()), 3)

    def test_changes_only_and_tier_migration(self):
        june, september = date(2026, 6, 30), date(2026, 9, 30)
        self._recompute(self.partners, as_of=june)
        self._invoice(self.q, "2026-08-01", 10000)
        self._recompute(self.partners, as_of=september)
        rows = self._rows(date=september)
        self.assertEqual(rows.partner_id, self.p | self.q)  # R did not change
        self.assertEqual(
            self._summary(rows),
            {
                (self.p, september): (
                    "vip",
                    "small",
                    "new",
                    "active",
                    "partnership",
                    "reactive",
                ),
                (self.q, september): (
                    "small",
                    "vip",
                    "new",
                    "active",
                    "reactive",
                    "partnership",
                ),
            },
        )
        self.assertTrue(all(rows.mapped("tier_changed")))
        # figures that move without a change of state add nothing; a rerun of
        # the date keeps one row per customer
        self._invoice(self.p, "2026-09-20", 50)
        self._recompute(self.partners, as_of=september)
        self.assertEqual(len(self._rows(date=september, partner_id=self.p.id)), 1)
        self.assertEqual(len(self._rows(date=june)), 3)
        migration = self.History._read_group(
            [
                ("partner_id", "in", self.partners.ids),
                ("date", ">=", "2026-07-01"),
                ("date", "<=", "2026-09-30"),
                ("tier_changed", "=", True),
            ],
            ["previous_tier_id", "tier_id"],
            ["__count"],
        )
        self.assertEqual(
            {(before.code, after.code): count for before, after, count in migration},
            {("vip", "small"): 1, ("small", "vip"): 1},
        )

    def test_backfilled_dates_keep_their_date(self):
        self._recompute(self.partners, as_of=date(2026, 6, 30))
        march = date(2026, 3, 31)
        self._recompute(self.partners, as_of=march)
        rows = self._rows(date=march)
        # nobody had bought by then: three prospects
        self.assertEqual(rows.partner_id, self.partners)
        self.assertEqual(set(rows.mapped("tier_id.code")), {"potential"})
        june = self._rows(date=date(2026, 6, 30))
        self.assertEqual(len(june), 3)
        # classifying June again links its rows to the back-filled ones
        self._recompute(self.partners, as_of=date(2026, 6, 30))
        june = self._rows(date=date(2026, 6, 30))
        self.assertEqual(
            {row.partner_id: row.previous_tier_id.code for row in june},
            {self.p: "potential", self.q: "potential"},
            "R stayed a prospect: no change in June any more",
        )

    def test_users_read_and_nobody_writes(self):
        self._recompute(self.partners, as_of=date(2026, 6, 30))
        History = self.History.with_user(self.relationship_user)
        row = History.search([("partner_id", "=", self.p.id)])
        self.assertEqual(row.tier_id.code, "vip")
        self.assertEqual(
            self.p.with_user(self.relationship_user).relationship_history_ids, row
        )
        with self.assertRaises(AccessError):
            row.write({"tier_id": False})
        with self.assertRaises(AccessError):
            History.create(
                {
                    "partner_id": self.p.id,
                    "company_id": self.company.id,
                    "date": "2026-07-01",
                }
            )
        with self.assertRaises(AccessError):
            row.with_user(self.relationship_manager).unlink()
        other = self.env["res.company"].create({"name": "Other history company"})
        self.History.sudo().create(
            {"partner_id": self.p.id, "company_id": other.id, "date": "2026-07-01"}
        )
        self.assertEqual(History.search([("partner_id", "=", self.p.id)]), row)

    def test_the_list_opens_on_its_index(self):
        """The list's first page, in its order (date desc, id desc) and with a
        date filter, can be read from an index without sorting the rows (a
        first run dates one row per customer the same day). A few rows are
        cheaper to sort: the planner is told to avoid that, as it does on a
        large history, and a plan without a sort exists only with the index."""
        self._recompute(self.partners, as_of=date(2026, 6, 30))
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        self.env.cr.execute("SET LOCAL enable_sort = off")
        History = self.History.with_user(self.relationship_user)
        for domain in ([], [("date", ">=", "2026-06-01")]):
            query = History._search(domain, order=History._order, limit=80)
            self.env.cr.execute(SQL("EXPLAIN %s", query.select()))
            plan = "\n".join(row[0] for row in self.env.cr.fetchall())
            self.assertIn("crm_relationship_history_date_id_idx", plan, domain)
            self.assertNotIn("Sort", plan, domain)

    def test_the_tier_migration_reads_the_moves_alone(self):
        """The tier migration analysis (its default filter, Tier moves) reads
        an index of the tier moves, not every row of the history."""
        self._recompute(self.partners, as_of=date(2026, 6, 30))
        self._invoice(self.q, "2026-08-01", 10000)
        self._recompute(self.partners, as_of=date(2026, 9, 30))
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        action = self.env.ref(
            "crm_relationship.crm_relationship_history_action_migration"
        )
        History = self.History.with_user(self.relationship_user)
        search = etree.fromstring(action.search_view_id.arch)
        [tier_moves] = search.xpath("//filter[@name='tier_moves']")
        self.assertTrue(safe_eval(action.context)["search_default_tier_moves"])
        domain = safe_eval(tier_moves.get("domain"))
        self.assertEqual(History.search(domain).partner_id, self.p | self.q)
        self.env.cr.execute(SQL("EXPLAIN %s", History._search(domain).select()))
        plan = "\n".join(row[0] for row in self.env.cr.fetchall())
        self.assertIn("crm_relationship_history_tier_move_idx", plan)
