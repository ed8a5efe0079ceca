#!/usr/bin/env python3
"""Time the screens people open all day, as the web client loads them.

For each screen, the RPCs the web client sends once its views are loaded
(``get_views`` is cached by the browser and left out) are built from the
action (domain, context, ``search_default_*`` filters of its search view) and
from the view arch the server returns for the benchmark user (the field
specification, the kanban's grouping and progress bars, the pivot's rows and
columns), then called in the server process with a fresh transaction and an
empty record cache per load. Prints, per screen, the median server time and
query count of 5 loads (after one unmeasured load that fills Odoo's caches).

    python3 scripts/benchmark_screens.py [--db crm_relationship_bench] [--loads 5]
                                         [--detail] [--only care]

Run it on a database of ``scripts/benchmark.py --keep`` (the customers, the
classification, its history and a KPI snapshot are there). Nothing here is a
test: it prints figures. Goal (issue 21): every screen within 300 ms at
1,000,000 customers.
"""

import argparse
import copy
import statistics
import time

import benchmark  # scripts/ is the script's own directory
from lxml import etree

KANBAN_GROUP_LIMIT = 40  # records the kanban loads per open column
LIST_LIMIT = 80
COUNT_LIMIT = 10000  # the web client's DEFAULT_COUNT_LIMIT (relational_model.js)
X2MANY_LIMIT = 40


def _env(db, login="admin"):
    import odoo
    from odoo import api

    odoo.tools.config.parse_config(
        [f"--addons-path={benchmark.odoo_addons_path()}", "-d", db, "--log-level=warn"]
    )
    registry = odoo.modules.registry.Registry(db)
    cr = registry.cursor()
    env = api.Environment(cr, odoo.SUPERUSER_ID, {})
    user = env["res.users"].search([("login", "=", login)], limit=1)
    company = user.company_id
    context = {
        "lang": user.lang or "en_US",
        "tz": user.tz or "UTC",
        "uid": user.id,
        "allowed_company_ids": [company.id],
    }
    return api.Environment(cr, user.id, context), cr


def _eval(text, env, extra=None):
    from odoo.tools.safe_eval import datetime, dateutil, safe_eval, time

    if not text:
        return {}
    values = {
        "uid": env.uid,
        "user": env.user,
        "context_today": lambda: datetime.date.today(),
        "datetime": datetime,
        "relativedelta": dateutil.relativedelta.relativedelta,
        "time": time,
        "allowed_company_ids": env.context.get("allowed_company_ids"),
        "active_id": False,
        "active_ids": [],
        **(extra or {}),
    }
    return safe_eval(text, values)


def _specification(node, model, env):
    """The web client's specification of the fields of the view ``node``."""
    spec = {}
    fields = env[model]._fields
    for field_node in node.iter("field"):
        # a field inside an x2many's own view belongs to that view
        parent = field_node.getparent()
        nested = False
        while parent is not None and parent is not node:
            if parent.tag == "field":
                nested = True
                break
            parent = parent.getparent()
        if nested:
            continue
        name = field_node.get("name")
        field = fields.get(name)
        if field is None:
            continue
        if field.type == "many2one":
            spec[name] = {"fields": {"display_name": {}}}
        elif field.type in ("one2many", "many2many"):
            subview = next(
                (child for child in field_node if child.tag in ("list", "kanban")),
                None,
            )
            if subview is not None:
                spec[name] = {
                    "fields": _specification(subview, field.comodel_name, env),
                    "limit": X2MANY_LIMIT,
                }
            else:
                spec[name] = {"fields": {"display_name": {}}}
        else:
            spec.setdefault(name, {})
    return spec


class Screen:
    """One screen: an action opened in one of its views."""

    def __init__(self, label, action, view_type, record=None):
        self.label = label
        self.action = action
        self.view_type = view_type
        self.record = record  # callable env -> record id, for a form

    def prepare(self, env):
        """The RPCs of one load, as ``[(model method name, args, kwargs)]``."""
        action = env.ref(self.action)
        if action._name == "ir.actions.server":
            model = env[action.model_id.model]
            views = model.get_views([(False, self.view_type), (False, "search")])
            arch = etree.fromstring(views["views"][self.view_type]["arch"])
            self.model = model
            spec = _specification(arch, model._name, env)
            return [(self._open_and_read(action, spec), (), {})]
        context = dict(env.context, **_eval(action.context, env))
        model = env[action.res_model].with_context(context)
        domain = list(_eval(action.domain, env) or [])
        view_id = next(
            (v.view_id.id for v in action.view_ids if v.view_mode == self.view_type),
            False,
        ) or (action.view_id.type == self.view_type and action.view_id.id)
        views = model.get_views(
            [(view_id, self.view_type), (action.search_view_id.id, "search")]
        )
        arch = etree.fromstring(views["views"][self.view_type]["arch"])
        search = etree.fromstring(views["views"]["search"]["arch"])
        groupby = []
        for key, value in context.items():
            if not key.startswith("search_default_") or not value:
                continue
            name = key[len("search_default_") :]
            for node in search.iter("filter"):
                if node.get("name") != name:
                    continue
                if node.get("domain"):
                    domain += _eval(node.get("domain"), env)
                group = _eval(node.get("context"), env).get("group_by")
                if group:
                    groupby.append(group)
        spec = _specification(arch, model._name, env)
        self.model = model
        self.domain = domain
        if self.view_type == "kanban":
            groupby = groupby or [g for g in [arch.get("default_group_by")] if g]
            return self._kanban(model, domain, spec, arch, groupby)
        if self.view_type == "list":
            return self._list(model, domain, spec, groupby)
        if self.view_type == "pivot":
            return self._pivot(model, domain, arch)
        if self.view_type == "form":
            if self.record is None:
                return [("onchange", ({}, [], spec), {})]
            record_id = self.record(env)
            if not record_id:
                raise ValueError("no classified customer")
            spec["display_name"] = {}
            return [("web_read", (spec,), {"_ids": [record_id]})]
        raise ValueError(self.view_type)

    @staticmethod
    def _open_and_read(action, spec):
        def open_and_read(model):
            result = action.with_env(model.env).run()
            model.browse(result["res_id"]).web_read(spec)

        open_and_read.__name__ = "run + web_read"
        return open_and_read

    def _list(self, model, domain, spec, groupby):
        if groupby:
            return [("web_read_group", (domain, [], groupby), {"lazy": True})]
        return [
            (
                "web_search_read",
                (domain, spec),
                {"limit": LIST_LIMIT, "count_limit": COUNT_LIMIT + 1},
            )
        ]

    def _kanban(self, model, domain, spec, arch, groupby):
        if not groupby:
            return [
                (
                    "web_search_read",
                    (domain, spec),
                    {"limit": LIST_LIMIT, "count_limit": COUNT_LIMIT + 1},
                )
            ]
        progress = next(arch.iter("progressbar"), None)
        aggregates = []
        rpcs = []
        if progress is not None:
            sum_field = progress.get("sum_field")
            if sum_field:
                aggregates.append(f"{sum_field}:sum")
            rpcs.append(
                (
                    "read_progress_bar",
                    (domain, groupby[0]),
                    {
                        "progress_bar": {
                            "field": progress.get("field"),
                            "colors": _eval(progress.get("colors"), model.env),
                            "sum_field": sum_field,
                        }
                    },
                )
            )
        # the groups, then the records of each open column
        result = model.web_read_group(domain, aggregates, groupby, lazy=True)
        rpcs.insert(
            0, ("web_read_group", (domain, aggregates, groupby), {"lazy": True})
        )
        for group in result["groups"]:
            if group.get("__fold"):
                continue
            rpcs.append(
                (
                    "web_search_read",
                    (group["__domain"], spec),
                    # the web client's count limit of a group's records
                    {"limit": KANBAN_GROUP_LIMIT, "count_limit": COUNT_LIMIT + 1},
                )
            )
        return rpcs

    def _pivot(self, model, domain, arch):
        rows = [n.get("name") for n in arch.iter("field") if n.get("type") == "row"]
        cols = [n.get("name") for n in arch.iter("field") if n.get("type") == "col"]
        measures = ["__count"] + [
            f"{n.get('name')}:sum"
            for n in arch.iter("field")
            if n.get("type") == "measure"
        ]
        return [
            ("read_group", (domain, measures, groupby), {"lazy": False})
            for groupby in ([], rows[:1], cols[:1], rows[:1] + cols[:1])
        ]


def _top_customer(env):
    env.cr.execute(
        """SELECT id FROM res_partner WHERE id = commercial_partner_id
              AND period_revenue ? %s
         ORDER BY (period_revenue->>%s)::float DESC LIMIT 1""",
        [str(env.company.id)] * 2,
    )
    row = env.cr.fetchone()
    return row and row[0]


def _middle_customer(env):
    env.cr.execute(
        """SELECT id FROM res_partner WHERE id = commercial_partner_id
              AND period_revenue ? %s ORDER BY id
           OFFSET (SELECT COUNT(*) / 2 FROM res_partner WHERE period_revenue ? %s)
            LIMIT 1""",
        [str(env.company.id)] * 2,
    )
    row = env.cr.fetchone()
    return row and row[0]


SCREENS = [
    Screen(
        "customers kanban", "crm_relationship.res_partner_action_customers", "kanban"
    ),
    Screen("customers list", "crm_relationship.res_partner_action_customers", "list"),
    Screen(
        "care pipeline kanban",
        "crm_relationship.res_partner_action_care_pipeline",
        "kanban",
    ),
    Screen(
        "programs kanban", "crm_relationship.crm_relationship_program_action", "kanban"
    ),
    Screen(
        "customer form (top customer)",
        "crm_relationship.res_partner_action_customers",
        "form",
        _top_customer,
    ),
    Screen(
        "customer form (median customer)",
        "crm_relationship.res_partner_action_customers",
        "form",
        _middle_customer,
    ),
    Screen(
        "KPI dashboard",
        "crm_relationship.crm_relationship_kpi_action_dashboard",
        "kanban",
    ),
    Screen(
        "tier migration pivot",
        "crm_relationship.crm_relationship_history_action_migration",
        "pivot",
    ),
    Screen("history list", "crm_relationship.crm_relationship_history_action", "list"),
    Screen(
        "tier simulation preview",
        "crm_relationship.crm_relationship_tier_simulation_action",
        "form",
    ),
    Screen(
        "whale curve", "crm_relationship.crm_relationship_whale_curve_action", "form"
    ),
]


def load(env, rpcs, model_name):
    """Call ``rpcs`` on a fresh record cache: ``[(seconds, queries)]`` of each."""
    env.invalidate_all()
    figures = []
    for method, args, kwargs in rpcs:
        # what the web client sends anew each time: an onchange fills the
        # values it is given with the defaults, which would then be sent as
        # the user's own values by the next load
        args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
        records = env[model_name].browse(kwargs.pop("_ids", []))
        queries = env.cr.sql_log_count
        started = time.perf_counter()
        if callable(method):
            method(records)
        else:
            getattr(records, method)(*args, **kwargs)
        env.flush_all()
        figures.append((time.perf_counter() - started, env.cr.sql_log_count - queries))
    env.cr.rollback()
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=benchmark.DB)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--login", default="admin")
    parser.add_argument(
        "--detail", action="store_true", help="also the median time of each RPC"
    )
    parser.add_argument("--only", help="the screens whose label contains this text")
    args = parser.parse_args()
    env, cr = _env(args.db, args.login)
    try:
        print(f"{'screen':34} {'RPCs':>4} {'median':>9} {'queries':>8}")
        for screen in SCREENS:
            if args.only and args.only not in screen.label:
                continue
            try:
                rpcs = screen.prepare(env)
            except ValueError as error:  # a screen of a later issue
                print(f"{screen.label:34} skipped: {error}")
                continue
            finally:
                cr.rollback()
            screen_env = screen.model.env
            load(screen_env, rpcs, screen.model._name)  # fills Odoo's caches
            loads = [
                load(screen_env, rpcs, screen.model._name) for _ in range(args.loads)
            ]
            seconds = statistics.median(sum(t for t, _q in rpc) for rpc in loads)
            queries = statistics.median(sum(q for _t, q in rpc) for rpc in loads)
            print(
                f"{screen.label:34} {len(rpcs):4d} {seconds * 1000:7.0f} ms "
                f"{queries:8.0f}"
            )
            if args.detail:
                for index, (method, *_rest) in enumerate(rpcs):
                    method = getattr(method, "__name__", method)
                    rpc_seconds = statistics.median(
                        figures[index][0] for figures in loads
                    )
                    print(f"{'':4}{method:30} {'':4} {rpc_seconds * 1000:7.0f} ms")
    finally:
        cr.close()


if __name__ == "__main__":
    main()
