#!/usr/bin/env python3
"""Try to break the classification in a throwaway database, with real commits,
real concurrent connections and a killed process, and print what happened.

    python3 scripts/fault_check.py [--partners 3000] [--lines 30000] [--keep]

Checks (each prints its figures and OK or FAILED; exit 1 on any FAILED):
  1. two workers start the company's run at once: one runs, the other skips
     the company at once; no history row is written twice;
  2. a run killed (SIGKILL) after its first committed batch, then run again,
     ends in the state of an uninterrupted run;
  3. while a run is under way (between its batches) and between runs: an
     invoice posted, partners merged, archived and deleted, a tier archived,
     a salesperson archived, the company's currency changed (refused by
     Odoo once entries exist: the refusal is printed): the next run is
     consistent, i.e. a run after it writes nothing and its state equals a
     classification made from scratch.
The database ``crm_relationship_faults`` (or ``$CRM_RELATIONSHIP_FAULT_DB``)
is built with the benchmark's generator and dropped at the end. Not a test
of the suite: it needs commits and several connections.
"""

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

os.environ.setdefault(
    "CRM_RELATIONSHIP_BENCH_DB",
    os.environ.get("CRM_RELATIONSHIP_FAULT_DB", "crm_relationship_faults"),
)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchmark  # noqa: E402  (the generator and the database helpers)

DB = benchmark.DB
AS_OF = benchmark.AS_OF
BATCH = 500  # customers a batch: several batches on a small book
FAILED = []


def check(name, ok, detail):
    print(f"{'OK' if ok else 'FAILED'}  {name}: {detail}")
    if not ok:
        FAILED.append(name)


def environment():
    """A superuser environment on its own connection, batches of BATCH (Odoo's
    configuration is parsed by the first call, which is not thread-safe)."""
    if not getattr(environment, "ready", False):
        environment.ready = True
        env, cr = benchmark._env()
    else:
        import odoo
        from odoo import SUPERUSER_ID, api

        cr = odoo.modules.registry.Registry(DB).cursor()
        env = api.Environment(cr, SUPERUSER_ID, {})
    from odoo.addons.crm_relationship.models import crm_relationship_run_facts

    crm_relationship_run_facts.READ_BATCH_SIZE = BATCH
    return env, cr


def full_run(env, as_of=AS_OF, after_batch=None):
    """The nightly run of the main company, committing each batch."""
    as_of = date.fromisoformat(as_of)
    company = env.ref("base.main_company")
    engine = env["crm.relationship.classification"]
    written = 0
    for index, count in enumerate(engine._run(company, as_of, commit=True)):
        written += count
        if after_batch:
            after_batch(index)
    env.cr.commit()
    return written


# what depends on the runs made, not only on the facts: the change since the
# previous run, and the care stage, which moves only when the facts change
# phase (a stage stays when the facts no longer give any, docs/rules.md Care)
PATH_DEPENDENT = ("health_score_change", "care_stage_id", "care_phase")


def state():
    """Digests of what the classification stored: per classified field of the
    partners (but the path-dependent ones), and of the history."""
    from odoo.addons.crm_relationship.models.crm_relationship_writer import (
        CLASSIFICATION_FIELDS,
    )

    fnames = [f for f in CLASSIFICATION_FIELDS if f not in PATH_DEPENDENT]
    digests = benchmark.psql(
        "SELECT "
        + ", ".join(
            f"md5(string_agg(({f}->'1')::text, '|' ORDER BY id))" for f in fnames
        )
        + " FROM res_partner WHERE id = commercial_partner_id"
    ).split("|")
    history = benchmark.psql(
        """SELECT md5(string_agg(ROW(partner_id, date, tier_id, previous_tier_id,
                  relationship_status, previous_status, relationship_level,
                  previous_level, health_band, previous_health_band)::text, '|'
                  ORDER BY partner_id, date, id))
             FROM crm_relationship_history
            -- a partner merged away or out of scope keeps its past rows
            WHERE partner_id IN (SELECT id FROM res_partner
                                  WHERE relationship_status ? '1'
                                     OR relationship_tier_id ? '1')"""
    )
    return dict(zip(fnames, digests, strict=True), history=history)


def differences(current, scratch):
    return [name for name in current if current[name] != scratch[name]] or "none"


def from_scratch():
    """Forget every classified value and the history, classify again."""
    from odoo.addons.crm_relationship.models.crm_relationship_writer import (
        CLASSIFICATION_FIELDS,
    )

    benchmark.psql(
        "UPDATE res_partner SET "
        + ", ".join(
            f"{fname} = NULLIF({fname} - '1', '{{}}'::jsonb)"
            for fname in CLASSIFICATION_FIELDS
        )
        + "; DELETE FROM crm_relationship_history;"
    )
    env, cr = environment()
    try:
        full_run(env)
    finally:
        cr.close()
    return state()


def two_workers():
    results = {}

    def worker(name):
        env, cr = environment()
        started = time.monotonic()
        try:
            results[name] = (full_run(env), time.monotonic() - started)
        finally:
            cr.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (second, t1), (first, t2) = sorted(results.values(), key=lambda r: r[1])
    doubles = benchmark.psql(
        """SELECT count(*) FROM (SELECT partner_id, company_id, date
             FROM crm_relationship_history GROUP BY 1, 2, 3
           HAVING count(*) > 1) d"""
    )
    check(
        "two workers at once",
        second == 0 and doubles == "0" and first > 0,
        f"one wrote {first} partners in {t2:.1f} s, the other skipped the "
        f"company and wrote {second} (done at {t1:.1f} s); history rows "
        f"written twice: {doubles}",
    )


def killed_mid_write():
    benchmark.psql(
        "UPDATE account_move SET amount_untaxed_signed = amount_untaxed_signed * 2 "
        "WHERE name LIKE 'BENCH/%' AND id % 7 = 0"
    )
    here = str(Path(__file__).resolve().parent)
    code = (
        f"import sys; sys.path.insert(0, {here!r}); import fault_check as f; "
        "env, cr = f.environment(); "
        "f.full_run(env, after_batch=lambda i: print('batch', i, flush=True))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
    )
    for line in process.stdout:
        if line.startswith("batch 0"):
            process.send_signal(signal.SIGKILL)
            break
    process.wait()
    # PostgreSQL ends the killed client's session, and its lock, when it
    # notices the connection is gone
    for _tries in range(50):
        locks = benchmark.psql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        )
        if locks == "0":
            break
        time.sleep(0.1)
    env, cr = environment()
    try:
        resumed = full_run(env)
        again = full_run(env)
    finally:
        cr.close()
    after_kill = state()
    scratch = from_scratch()
    check(
        "killed after one batch, run again",
        after_kill == scratch and again == 0 and locks == "0",
        f"killed by SIGKILL after batch 1 of {BATCH}; advisory locks left: "
        f"{locks}; the next run wrote {resumed}, the one after {again}; "
        f"fields that differ from a classification from scratch: "
        f"{differences(after_kill, scratch)}",
    )


def changes(env):
    """The day's changes of people and accounting, on ``env`` (committed)."""
    Partner = env["res.partner"]
    customers = Partner.search([("name", "like", "Bench customer %")], limit=40)
    done = []
    invoice = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": customers[0].id,
            "invoice_date": AS_OF,
            "invoice_line_ids": [
                (0, 0, {"name": "Late order", "quantity": 1, "price_unit": 777})
            ],
        }
    )
    invoice.action_post()
    done.append("invoice posted")
    # both have journal items: Odoo's own check would refuse by hand
    env["base.partner.merge.automatic.wizard"]._merge(
        [customers[1].id, customers[2].id], customers[2], extra_checks=False
    )
    done.append("two customers merged")
    customers[3].active = False
    done.append("a customer archived")
    prospect = Partner.create({"name": "Prospect to delete", "customer_rank": 1})
    env.cr.commit()
    full_run(env)
    prospect.unlink()
    done.append("a classified prospect deleted")
    tier = env["crm.relationship.tier"].search(
        [("code", "=", "medium"), ("company_id", "=", env.company.id)]
    )
    tier.active = False
    done.append("the medium tier archived")
    seller = env["res.users"].create({"name": "Seller", "login": "fault_seller"})
    customers[4:10].user_id = seller
    env.cr.commit()
    seller.active = False
    done.append("a salesperson archived")
    try:
        with env.cr.savepoint():
            env.company.currency_id = env.ref("base.EUR")
            done.append("the company's currency changed")
    except Exception as error:  # noqa: BLE001 - printed
        done.append(f"currency change refused: {str(error).splitlines()[0][:80]}")
    env.cr.commit()
    return done


def changes_during_and_between_runs():
    env, cr = environment()
    other_env, other_cr = environment()
    done = []
    try:

        def after_batch(index):
            if index == 0:
                done.extend(changes(other_env))

        full_run(env, after_batch=after_batch)
        next_run = full_run(env)
        again = full_run(env)
    finally:
        cr.close()
        other_cr.close()
    current = state()
    benchmark.psql(
        """CREATE TABLE fault_before AS SELECT id, care_stage_id->'1' AS stage,
                  care_phase_auto->'1' AS auto, relationship_tier_id->'1' AS tier
             FROM res_partner;
           CREATE TABLE fault_history AS SELECT * FROM crm_relationship_history"""
    )
    scratch = from_scratch()
    if os.environ.get("FAULT_EXPLAIN"):
        print(
            benchmark.psql(
                """SELECT b.id, p.name, p.active, b.stage, p.care_stage_id->'1',
                          b.auto, p.care_phase_auto->'1', b.tier,
                          p.relationship_tier_id->'1'
                     FROM fault_before b JOIN res_partner p ON p.id = b.id
                    WHERE b.stage IS DISTINCT FROM p.care_stage_id->'1' LIMIT 8"""
            )
        )
        print(
            benchmark.psql(
                """WITH b AS (SELECT partner_id, date, tier_id, previous_tier_id,
                            relationship_status, previous_status,
                            relationship_level, previous_level, health_band,
                            previous_health_band FROM fault_history),
                        a AS (SELECT partner_id, date, tier_id, previous_tier_id,
                            relationship_status, previous_status,
                            relationship_level, previous_level, health_band,
                            previous_health_band FROM crm_relationship_history)
                   (SELECT 'before', * FROM b EXCEPT SELECT 'before', * FROM a)
                   UNION ALL
                   (SELECT 'after', * FROM a EXCEPT SELECT 'after', * FROM b)
                   ORDER BY 2, 1 LIMIT 12"""
            )
        )
        print(
            benchmark.psql(
                """SELECT id, name, active, relationship_status, relationship_tier_id
                     FROM res_partner WHERE id IN (SELECT partner_id FROM
                     fault_history EXCEPT SELECT partner_id FROM
                     crm_relationship_history)"""
            )
        )
    check(
        "changes while and between runs",
        again == 0 and current == scratch,
        f"{'; '.join(done)}; the next run wrote {next_run}, the one after "
        f"{again}; fields that differ from a classification from scratch: "
        f"{differences(current, scratch)}",
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--partners", type=int, default=3000)
    parser.add_argument("--lines", type=int, default=30000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="start from the copy of the generated book an earlier run kept",
    )
    args = parser.parse_args()
    template = f"{DB}_book"
    if (
        args.reuse
        and benchmark.psql(
            f"SELECT count(*) FROM pg_database WHERE datname = '{template}'", "postgres"
        )
        == "1"
    ):
        subprocess.run(["dropdb", "--if-exists", "--force", DB], check=True)
        subprocess.run(["createdb", "-T", template, DB], check=True)
        benchmark.upgrade_module()  # to the code of this checkout
    else:
        benchmark.setup_database(args.partners, args.lines)
        subprocess.run(["dropdb", "--if-exists", "--force", template], check=True)
        subprocess.run(["createdb", "-T", DB, template], check=True)
    environment()[1].close()  # the registry, loaded once before the threads
    try:
        two_workers()
        killed_mid_write()
        changes_during_and_between_runs()
    finally:
        if not args.keep:
            subprocess.run(["dropdb", "--if-exists", "--force", DB], check=False)
    print(f"fault_check: {len(FAILED)} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
