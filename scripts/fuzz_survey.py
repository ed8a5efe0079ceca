#!/usr/bin/env python3
"""Send 10,000 random requests to the public survey page of a served database.

The requests and the answer each must get come from
crm_relationship/tests/survey_fuzz.py, as in the suite's seeded HttpCase
(TestFeedbackSurveyFuzz, 400 requests): bad and foreign tokens, unknown ids,
garbage, out-of-range, negative, float and huge scores, recommendations of 0,
replays, NUL characters, files where text is expected, comments up to 1 MB,
missing or wrong CSRF tokens. Here they run on several threads against Odoo
with several HTTP workers (each thread owns its feedbacks, so every answer is
still predicted), then a race: for each of some feedbacks, concurrent valid
answers at the same instant, of which exactly one may be stored.

It creates one customer and its feedbacks in the database (as admin through
JSON-RPC): use a throwaway database with crm_relationship installed, such as
the one scripts/serve makes. Then it checks in PostgreSQL that each feedback
stores the answer predicted (an answered recommendation never NULL, 0 as 0)
and has it once in its chatter. It prints the counts by status code and the
time taken, and exits 1 on any 500, unexpected status or stored difference.

    python3 scripts/fuzz_survey.py --db crm_relationship            # starts Odoo
    python3 scripts/fuzz_survey.py --db crm_relationship --url http://127.0.0.1:8069
"""

import argparse
import importlib.util
import json
import random
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import psycopg2
import requests

REPO = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def load_fuzz():
    path = REPO / "crm_relationship" / "tests" / "survey_fuzz.py"
    spec = importlib.util.spec_from_file_location("survey_fuzz", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fuzz = load_fuzz()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_odoo(db, workers):
    import odoo

    port = free_port()
    addons = f"{Path(odoo.__file__).parent / 'addons'},{REPO}"
    # with workers, Odoo starts its gevent process again from sys.argv[0],
    # which "-m odoo" leaves at odoo/__main__.py, which cannot run alone
    odoo_bin = Path(odoo.__file__).parent.parent / "odoo-bin"
    command = [str(odoo_bin)] if odoo_bin.is_file() else ["-m", "odoo"]
    server = subprocess.Popen(
        [
            sys.executable,
            *command,
            "-d",
            db,
            f"--db-filter=^{db}$",
            f"--addons-path={addons}",
            "--http-interface=127.0.0.1",
            f"--http-port={port}",
            f"--workers={workers}",
            "--max-cron-threads=0",
            "--log-level=error",
        ]
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/web/health", timeout=2) as r:
                if r.status == 200:
                    return server, url
        except OSError:
            time.sleep(0.5)
    server.terminate()
    sys.exit("timed out waiting for Odoo")


def rpc(url, db, login, password):
    """A call_kw function logged in as ``login``."""
    session = requests.Session()

    def call(path, params):
        response = session.post(
            url + path, json={"jsonrpc": "2.0", "params": params}, timeout=300
        )
        body = response.json()
        if body.get("error"):
            sys.exit(json.dumps(body["error"], indent=1))
        return body["result"]

    call("/web/session/authenticate", {"db": db, "login": login, "password": password})

    def execute(model, method, *args, **kwargs):
        params = {"model": model, "method": method, "args": args, "kwargs": kwargs}
        return call("/web/dataset/call_kw", params)

    return execute


def public_session(url, feedback):
    """A visitor's session and its CSRF token, from a feedback's survey page."""
    session = requests.Session()
    page = session.get(
        f"{url}{fuzz.PATH.format(feedback.id)}?access_token={feedback.token}",
        timeout=60,
    )
    page.raise_for_status()
    return session, CSRF.search(page.text).group(1)


def send(session, url, request, csrf):
    target = url + request.path
    if request.query:
        target += "?" + urlencode(request.query)
    if request.method == "GET":
        return session.get(target, timeout=120, allow_redirects=False)
    return session.post(
        target,
        data=request.form(csrf),
        files=request.files or None,
        timeout=120,
        allow_redirects=False,
    )


def fuzz_thread(url, feedbacks, unknown_id, count, seed, results):
    session, csrf = public_session(url, feedbacks[0])
    rng = random.Random(seed)
    for _ in range(count):
        request = fuzz.random_request(rng, feedbacks, unknown_id)
        fuzz.expect(request)
        try:
            status = send(session, url, request, csrf).status_code
        except requests.RequestException as exc:
            status = f"error {type(exc).__name__}"
        results.append((request, status))
        if len(results) % 1000 == 0:
            print(f"  {len(results)} requests sent", flush=True)


def race_answer(url, feedback, i, session, csrf, barrier, statuses):
    """Contender ``i``: a valid answer (a recommendation of 0), sent when every
    contender is ready."""
    request = fuzz.Request("race", feedback)
    request.query["access_token"] = feedback.token
    request.data.update(nps_score="0", csat_score="5", comment=f"race {i}")
    barrier.wait()
    statuses[i] = send(session, url, request, csrf).status_code


def race(url, feedbacks, contenders):
    """For each feedback, ``contenders`` valid answers sent at the same instant;
    returns {feedback id: [(status, comment)]}."""
    outcome = {}
    for feedback in feedbacks:
        sessions = [public_session(url, feedback) for _ in range(contenders)]
        barrier = threading.Barrier(contenders)
        statuses = [None] * contenders
        threads = [
            threading.Thread(
                target=race_answer,
                args=(url, feedback, i, *sessions[i], barrier, statuses),
            )
            for i in range(contenders)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        outcome[feedback.id] = [(s, f"race {i}") for i, s in enumerate(statuses)]
    return outcome


def stored(db, ids, customer_id):
    with psycopg2.connect(dbname=db) as conn, conn.cursor() as cr:
        cr.execute(
            """SELECT id, nps_score, csat_score, survey_comment,
                      survey_answered_date IS NOT NULL
                 FROM crm_relationship_feedback WHERE id = ANY(%s)""",
            [ids],
        )
        rows = {row[0]: row[1:] for row in cr.fetchall()}
        cr.execute(
            """SELECT res_id, COUNT(*) FROM mail_message
                WHERE model = 'crm.relationship.feedback' AND res_id = ANY(%s)
                  AND author_id = %s
             GROUP BY res_id""",
            [ids, customer_id],
        )
        messages = dict(cr.fetchall())
    return rows, messages


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--url", help="a running Odoo serving --db")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--feedbacks", type=int, default=400)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="when Odoo is started")
    parser.add_argument("--race", type=int, default=20, help="feedbacks raced")
    parser.add_argument("--contenders", type=int, default=6)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()

    server, url = None, args.url
    if not url:
        server, url = start_odoo(args.db, args.workers)
    try:
        return run(args, url)
    finally:
        if server:
            server.terminate()
            server.wait(timeout=60)


def run(args, url):
    execute = rpc(url, args.db, args.login, args.password)
    customer_id = execute(
        "res.partner",
        "create",
        {"name": f"Fuzz survey {uuid.uuid4().hex[:8]}", "is_company": True},
    )
    count = args.feedbacks + args.race
    ids = execute(
        "crm.relationship.feedback",
        "create",
        [
            {
                "name": f"Fuzz {i}",
                "partner_id": customer_id,
                "access_token": str(uuid.uuid4()),
            }
            for i in range(count)
        ],
    )
    tokens = {
        row["id"]: row["access_token"]
        for row in execute("crm.relationship.feedback", "read", ids, ["access_token"])
    }
    known = [fuzz.Feedback(fid, tokens[fid]) for fid in ids]
    raced, fuzzed = known[: args.race], known[args.race :]
    unknown_id = max(ids) + 1000
    print(
        f"{len(fuzzed)} feedbacks fuzzed, {len(raced)} raced, customer {customer_id}, "
        f"{args.requests} requests on {args.threads} threads, seed {args.seed}"
    )

    results = []
    threads = []
    for t in range(args.threads):
        own = fuzzed[t :: args.threads]
        share = args.requests // args.threads + (t < args.requests % args.threads)
        threads.append(
            threading.Thread(
                target=fuzz_thread,
                args=(url, own, unknown_id, share, args.seed * 1000 + t, results),
            )
        )
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start

    statuses = Counter(status for _, status in results)
    methods = Counter(request.method for request, _ in results)
    wrong = [(r, s) for r, s in results if s != r.expected]
    print(
        f"\n{len(results)} requests ({methods['POST']} POST, {methods['GET']} GET) "
        f"in {elapsed:.1f} s ({len(results) / elapsed:.0f} requests/s)"
    )
    print("by status:", ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))
    by_kind = Counter((r.kind.split(",")[0], s) for r, s in results)
    for (kind, status), n in sorted(by_kind.items(), key=str):
        print(f"  {kind:<28} {status}: {n}")
    print(f"unexpected statuses: {len(wrong)}")
    for request, status in wrong[:10]:
        print(f"  {status} for {request.expected}: {request.describe()}")

    start = time.monotonic()
    raced_outcome = race(url, raced, args.contenders)
    race_time = time.monotonic() - start
    race_failures = []
    for fid, outcome in raced_outcome.items():
        counts = Counter(s for s, _ in outcome)
        if counts != Counter({200: 1, 409: args.contenders - 1}):
            race_failures.append((fid, dict(counts)))
    print(
        f"\nrace: {len(raced)} feedbacks x {args.contenders} simultaneous answers "
        f"in {race_time:.1f} s; feedbacks without exactly one 200 and "
        f"{args.contenders - 1} 409: {len(race_failures)} {race_failures[:5]}"
    )

    rows, messages = stored(args.db, ids, customer_id)
    expected = {f.id: f.answer for f in fuzzed}
    differences, null_nps = [], []
    for fid, (nps, csat, comment, answered) in rows.items():
        if answered and nps is None:
            null_nps.append(fid)
        if fid in raced_outcome:
            winners = [c for s, c in raced_outcome[fid] if s == 200]
            want = (0, 5, winners[0]) if len(winners) == 1 else None
        else:
            want = expected[fid]
        got = (nps, csat, comment) if answered else None
        if got != want:
            differences.append((fid, got, want))
    chatter = {fid: n for fid, n in messages.items() if n != 1}
    unanswered_with_message = [
        fid for fid in messages if not rows.get(fid, (None,) * 4)[3]
    ]
    answered = sum(1 for row in rows.values() if row[3])
    zeros = sum(1 for row in rows.values() if row[3] and row[0] == 0)
    print(
        f"\nstored: {answered} answered feedbacks ({zeros} with a recommendation "
        f"of 0); answered with a NULL recommendation: {len(null_nps)} "
        f"{null_nps[:10]}"
    )
    print(f"stored answers other than predicted: {len(differences)}")
    for difference in differences[:10]:
        fid, got, want = difference
        print(f"  feedback {fid}: stored {got!r}, predicted {want!r}")
    print(
        f"feedbacks with more than one answer in the chatter: {len(chatter)} "
        f"{list(chatter.items())[:10]}; chatter answers without a stored "
        f"answer: {len(unanswered_with_message)}"
    )
    failed = (
        statuses.get(500, 0)
        or wrong
        or race_failures
        or null_nps
        or differences
        or chatter
        or unanswered_with_message
    )
    print("\nfuzz_survey:", "FAILED" if failed else "passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
