"""The predictive lifetime value of the classification, in a world of posted
invoices, against an independent implementation written here from the papers
(Fader, Hardie and Lee 2005: BG/NBD eq. 6 and 10, Gamma-Gamma), not from
``tools/clv.py``: plain log-likelihoods maximised by Nelder-Mead, the
expectation with Gauss's hypergeometric function as published.
"""

import json
import random
from datetime import date, timedelta
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import freeze_time, new_test_user, tagged

from ..tools import clv
from .common import CrmRelationshipCommon

try:
    import numpy as np
    from scipy.optimize import minimize
    from scipy.special import gammaln, hyp2f1
except ImportError:  # the module works without them; these tests need them
    np = None

AS_OF = date(2026, 6, 30)
MONTH = 365.25 / 12 / 7  # weeks


def simulated_purchases(seed=5, customers=90):
    """``[(purchase days, amounts)]``: a BG/NBD and Gamma-Gamma population
    first buying in the second half of 2025, purchases up to AS_OF."""
    rnd = random.Random(seed)
    world = []
    for _customer in range(customers):
        first = date(2025, 7, 1) + timedelta(days=rnd.randrange(0, 150))
        rate = rnd.gammavariate(1.5, 1 / 12)  # purchases per week
        dropout = rnd.betavariate(1.2, 4)
        days, day = [first], first
        while True:
            day += timedelta(days=max(1, int(rnd.expovariate(rate) * 7)))
            if day > AS_OF:
                break
            days.append(day)
            if rnd.random() < dropout:
                break
        scale = rnd.gammavariate(4, 1 / 60)
        world.append((days, [round(rnd.gammavariate(5, 1 / scale), 2) for _ in days]))
    return world


def bgnbd_fit(x, t_x, age):
    def negative_ll(log_params):
        r, alpha, a, b = np.exp(log_params)
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        a3 = -(r + x) * np.log(alpha + age)
        a4 = np.where(
            x > 0,
            np.log(a)
            - np.log(np.maximum(b + x - 1, 1e-12))
            - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
        return -np.sum(a1 + a2 + np.logaddexp(a3, a4))

    result = minimize(
        negative_ll,
        np.zeros(4),
        method="Nelder-Mead",
        options={"maxiter": 40000, "maxfev": 40000, "xatol": 1e-9, "fatol": 1e-12},
    )
    return dict(zip(("r", "alpha", "a", "b"), np.exp(result.x), strict=True))


def gamma_gamma_fit(x, m):
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]

    def negative_ll(log_params):
        p, q, v = np.exp(log_params)
        return -np.sum(
            gammaln(p * x + q)
            - gammaln(p * x)
            - gammaln(q)
            + q * np.log(v)
            + (p * x - 1) * np.log(m)
            + p * x * np.log(x)
            - (p * x + q) * np.log(v + x * m)
        )

    result = minimize(
        negative_ll,
        np.log([1.0, 2.0, float(np.mean(m))]),
        method="Nelder-Mead",
        options={"maxiter": 40000, "maxfev": 40000, "xatol": 1e-9, "fatol": 1e-12},
    )
    return dict(zip(("p", "q", "v"), np.exp(result.x), strict=True))


def alive(params, x, t_x, age):
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    if x == 0:
        return 1.0
    return 1 / (1 + a / (b + x - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x))


def expected_purchases(params, t, x, t_x, age):
    """FHL 2005 eq. 10."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    z = t / (alpha + age + t)
    body = 1 - ((alpha + age) / (alpha + age + t)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, z
    )
    return (a + b + x - 1) / (a - 1) * body * alive(params, x, t_x, age)


def expected_spend(params, x, m):
    p, q, v = (params[k] for k in ("p", "q", "v"))
    if x == 0:
        return p * v / (q - 1)
    return p * (v + x * max(m, 0)) / (p * x + q - 1)


@tagged("post_install", "-at_install")
@freeze_time("2026-07-01 09:00:00")
class TestPredictive(CrmRelationshipCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if np is None:
            cls.skipTest(cls, "numpy and scipy are needed")
        cls.world = simulated_purchases()
        cls.customers = cls.env["res.partner"].create(
            [
                {"name": f"Predictive customer {n}", "is_company": True}
                for n in range(len(cls.world))
            ]
        )
        vals_list = []
        for partner, (days, amounts) in zip(cls.customers, cls.world, strict=True):
            for day, amount in zip(days, amounts, strict=True):
                vals_list.append(cls._move_vals(partner, day, amount))
        # two purchases the same day count as one purchase day; a credit note
        # after the first day lowers the spend per repeat purchase
        vals_list.append(cls._move_vals(cls.customers[0], cls.world[0][0][0], 40.0))
        second_day = cls.world[1][0][1] if len(cls.world[1][0]) > 1 else AS_OF
        vals_list.append(
            cls._move_vals(cls.customers[1], second_day, 10.0, "out_refund")
        )
        cls.world[0][1][0] += 40.0
        cls.refund = (1, second_day, 10.0)
        cls.env["account.move"].create(vals_list).action_post()
        cls.company.relationship_clv_method = "bgnbd"
        cls.customers._recompute_relationship(as_of=AS_OF, company_ids=cls.company.ids)
        cls.customers.invalidate_recordset()

        x, t_x, age, m = [], [], [], []
        for index, (days, amounts) in enumerate(cls.world):
            repeat = len(days) - 1
            later = sum(amounts[1:])
            if index == cls.refund[0]:
                later -= cls.refund[2]
            x.append(repeat)
            t_x.append((days[-1] - days[0]).days / 7)
            age.append((AS_OF - days[0]).days / 7)
            m.append(later / repeat if repeat else 0.0)
        cls.columns = [np.array(c, dtype=float) for c in (x, t_x, age, m)]
        cls.bgnbd = bgnbd_fit(*cls.columns[:3])
        cls.gamma_gamma = gamma_gamma_fit(cls.columns[0], cls.columns[3])

    @classmethod
    def _move_vals(cls, partner, day, amount, move_type="out_invoice"):
        return {
            "move_type": move_type,
            "partner_id": partner.id,
            "invoice_date": day,
            "invoice_line_ids": [
                Command.create(
                    {
                        "name": "Record",
                        "quantity": 1,
                        "price_unit": amount,
                        "tax_ids": [Command.clear()],
                    }
                )
            ],
        }

    def test_company_stores_the_fit(self):
        company = self.company
        self.assertEqual(company.relationship_fit_status, "trusted")
        self.assertFalse(company.relationship_fit_reason)
        self.assertEqual(company.relationship_fit_customers, len(self.world))
        self.assertEqual(
            company.relationship_fit_repeat_buyers,
            sum(1 for days, _amounts in self.world if len(days) > 1),
        )
        self.assertEqual(company.relationship_fit_date, AS_OF)
        for name, value in {**self.bgnbd, **self.gamma_gamma}.items():
            stored = company[f"relationship_fit_{name}"]
            self.assertAlmostEqual(stored / value, 1, delta=0.02, msg=name)
        self.assertIn("In use", company.relationship_fit_message)

    def test_customer_figures_match_the_independent_implementation(self):
        margin, discount = 0.30, 0.10
        for partner, x, t_x, age, m in zip(
            self.customers, *(c.tolist() for c in self.columns), strict=True
        ):
            p_alive = alive(self.bgnbd, x, t_x, age)
            self.assertAlmostEqual(partner.probability_alive, p_alive, delta=0.02)
            purchases = expected_purchases(self.bgnbd, 12 * MONTH, x, t_x, age)
            self.assertAlmostEqual(
                partner.predicted_purchases, purchases, delta=0.02 * purchases + 0.01
            )
            spend = expected_spend(self.gamma_gamma, x, m)
            self.assertAlmostEqual(
                partner.relationship_expected_spend, spend, delta=0.02 * spend
            )
            value, previous = 0.0, 0.0
            for month in range(1, 61):
                current = expected_purchases(self.bgnbd, month * MONTH, x, t_x, age)
                value += (
                    margin
                    * spend
                    * (current - previous)
                    / (1 + discount) ** (month / 12)
                )
                previous = current
            self.assertAlmostEqual(
                partner.lifetime_value,
                value,
                delta=0.02 * value + 0.01,
                msg=partner.name,
            )
            # the activity of the health score is 100 * probability alive
            activity = json.loads(partner.health_components)["activity"][0]
            self.assertAlmostEqual(activity, 100 * p_alive, delta=2)

    def test_likely_lost_filter_uses_the_threshold(self):
        expected = {
            partner
            for partner, x, t_x, age in zip(
                self.customers, *(c.tolist() for c in self.columns[:3]), strict=True
            )
            if alive(self.bgnbd, x, t_x, age) < 0.30
        }
        self.assertTrue(expected)
        found = self.env["res.partner"].search(
            [("id", "in", self.customers.ids), ("relationship_likely_lost", "=", True)]
        )
        self.assertEqual(set(found), expected)
        self.company.relationship_likely_lost_threshold = 0
        self.customers._recompute_relationship(
            as_of=AS_OF, company_ids=self.company.ids
        )
        self.assertFalse(
            self.env["res.partner"].search_count(
                [
                    ("id", "in", self.customers.ids),
                    ("relationship_likely_lost", "=", True),
                ]
            )
        )

    def test_partial_run_gives_the_same_figures(self):
        partner = self.customers[3]
        before = (partner.probability_alive, partner.lifetime_value)
        self.company.relationship_fit_date = False  # force a new fit
        partner._recompute_relationship(as_of=AS_OF, company_ids=self.company.ids)
        partner.invalidate_recordset()
        self.assertEqual((partner.probability_alive, partner.lifetime_value), before)
        self.assertEqual(self.company.relationship_fit_customers, len(self.world))

    def test_an_untrusted_fit_keeps_retention_figures(self):
        """Too few repeat buyers: the company says why, lifetime values stay by
        retention (annual margin 0.3 R with the fallback retention 0.6, 10 %
        discount, 5 years) and nothing predictive is stored."""
        with patch.object(clv, "MIN_REPEAT_BUYERS", 10000):
            # a full run fits again (a partial one reuses the fit of its date)
            self.env["res.partner"]._recompute_relationship(
                as_of=AS_OF, company_ids=self.company.ids
            )
        self.customers.invalidate_recordset()
        self.assertEqual(self.company.relationship_fit_status, "untrusted")
        self.assertEqual(self.company.relationship_fit_reason, "too_few_repeat_buyers")
        self.assertIn("Not trusted", self.company.relationship_fit_message)
        factor = sum(0.6 ** (t - 1) / 1.1**t for t in range(1, 6))
        for partner in self.customers[:10]:
            self.assertAlmostEqual(
                partner.lifetime_value,
                round(max(partner.period_revenue, 0) * 0.3 * factor, 2),
                delta=0.011,
            )
            self.assertFalse(partner.probability_alive)
            self.assertFalse(partner.relationship_likely_lost)

    def test_bgnbd_is_refused_without_scipy(self):
        self.company.relationship_clv_method = "retention"
        missing = (False, "No module named 'scipy'")
        with (
            patch.object(clv, "predictive_dependencies", return_value=missing),
            self.assertRaises(ValidationError),
        ):
            self.company.relationship_clv_method = "bgnbd"
        self.assertEqual(self.company.relationship_clv_method, "retention")

    def test_expected_spend_is_a_money_figure(self):
        salesman = new_test_user(
            self.env,
            login="predictive_salesman",
            groups="base.group_user",
            company_id=self.company.id,
        )
        partner = self.customers[0].with_user(salesman)
        self.assertTrue(partner.probability_alive)
        with self.assertRaises(AccessError):
            partner.read(["relationship_expected_spend"])
        self.assertTrue(
            self.customers[0]
            .with_user(self.relationship_user)
            .relationship_expected_spend
        )

    def test_expected_revenue_kpi(self):
        expected = sum(
            expected_spend(self.gamma_gamma, x, m)
            * expected_purchases(self.bgnbd, 12 * MONTH, x, t_x, age)
            for x, t_x, age, m in zip(*(c.tolist() for c in self.columns), strict=True)
        )
        self.env["crm.relationship.kpi"]._recompute_kpis(
            as_of=AS_OF, company_ids=self.company.ids
        )
        value = self.env["crm.relationship.kpi.value"].search(
            [
                ("company_id", "=", self.company.id),
                ("date", "=", AS_OF),
                ("breakdown", "=", "total"),
                ("kpi_id.code", "=", "expected_revenue_next_12_months"),
            ]
        )
        self.assertAlmostEqual(value.value / expected, 1, delta=0.02)

    def test_lifetime_profit_of_the_predictive_method(self):
        """Lifetime value is lifetime profit (docs/rules.md, Profit): with the
        source product_cost, each customer's own margin rate over its history
        (invoices without product: GM = R, rate 1 instead of 0.30), and the
        cost to serve charged while alive:
        CS / W * probability alive * sum over k = 1..60 of 1 / 1.1^(k / 12)."""
        customer = self.customers[2]
        alive = customer.probability_alive
        value = customer.lifetime_value
        self.company.relationship_margin_source = "product_cost"
        customer._recompute_relationship(as_of=AS_OF, company_ids=self.company.ids)
        self.assertAlmostEqual(customer.lifetime_value, value / 0.30, delta=0.02)
        value = customer.lifetime_value
        phone = self.env.ref("crm_relationship.crm_relationship_channel_phone")
        phone.with_company(self.company).cost = 30.0
        self.env["crm.relationship.interaction"].create(
            [
                {
                    "summary": "Call",
                    "partner_id": customer.id,
                    "date": day,
                    "channel_id": phone.id,
                }
                for day in ("2026-03-01", "2026-04-01")
            ]
        )
        customer._recompute_relationship(as_of=AS_OF, company_ids=self.company.ids)
        self.assertEqual(customer.period_cost_to_serve, 60.0)
        monthly = sum(1 / 1.1 ** (k / 12) for k in range(1, 61))
        self.assertAlmostEqual(
            value - customer.lifetime_value, 60.0 / 12 * alive * monthly, delta=0.05
        )
