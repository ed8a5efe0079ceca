#!/usr/bin/env python3
"""End-to-end proof of the predictive lifetime value on the CDNOW sample.

Loads the 6,919 purchases of the 2,357 customers of the CDNOW transaction
sample (crm_relationship/tests/data/CDNOW_sample.txt, 1997-01 to 1998-06) as
posted customer invoices of one company of its own, with bulk SQL as
scripts/benchmark.py does, runs the classification with the method ``bgnbd``
as of 1997-09-30 (the literature's 39-week calibration period) and compares
the parameters the company stored with the published estimates (Fader, Hardie
and Lee 2005): within 2 % or the exit code is 1.

    python3 scripts/cdnow_proof.py [--db crm_relationship_cdnow] [--reuse] [--keep]

Without ``--reuse`` the database is created and the module installed without
demo data; ``--keep`` leaves the database for inspection.
"""

import argparse
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "crm_relationship" / "tests" / "data" / "CDNOW_sample.txt"
AS_OF = "1997-09-30"
COMPANY = "CDNOW proof"
PUBLISHED = {
    "r": 0.243,
    "alpha": 4.414,
    "a": 0.793,
    "b": 2.426,
    "p": 6.25,
    "q": 3.74,
    "v": 15.44,
}
TOLERANCE = 0.02


def odoo_addons_path():
    import odoo

    return f"{Path(odoo.__file__).parent / 'addons'},{REPO}"


def install(db):
    subprocess.run(["dropdb", "--if-exists", db], check=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "odoo",
            "-d",
            db,
            f"--addons-path={odoo_addons_path()}",
            "-i",
            "crm_relationship",
            "--without-demo=all",
            "--stop-after-init",
            "--http-port=8171",
            "--log-level=warn",
        ],
        check=True,
    )


def environment(db):
    import odoo
    from odoo import SUPERUSER_ID, api

    odoo.tools.config.parse_config(
        [f"--addons-path={odoo_addons_path()}", "-d", db, "--log-level=warn"]
    )
    registry = odoo.modules.registry.Registry(db)
    cr = registry.cursor()
    return api.Environment(cr, SUPERUSER_ID, {}), cr


def read_sample():
    """``[(customer, 'YYYY-MM-DD', amount)]``: one purchase per line."""
    rows = []
    for line in SAMPLE.read_text().splitlines():
        _master, customer, day, _cds, amount = line.split()
        rows.append((int(customer), f"{day[:4]}-{day[4:6]}-{day[6:]}", float(amount)))
    return rows


def company_with_invoices(env, purchases):
    """The proof's company, its 2,357 customers and their posted invoices."""
    company = env["res.company"].search([("name", "=", COMPANY)])
    if company:
        return company
    usd = env.ref("base.USD")
    usd.active = True
    company = env["res.company"].create({"name": COMPANY, "currency_id": usd.id})
    env["account.chart.template"].try_loading("generic_coa", company, False)
    journal = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "sale")], limit=1
    )
    cr = env.cr
    cr.execute(
        """INSERT INTO res_partner (name, complete_name, active, is_company, type,
                                    customer_rank, supplier_rank, autopost_bills,
                                    company_id, create_date, write_date)
                SELECT 'CDNOW customer ' || n, 'CDNOW customer ' || n, true, true,
                       'contact', 1, 0, 'ask', %s, now(), now()
                  FROM generate_series(1, 2357) n
             RETURNING id, name""",
        (company.id,),
    )
    partner_ids = {int(name.split()[-1]): pid for pid, name in cr.fetchall()}
    cr.execute(
        "UPDATE res_partner SET commercial_partner_id = id "
        "WHERE commercial_partner_id IS NULL"
    )
    values = [
        (
            f"CDNOW/{n}",
            journal.id,
            company.id,
            usd.id,
            day,
            day,
            partner_ids[customer],
            partner_ids[customer],
            amount,
            amount,
            amount,
            amount,
        )
        for n, (customer, day, amount) in enumerate(purchases, 1)
    ]
    from psycopg2.extras import execute_values

    execute_values(
        cr,
        """INSERT INTO account_move (name, journal_id, company_id, currency_id,
                                     date, invoice_date, partner_id,
                                     commercial_partner_id, amount_untaxed,
                                     amount_untaxed_signed, amount_total,
                                     amount_total_signed, state, move_type,
                                     auto_post, payment_state, create_date,
                                     write_date)
           VALUES %s""",
        values,
        template="(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'posted', "
        "'out_invoice', 'no', 'paid', now(), now())",
        page_size=2000,
    )
    cr.execute("ANALYZE account_move")
    env.invalidate_all()
    return company


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="crm_relationship_cdnow")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if not args.reuse:
        install(args.db)
    purchases = read_sample()
    print(
        f"CDNOW sample: {len(purchases)} purchases of "
        f"{len({c for c, _d, _a in purchases})} customers"
    )
    env, cr = environment(args.db)
    failed = False
    try:
        company = company_with_invoices(env, purchases)
        company.relationship_clv_method = "bgnbd"
        as_of = date.fromisoformat(AS_OF)
        started = time.time()
        written = sum(env["crm.relationship.classification"]._run(company, as_of))
        print(
            f"classification as of {AS_OF}: {written} customers written in "
            f"{time.time() - started:.1f} s"
        )
        print(
            f"fit status: {company.relationship_fit_status}, customers fitted: "
            f"{company.relationship_fit_customers}, repeat buyers: "
            f"{company.relationship_fit_repeat_buyers}"
        )
        for name, published in PUBLISHED.items():
            stored = company[f"relationship_fit_{name}"]
            error = abs(stored - published) / published
            failed |= error > TOLERANCE
            print(
                f"  {name:>5}: stored {stored:9.4f}  published {published:7.3f}  "
                f"error {100 * error:5.2f} %"
            )
        failed |= company.relationship_fit_status != "trusted"
        cr.commit()
    finally:
        cr.close()
    if not args.keep and not args.reuse:
        subprocess.run(["dropdb", "--if-exists", args.db], check=True)
    print("FAILED" if failed else "OK: the published parameters, within 2 %")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
