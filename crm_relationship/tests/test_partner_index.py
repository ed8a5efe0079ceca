import re
from types import SimpleNamespace
from unittest.mock import patch

import psycopg2

from odoo.tests import tagged
from odoo.tools import SQL, safe_eval
from odoo.tools.sql import index_exists

from ..models.res_partner_index import INCLUDED
from .common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
class TestPartnerIndex(CrmRelationshipCommon):
    """The screens' queries on the classified values can read the company's
    own indexes (res_partner_index), and read the tier and the care stage
    without core's existence subquery."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._customer("Chỉ mục")
        cls._invoice(cls.customer, "2026-05-01", 800.0)
        cls.customer._recompute_relationship(
            as_of=cls.as_of, company_ids=cls.company.ids
        )

    def _indexed(self, name, expression):
        """Whether the index ``name`` is on ``expression`` (an SQL of the
        partner aliased ``res_partner``), both as PostgreSQL deparses them:
        then the planner can use it for a query on that expression."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "CREATE TEMP VIEW crm_relationship_index_probe AS "
                "SELECT %s AS value FROM res_partner",
                expression,
            )
        )
        self.env.cr.execute(
            """SELECT pg_get_viewdef('crm_relationship_index_probe'),
                      pg_get_expr(i.indexprs, i.indrelid)
                 FROM pg_index i
                WHERE i.indexrelid = %s::regclass""",
            [name],
        )
        view, indexed = self.env.cr.fetchone()
        self.env.cr.execute("DROP VIEW crm_relationship_index_probe")
        # the view reads "SELECT <expression> AS value FROM res_partner;"
        selected = view.split("SELECT", 1)[1].rsplit(" AS value", 1)[0]
        return selected.strip().replace("res_partner.", "") == indexed

    def test_kanban_columns_read_the_company_index(self):
        customer = self.customer.with_company(self.company)
        for fname in ("relationship_tier_id", "care_stage_id"):
            value = customer[fname].id
            self.assertTrue(value, fname)
            query = customer._search([(fname, "=", value)])
            self.assertNotIn("__exists", query.select().code, fname)
            self.assertEqual(customer.browse(query), self.customer, fname)
            self.assertTrue(
                self._indexed(
                    f"res_partner_{fname}_company_{self.company.id}",
                    customer._field_to_sql("res_partner", fname),
                ),
                fname,
            )

    def _queries(self, model, call):
        """The SQL texts of the queries ``call(model)`` runs, and its result."""
        cr = model.env.cr
        queries = []
        execute = cr.execute

        def logged(query, params=None, log_exceptions=True):
            queries.append(str(query.code if isinstance(query, SQL) else query))
            return execute(query, params, log_exceptions)

        with patch.object(cr, "execute", logged):
            result = call(model)
        return queries, result

    def _columns_read(self, model, call):
        """The ``res_partner`` columns of the queries ``call(model)`` runs."""
        queries, _result = self._queries(model, call)
        return set(re.findall(r'"res_partner"\."(\w+)"', " ".join(queries)))

    def test_kanban_counts_read_the_company_index_alone(self):
        """The grouped reads of the customers kanban (default filter) and of
        the care pipeline, as a plain relationship user sends them, read no
        partner column outside the column's index: PostgreSQL can count and
        sum the columns from the index alone."""
        classified = [("relationship_tier_id", "!=", False)]
        screens = [
            (
                "res_partner_action_customers",
                "relationship_tier_id",
                "relationship_status",
                classified,
            ),
            ("res_partner_action_care_pipeline", "care_stage_id", "care_status", []),
        ]
        for action, fname, progress, default_filter in screens:
            action = self.env.ref(f"crm_relationship.{action}")
            domain = safe_eval.safe_eval(action.domain) + default_filter
            partners = (
                self.env["res.partner"]
                .with_user(self.relationship_user)
                .with_company(self.company)
            )
            read = self._columns_read(
                partners,
                lambda model, d=domain, f=fname, p=progress: (
                    model.web_read_group(d, ["lifetime_value:sum"], [f]),
                    model.read_progress_bar(
                        d, f, {"field": p, "colors": {}, "sum_field": "lifetime_value"}
                    ),
                ),
            )
            self.assertIn(fname, read)
            self.assertIn("company_id", read, "core's multi-company rule")
            self.assertLessEqual(
                read,
                {fname}
                | set(
                    partners._relationship_included_columns(
                        f"res_partner_{fname}_company_{self.company.id}"
                    )
                ),
                fname,
            )

    def test_columns_come_in_the_tiers_order_without_a_join(self):
        """Grouped or sorted by tier, the customers come in the tiers' own
        order (sequence, not id), no tier last (first when descending), and
        the queries join no tier table: the kanban counts a million partners
        without joining each of them."""
        Tier = self.env["crm.relationship.tier"]
        # the inactive tier first: the tiers' order is no longer their ids'
        self.tiers["inactive"].sequence = -1
        tiers = Tier.search([("company_id", "=", self.company.id)])
        self.assertEqual(tiers[0], self.tiers["inactive"])
        self.assertNotEqual(tiers.ids, sorted(tiers.ids))
        partners = self.env["res.partner"].with_company(self.company)
        customers = partners.browse()
        for tier in tiers.sorted("id"):
            customer = self._customer(f"Thứ tự {tier.code}").with_company(self.company)
            customer.write(
                {"relationship_tier_id": tier.id, "relationship_tier_locked": True}
            )
            customers |= customer
        no_tier = self._customer("Chưa phân hạng")
        domain = [("id", "in", (customers | no_tier).ids)]

        sql, (groups, ascending, descending) = self._queries(
            partners,
            lambda model: (
                model.read_group(domain, [], ["relationship_tier_id"]),
                model.search(domain, order="relationship_tier_id, id"),
                model.search(domain, order="relationship_tier_id desc, id"),
            ),
        )
        self.assertEqual(
            [
                group["relationship_tier_id"] and group["relationship_tier_id"][0]
                for group in groups
            ],
            [*tiers.ids, False],
        )
        self.assertEqual(
            ascending.mapped("relationship_tier_id").ids, tiers.ids, "the tiers' order"
        )
        self.assertEqual(ascending[-1], no_tier)
        self.assertEqual(descending[0], no_tier)
        self.assertEqual(descending[1:].ids, ascending[:-1].ids[::-1])
        partner_queries = [
            query
            for query in sql
            if 'FROM "res_partner"' in query
            and ("GROUP BY" in query or "ORDER BY" in query)
        ]
        self.assertEqual(len(partner_queries), 3, partner_queries)
        for query in partner_queries:
            self.assertNotIn('"crm_relationship_tier"', query)

    def test_an_index_without_its_included_columns_is_rebuilt(self):
        """An index of an earlier version (the same name, other included
        columns) is built again with the columns of this one."""
        name = f"res_partner_care_stage_id_company_{self.company.id}"
        self.env.cr.execute(
            SQL(
                """DROP INDEX %s;
                   CREATE INDEX %s ON res_partner (((care_stage_id->%s->>0)::int4))""",
                SQL.identifier(name),
                SQL.identifier(name),
                str(self.company.id),
            )
        )
        Partner = self.env["res.partner"]
        self.assertEqual(Partner._relationship_included_columns(name), [])
        Partner._relationship_create_indexes(self.company)
        self.assertEqual(
            Partner._relationship_included_columns(name),
            list(INCLUDED["care_stage_id"]),
        )

    def test_the_form_reads_the_moves_of_its_customer_by_index(self):
        """Core's days sales outstanding, on the customer form, sums the moves
        of the commercial partner: indexed, not a scan of every move."""
        self.assertTrue(self.env["account.move"]._fields["commercial_partner_id"].index)
        self.assertTrue(
            index_exists(self.env.cr, "account_move__commercial_partner_id_index")
        )

    def test_a_run_that_rewrote_the_book_rebuilds_the_indexes(self):
        """A company-wide run that wrote most of its customers (here the first
        one, which writes them all) has the company's indexes rebuilt once
        committed; a quiet one does not."""
        Partners = self.env["res.partner"]
        with patch.object(
            type(Partners), "_relationship_rebuild_indexes", autospec=True
        ) as rebuild:
            self.assertTrue(
                Partners._recompute_relationship(
                    as_of=self.as_of, company_ids=self.company.ids
                )
            )
            self.assertEqual(rebuild.call_count, 1)
            self.assertEqual(rebuild.call_args.args[1], self.company)
            Partners._recompute_relationship(
                as_of=self.as_of, company_ids=self.company.ids
            )
            self.assertEqual(rebuild.call_count, 1)

    def test_the_rebuild_waits_for_the_commit(self):
        """The vacuum and the rebuild run after the commit, on a cursor of
        their own outside any transaction (neither may run inside one): the
        table first, then each company index; one that fails leaves its
        unfinished copy dropped and the others rebuilt."""
        names = [
            f"res_partner_{fname}_company_{self.company.id}"
            for fname in (
                "relationship_tier_id",
                "care_stage_id",
                "period_revenue",
                "period_profit",
            )
        ]
        statements = []
        connection = SimpleNamespace(autocommit=False)

        class Cursor:
            _cnx = connection

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def execute(self, query, log_exceptions=True):
                statements.append((connection.autocommit, query.code))
                if query.code.startswith("REINDEX") and names[2] in query.code:
                    raise psycopg2.OperationalError("canceled")

        postcommit = self.env.cr.postcommit
        before = len(postcommit._funcs)
        with patch.object(self.env.registry, "cursor", side_effect=AssertionError):
            self.env["res.partner"]._relationship_rebuild_indexes(self.company)
        self.assertEqual(len(postcommit._funcs), before + 1, "nothing ran yet")
        rebuild = postcommit._funcs.pop()
        with (
            patch.object(self.env.registry, "cursor", return_value=Cursor()),
            self.assertLogs(
                "odoo.addons.crm_relationship.models.res_partner_index", "WARNING"
            ) as logs,
        ):
            rebuild()
        self.assertIn(f"Rebuild of the index {names[2]} failed", logs.output[0])
        self.assertEqual(
            statements,
            [
                (True, 'VACUUM (ANALYZE) "res_partner"'),
                *((True, f'REINDEX INDEX CONCURRENTLY "{name}"') for name in names[:3]),
                (True, f'DROP INDEX CONCURRENTLY IF EXISTS "{names[2]}_ccnew"'),
                (True, f'REINDEX INDEX CONCURRENTLY "{names[3]}"'),
            ],
        )

    def test_a_run_that_rewrote_the_book_gathers_statistics(self):
        """A company-wide run that rewrote more than a tenth of the customers
        analyses the partner table, so that the planner no longer reads the
        rewritten rows' pages as visible to all; a quiet one does not."""
        Partners = self.env["res.partner"]
        Partners._recompute_relationship(as_of=self.as_of, company_ids=self.company.ids)
        with patch.object(
            type(Partners), "_relationship_analyze", autospec=True
        ) as analyze:
            written = Partners._recompute_relationship(
                as_of=self.as_of, company_ids=self.company.ids
            )
            self.assertEqual((written, analyze.call_count), (0, 0))
            # two years later, every customer with sales is lost
            written = Partners._recompute_relationship(
                as_of=self.as_of.replace(year=2028), company_ids=self.company.ids
            )
            self.assertTrue(written)
            self.assertEqual(analyze.call_count, 1)

    def test_the_rank_reads_the_company_index(self):
        Writer = self.env["crm.relationship.writer"]
        for fname in ("period_revenue", "period_profit"):
            self.assertTrue(
                self._indexed(
                    f"res_partner_{fname}_company_{self.company.id}",
                    Writer._stored_sql("res_partner", fname, str(self.company.id)),
                ),
                fname,
            )
        partner = self.customer.with_company(self.company)
        self.assertEqual(partner.relationship_revenue_rank, 1)

    def test_a_new_company_gets_its_indexes(self):
        company = self.env["res.company"].create({"name": "Chi nhánh Huế"})
        self.env.cr.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE %s",
            [f"res_partner_%_company_{company.id}"],
        )
        self.assertEqual(
            sorted(row[0] for row in self.env.cr.fetchall()),
            sorted(
                f"res_partner_{fname}_company_{company.id}"
                for fname in (
                    "care_stage_id",
                    "period_profit",
                    "period_revenue",
                    "relationship_tier_id",
                )
            ),
        )

    def test_a_deleted_tier_reads_as_no_tier(self):
        """Core clears the id of a deleted record from the jsonb column, so
        the plain value needs no existence check."""
        tier = self.env["crm.relationship.tier"].create(
            {
                "name": "Tạm",
                "code": "temporary",
                "threshold_type": "amount",
                "min_amount": 1.0,
                "company_id": self.company.id,
            }
        )
        partner = self.customer.with_company(self.company)
        partner.write(
            {"relationship_tier_id": tier.id, "relationship_tier_locked": True}
        )
        tier.unlink()
        partner.invalidate_recordset()
        self.assertFalse(partner.relationship_tier_id)
        self.assertNotIn(
            partner,
            partner.search([("relationship_tier_id", "!=", False)]),
        )
