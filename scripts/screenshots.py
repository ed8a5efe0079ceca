#!/usr/bin/env python3
"""Screenshots of crm_relationship for the README, from a demo database.

Serves the database with Odoo (on a free port, languages English and
Vietnamese loaded), signs in as admin/admin, and drives a headless Chromium
through the DevTools protocol to save, in each language:

    docs/screenshots/<lang>_customers.png       customer kanban
    docs/screenshots/<lang>_care_pipeline.png   care pipeline
    docs/screenshots/<lang>_relationship.png    a customer's Relationship tab
    docs/screenshots/<lang>_kpi_dashboard.png   KPI dashboard
    docs/screenshots/<lang>_whale_curve.png     whale curve
    docs/screenshots/<lang>_tier_simulation.png tier simulation
    docs/screenshots/<lang>_unprofitable.png    customer kanban, Unprofitable filter

    python3 scripts/screenshots.py --db crm_relationship [--url http://127.0.0.1:8069]
        [--only whale_curve,unprofitable]

With --url the running server is used as it is (vi_VN must be installed);
without it the script starts one and stops it at the end. The database needs
crm_relationship installed with demo data (scripts/serve makes one).
"""

import argparse
import base64
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket  # websocket-client, as Odoo's own browser tests use

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1440,900",
]
LANGS = ("en_US", "vi_VN")


def open_action(xml_id, context=None):
    """JavaScript opening an action from the web client's action service, for
    what the router cannot say: the app (menu) around a server action's
    result, or other filters than the action's defaults (its context is set
    over the action's, where doAction's additionalContext goes under it).
    Marks the view it replaces, so that the selector waited for after it
    matches the new view only."""
    return f"""(async () => {{
        document.querySelector(".o_action_manager .o_action")
            ?.classList.add("o_shots_replaced");
        const actions = odoo.__WOWL_DEBUG__.root.env.services.action;
        const action = await actions.loadAction({json.dumps(xml_id)});
        Object.assign(action.context, {json.dumps(context or {})});
        await actions.doAction(action, {{clearBreadcrumbs: true}});
    }})()"""


# name, url path, selector to wait for, JavaScript run then (awaited), selector
# to wait for after it
SHOTS = [
    (
        "customers",
        "/odoo/action-crm_relationship.res_partner_action_customers",
        ".o_kanban_record:not(.o_kanban_ghost), .o_error_dialog",
        None,
        None,
    ),
    (
        "care_pipeline",
        "/odoo/action-crm_relationship.res_partner_action_care_pipeline",
        ".o_kanban_group .o_kanban_counter .progress, .o_error_dialog",
        None,
        None,
    ),
    (
        "relationship",
        "/odoo/action-crm_relationship.res_partner_action_customers/{partner_id}",
        ".o_form_view .o_notebook a[name='crm_relationship']",
        "document.querySelector(\".o_notebook a[name='crm_relationship']\").click()",
        None,
    ),
    (
        "kpi_dashboard",
        "/odoo/action-crm_relationship.crm_relationship_kpi_action_dashboard",
        ".o_crm_relationship_kpi_dashboard .o_dashboard_graph canvas",
        None,
        None,
    ),
    (
        "whale_curve",
        "/odoo/action-crm_relationship.res_partner_action_customers",
        ".o_kanban_record:not(.o_kanban_ghost)",
        open_action("crm_relationship.crm_relationship_whale_curve_action"),
        ".o_form_view svg.o_crm_relationship_whale_curve polyline, .o_error_dialog",
    ),
    (
        "tier_simulation",
        "/odoo/action-crm_relationship.crm_relationship_tier_action",
        ".o_list_view .o_data_row, .o_error_dialog",
        open_action("crm_relationship.crm_relationship_tier_simulation_action"),
        ".modal .o_form_view .o_data_row, .o_error_dialog",
    ),
    (
        # without "Classified", the action's default: in one group of filters
        # with "Unprofitable", together they would mean either
        "unprofitable",
        "/odoo/action-crm_relationship.res_partner_action_customers",
        ".o_kanban_record:not(.o_kanban_ghost)",
        open_action(
            "crm_relationship.res_partner_action_customers",
            {"search_default_classified": 0, "search_default_unprofitable": 1},
        ),
        ".o_action:not(.o_shots_replaced) .o_kanban_record:not(.o_kanban_ghost),"
        " .o_error_dialog",
    ),
]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit(f"timed out waiting for {what}")


def start_odoo(db, port):
    """Odoo serving ``db``; Vietnamese is installed by ``install_vietnamese``."""
    import odoo

    addons = f"{Path(odoo.__file__).parent / 'addons'},{REPO}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "odoo",
            "-d",
            db,
            f"--db-filter=^{db}$",
            f"--addons-path={addons}",
            f"--http-port={port}",
            "--max-cron-threads=0",
            "--log-level=warn",
        ]
    )
    url = f"http://127.0.0.1:{port}"
    wait_until(
        lambda: urllib.request.urlopen(f"{url}/web/health", timeout=2).status == 200,
        300,
        "Odoo",
    )
    return server, url


class Rpc:
    """JSON-RPC as the web client speaks it, keeping the session cookie."""

    def __init__(self, url, db):
        self.url, self.db, self.session_id = url, db, None

    def call(self, path, params):
        request = urllib.request.Request(
            self.url + path,
            json.dumps({"jsonrpc": "2.0", "params": params}).encode(),
            {"Content-Type": "application/json"},
        )
        if self.session_id:
            request.add_header("Cookie", f"session_id={self.session_id}")
        with urllib.request.urlopen(request, timeout=120) as response:
            for header in response.headers.get_all("Set-Cookie") or []:
                if header.startswith("session_id="):
                    self.session_id = header.split(";")[0].split("=", 1)[1]
            body = json.load(response)
        if body.get("error"):
            sys.exit(json.dumps(body["error"], indent=1))
        return body["result"]

    def login(self):
        params = {"db": self.db, "login": "admin", "password": "admin"}
        return self.call("/web/session/authenticate", params)["uid"]

    def execute(self, model, method, *args, **kwargs):
        params = {"model": model, "method": method, "args": args, "kwargs": kwargs}
        return self.call("/web/dataset/call_kw", params)


def install_vietnamese(rpc):
    """Install vi_VN as Settings > Languages does. Not with --load-language:
    that loads the language before the addons' models, so the default tiers,
    records made by code that crm_relationship names on a language's
    installation, would keep their English names."""
    lang_ids = rpc.execute(
        "res.lang",
        "search",
        [("code", "=", "vi_VN")],
        context={"active_test": False},
    )
    wizard = rpc.execute(
        "base.language.install",
        "create",
        {"lang_ids": [(6, 0, lang_ids)], "overwrite": False},
    )
    rpc.execute("base.language.install", "lang_install", [wizard])


class Browser:
    """Just enough of the DevTools protocol: cookie, navigate, wait, shoot."""

    def __init__(self):
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        self.profile = tempfile.mkdtemp(prefix="crm_relationship_shots_")
        port = free_port()
        self.process = subprocess.Popen(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self.profile}",
                f"--remote-debugging-port={port}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        targets = []

        def page_ready():
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/json", timeout=2
            ) as r:
                targets[:] = [t for t in json.load(r) if t["type"] == "page"]
            return bool(targets)

        wait_until(page_ready, 30, "Chromium")
        self.ws = websocket.create_connection(
            targets[0]["webSocketDebuggerUrl"], timeout=60, suppress_origin=True
        )
        self.next_id = 0

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(
            json.dumps({"id": self.next_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.send(
            "Runtime.evaluate",
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        return result.get("result", {}).get("value")

    def wait_for(self, selector):
        found = f"!!document.querySelector({json.dumps(selector)})"
        wait_until(lambda: self.evaluate(found), 60, selector)

    def shoot(self, url, selector, script, then, path):
        self.send("Page.navigate", url=url)
        self.wait_for(selector)
        if script:
            self.evaluate(script)
        if then:
            self.wait_for(then)
        # no "page out of date" or other toast over the view
        self.evaluate(
            "document.querySelectorAll('.o_notification').forEach(n => n.remove())"
        )
        # let the charts draw and the client settle
        time.sleep(2.5)
        png = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(png))

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait(timeout=30)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="crm_relationship")
    parser.add_argument("--url", help="a running Odoo serving --db")
    parser.add_argument(
        "--only",
        help="take only these shots, by name, comma-separated (e.g. whale_curve)",
    )
    args = parser.parse_args()
    shots = SHOTS
    if args.only:
        names = set(args.only.split(","))
        unknown = names - {shot[0] for shot in SHOTS}
        if unknown:
            parser.error(f"unknown shot(s): {', '.join(sorted(unknown))}")
        shots = [shot for shot in SHOTS if shot[0] in names]
    server = None
    url = args.url
    if not url:
        server, url = start_odoo(args.db, free_port())
    browser = None
    try:
        rpc = Rpc(url, args.db)
        uid = rpc.login()
        if server:
            install_vietnamese(rpc)
        partner_id = rpc.execute(
            "ir.model.data",
            "search_read",
            [
                ("module", "=", "crm_relationship"),
                ("name", "=", "res_partner_thep_phuong_nam_demo"),
            ],
            ["res_id"],
        )[0]["res_id"]
        browser = Browser()
        browser.send(
            "Network.setCookie",
            name="session_id",
            value=rpc.session_id,
            url=url,
        )
        OUT.mkdir(parents=True, exist_ok=True)
        for lang in LANGS:
            rpc.execute("res.users", "write", [uid], {"lang": lang})
            for name, path, selector, script, then in shots:
                target = OUT / f"{lang}_{name}.png"
                browser.shoot(
                    url + path.format(partner_id=partner_id),
                    selector,
                    script,
                    then,
                    target,
                )
                print(target.relative_to(REPO))
        rpc.execute("res.users", "write", [uid], {"lang": "en_US"})
    finally:
        if browser:
            browser.close()
        if server:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
