from odoo import api, models
from odoo.tools import SQL

from ..tools import clv, profit
from .crm_relationship_run_facts import RUN_TABLE


class CrmRelationshipPrediction(models.AbstractModel):
    """The predictive lifetime value (method ``bgnbd``) of a classification
    run: BG/NBD and Gamma-Gamma are fitted on the whole company first, then
    each batch of customers is predicted with numpy (docs/rules.md,
    Predictive lifetime value). numpy and scipy are imported lazily.
    """

    _name = "crm.relationship.prediction"
    _description = "Customer lifetime value prediction"

    @api.model
    def _fit(self, company, as_of, partner_ids=None):
        """``(fits, result)`` of ``company`` at ``as_of`` when its method is
        ``bgnbd``: ``fits`` the trusted ``{"bgnbd", "gamma_gamma"}`` parameters
        the run predicts with (None when the fit cannot be trusted), ``result``
        what the company keeps of a fit that ran (``tools.clv.fit_company``),
        None when none ran.

        Every customer who ever bought is fitted (from the run's table on a
        full run), never only the partners classified; a partial run reuses
        the company's trusted fit of the same date.
        """
        if company.relationship_clv_method != "bgnbd":
            return None, None
        if (
            partner_ids is not None
            and company.relationship_fit_date == as_of
            and company.relationship_fit_status == "trusted"
        ):
            # fitted today, so numpy and scipy were there: a partial run does
            # not import the optimiser
            return company._relationship_fitted_params(), None
        available, _why = clv.predictive_dependencies()
        if not available:
            return None, {"verdict": clv.FitVerdict(False, clv.REASON_DEPENDENCIES, 0)}
        source = SQL.identifier(RUN_TABLE) if partner_ids is None else None
        result = clv.fit_company(*self._inputs(company, as_of, source))
        if not result["verdict"].trusted:
            return None, result
        return {"bgnbd": result["bgnbd"], "gamma_gamma": result["gamma_gamma"]}, result

    @api.model
    def _inputs(self, company, as_of, source=None):
        """x, t_x, age (weeks) and m of every customer of ``company`` who ever
        bought, as numpy arrays (``crm.relationship.facts``)."""
        import numpy as np

        query = self.env["crm.relationship.facts"]._predictive_inputs_sql(
            company, as_of, source
        )
        rows = self.env.execute_query(query)
        return np.array(rows, dtype=float).reshape(-1, 4).T

    @api.model
    def _predict_batch(self, rows, ctx):
        """Predict, with numpy over the whole batch, the figures of the run
        ``rows`` of customers who ever bought: each gets ``"_predicted"`` =
        (probability alive, purchases of the next 12 months, expected spend per
        purchase, lifetime value). Nothing when the company's fit is not used.
        """
        fits = ctx.predictive
        if not fits:
            return
        import numpy as np

        scored = [
            row
            for row in rows
            if row["first_purchase"] and row["repeat_purchases"] is not None
        ]
        if not scored:
            return
        as_of = ctx.as_of
        x = np.array([row["repeat_purchases"] for row in scored], dtype=float)
        t_x = (
            np.array(
                [(row["last_purchase"] - row["first_purchase"]).days for row in scored],
                dtype=float,
            )
            / 7.0
        )
        age = (
            np.array(
                [(as_of - row["first_purchase"]).days for row in scored], dtype=float
            )
            / 7.0
        )
        revenue = np.array([row["repeat_revenue"] for row in scored], dtype=float)
        m = np.divide(revenue, x, out=np.zeros_like(revenue), where=x > 0)
        bgnbd, gamma_gamma = fits["bgnbd"], fits["gamma_gamma"]
        alive = clv.probability_alive(bgnbd, x, t_x, age)
        purchases = clv.predicted_purchases(bgnbd, x, t_x, age)
        spend = clv.expected_average_spend(gamma_gamma, x, m)
        # lifetime profit (docs/rules.md, Profit): each customer's
        # own margin rate over its history with the source product_cost, and
        # the cost to serve charged while it is alive
        margin_rate = ctx.margin_rate
        if ctx.margin_source == "product_cost":
            margin_rate = np.array(
                [
                    profit.customer_margin_rate(
                        row["historical_margin"] or 0.0,
                        row["historical_revenue"] or 0.0,
                        ctx.margin_rate,
                    )
                    for row in scored
                ],
                dtype=float,
            )
        value = clv.lifetime_value(
            bgnbd,
            x,
            t_x,
            age,
            spend,
            margin_rate,
            ctx.discount_rate,
            ctx.horizon_years,
        )
        cost = np.array([row["cost_to_serve"] or 0.0 for row in scored], dtype=float)
        if cost.any():
            value = value - profit.alive_cost_charge(
                cost, ctx.window_months, alive, ctx.monthly_discount
            )
        for row, *figures in zip(
            scored,
            alive.tolist(),
            purchases.tolist(),
            spend.tolist(),
            value.tolist(),
            strict=True,
        ):
            row["_predicted"] = figures

    @api.model
    def _predictive_values(self, row, ctx):
        predicted = row.get("_predicted")
        if not predicted:
            return {
                "probability_alive": None,
                "predicted_purchases": None,
                "relationship_expected_spend": None,
                "relationship_likely_lost": False,
            }
        alive, purchases, spend, _value = predicted
        return {
            "probability_alive": alive,
            "predicted_purchases": purchases,
            "relationship_expected_spend": spend,
            "relationship_likely_lost": alive < ctx.likely_lost,
        }
