#!/usr/bin/env python3
"""Time the KPI dashboard's first page with two years of daily snapshots.

Copies a database where crm_relationship is installed, fills it with 730 days
of snapshots of every KPI (company totals, plus per-tier and per-team rows as
the scheduled action stores them), then times, in the server process, the
kanban's ``web_search_read`` as the web client sends it (cold cache, then warm)
and drops the copy.

    python3 scripts/benchmark_kpi_dashboard.py --db crm_relationship [--days 730]

Nothing here is a test: it prints figures. Target: under 0.5 s.
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmark import psql  # scripts/ is the script's own directory

REPO = Path(__file__).resolve().parent.parent


FILL = """
WITH company AS (SELECT id FROM res_company ORDER BY id LIMIT 1),
days AS (
    SELECT (CURRENT_DATE - n)::date AS day FROM generate_series(0, {days} - 1) n
),
tiers AS (
    SELECT t.id FROM crm_relationship_tier t, company WHERE t.company_id = company.id
),
teams AS (SELECT id FROM crm_team ORDER BY id LIMIT 3),
rows AS (
    SELECT k.id AS kpi_id, 'total' AS breakdown, NULL::int AS tier_id,
           NULL::int AS team_id FROM crm_relationship_kpi k
    UNION ALL
    SELECT k.id, 'tier', tiers.id, NULL FROM crm_relationship_kpi k, tiers
     WHERE k.code IN ('active_customers', 'new_customers',
                      'repeat_purchase_rate', 'average_lifetime_value')
    UNION ALL
    SELECT k.id, 'team', NULL, teams.id FROM crm_relationship_kpi k, teams
)
INSERT INTO crm_relationship_kpi_value
    (kpi_id, code, kpi_sequence, company_id, date, date_from, date_to, value,
     target, on_target, breakdown, tier_id, team_id, create_uid, create_date,
     write_uid, write_date)
SELECT rows.kpi_id, k.code, k.sequence, company.id, days.day,
       days.day - 365, days.day, 50 + 40 * sin(extract(doy FROM days.day) / 20.0),
       k.default_target, true, rows.breakdown, rows.tier_id, rows.team_id,
       1, now(), 1, now()
  FROM rows JOIN crm_relationship_kpi k ON k.id = rows.kpi_id, days, company
 WHERE NOT EXISTS (
       SELECT 1 FROM crm_relationship_kpi_value v
        WHERE v.kpi_id = rows.kpi_id AND v.date = days.day)
"""


def measure(db, runs):
    import odoo
    from odoo.tools import config

    config.parse_config(
        [f"--addons-path={Path(odoo.__file__).parent / 'addons'},{REPO}", "-d", db]
    )
    from odoo.modules.registry import Registry

    registry = Registry(db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        admin = env.ref("base.user_admin")
        env = env(user=admin, context={"lang": admin.lang or "en_US"})
        Kpi = env["crm.relationship.kpi"]
        view = env.ref("crm_relationship.crm_relationship_kpi_view_kanban_dashboard")
        fields = Kpi.get_views([(view.id, "kanban")])["models"][Kpi._name]["fields"]
        spec = {name: {} for name in fields}
        timings, queries = [], []
        for _run in range(runs):
            env.invalidate_all()
            registry.clear_cache()
            count = cr.sql_log_count
            start = time.perf_counter()
            result = Kpi.web_search_read([], spec, limit=80)
            timings.append(time.perf_counter() - start)
            queries.append(cr.sql_log_count - count)
        cr.rollback()
    odoo.sql_db.close_all()
    return result["length"], timings, queries


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="database with crm_relationship")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    copy = f"{args.db}_kpi_bench"
    subprocess.run(["dropdb", "--if-exists", copy], check=True)
    subprocess.run(["createdb", "-T", args.db, copy], check=True)
    try:
        psql(db=copy, sql=FILL.format(days=args.days))
        psql(db=copy, sql="ANALYZE crm_relationship_kpi_value")
        rows = psql(db=copy, sql="SELECT count(*) FROM crm_relationship_kpi_value")
        cards, timings, queries = measure(copy, args.runs)
    finally:
        subprocess.run(["dropdb", "--if-exists", copy], check=True)
    print(f"{rows} KPI values ({args.days} days); {cards} cards")
    print(
        f"web_search_read: first {timings[0] * 1000:.0f} ms, "
        f"median {statistics.median(timings) * 1000:.0f} ms, "
        f"max {max(timings) * 1000:.0f} ms over {len(timings)} cold-cache runs; "
        f"{queries[0]} queries"
    )
    return 0 if max(timings) < 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
