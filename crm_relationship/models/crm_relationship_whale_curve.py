from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import format_amount

from ..tools import profit
from .groups import MONEY_GROUPS

# the stored figures the curve is drawn from (``_stored_profits``)
CURVE_FIELDS = ("period_revenue", "period_profit")
# the chart's drawing area, in SVG units
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 320, 56, 16, 16, 44
# the box of a text of the chart's font size (11): the width of a character
# (an average of wide and narrow ones), the height above the baseline (with a
# Vietnamese diacritic) and below it
CHAR_WIDTH, ASCENT, DESCENT = 6.6, 10, 3
# the room kept between the 100 % label and the curve: half its stroke (2.5)
# and as much air
CLEARANCE = 2.5


def curve_span(points, left, right):
    """(smallest, largest) SVG y (the top and the bottom on screen) of the
    polyline ``points`` [(x, y)], x ascending, over the x range [``left``,
    ``right``]; None when it has no point there."""
    ys = []
    for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
        if x2 < left or x1 > right:
            continue
        if x1 == x2:
            ys += [y1, y2]
            continue
        for x in (max(left, x1), min(right, x2)):
            ys.append(y1 + (y2 - y1) * (x - x1) / (x2 - x1))
    return (min(ys), max(ys)) if ys else None


def level_label_place(points, x0, x100, y100, width):
    """(x, y, text-anchor) of the label of the 100 % line, for a text
    ``width`` wide, where it keeps clear of the curve ``points`` (SVG units):
    at the right end above the line, else below it (the curve comes down to
    100 % after its peak), else at the left end above the line (the curve
    starts at 0), else below it; the place farthest from the curve when none
    is clear."""
    places = []
    for anchor, x, left in (
        ("end", x100 - 4, x100 - 4 - width),
        ("start", x0 + 4, x0 + 4),
    ):
        # above the line (the text's box ends 3 above it, clear of a curve
        # at 100 %), or below it
        for baseline in (y100 - DESCENT - 3, y100 + ASCENT + 4):
            places.append((anchor, x, left, baseline))
    best, best_gap = None, None
    for anchor, x, left, baseline in places:
        span = curve_span(points, left, left + width)
        if span is None:
            return x, baseline, anchor
        curve_top, curve_bottom = span
        # the gap between the text's box and the curve (< 0: they overlap)
        gap = max(baseline - ASCENT - curve_bottom, curve_top - baseline - DESCENT)
        if gap >= CLEARANCE:
            return x, baseline, anchor
        if best_gap is None or gap > best_gap:
            best, best_gap = (x, baseline, anchor), gap
    return best


class CrmRelationshipWhaleCurve(models.TransientModel):
    """The whale curve (Kaplan and Cooper) of the current company as of the
    last classification: the customers with revenue in the window ranked by
    profit, x their share, y their cumulative share of the total profit
    (docs/rules.md, Profit). Drawn on the server from the
    stored figures with ``tools.profit``, so that it shows exactly what the
    KPIs measure; the figures are measured once per company-wide run and kept
    on the company (``_keep``)."""

    _name = "crm.relationship.whale.curve"
    _description = "Whale curve"

    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    customer_count = fields.Integer("Customers", compute="_compute_curve")
    total_profit = fields.Monetary(
        "Total profit",
        currency_field="currency_id",
        compute="_compute_curve",
        groups=MONEY_GROUPS,
    )
    peak = fields.Float("Peak (%)", digits=(16, 1), compute="_compute_curve")
    top_20_share = fields.Float(
        "Profit share of the top 20 % (%)", digits=(16, 1), compute="_compute_curve"
    )
    unprofitable_count = fields.Integer(
        "Unprofitable customers", compute="_compute_curve"
    )
    reading = fields.Char(compute="_compute_curve")
    chart = fields.Html(compute="_compute_curve", sanitize=False)

    @api.model_create_multi
    def create(self, vals_list):
        # the current company, never one sent by the client
        for vals in vals_list:
            vals["company_id"] = self.env.company.id
        return super().create(vals_list)

    @api.depends("company_id")
    def _compute_display_name(self):
        for curve in self:
            curve.display_name = self.env._("Whale curve")

    @api.depends("company_id")
    def _compute_curve(self):
        for curve in self:
            figures = curve._figures()
            reading = figures["reading"] and profit.WhaleReading(*figures["reading"])
            count, total = figures["customers"], figures["total"]
            curve.customer_count = count
            curve.unprofitable_count = figures["unprofitable"]
            curve.total_profit = total
            curve.peak = figures["peak"] or 0.0
            curve.top_20_share = figures["top_20"] or 0.0
            curve.reading = curve._reading(reading, count, total)
            curve.chart = curve._svg(figures["points"]) if figures["points"] else False

    def _figures(self):
        """What the curve shows: the figures the last company-wide
        classification kept on the company (``_keep``), or, when a partial one
        has moved a customer's figures since, the figures measured now."""
        self.ensure_one()
        company = self.company_id.sudo()
        return company.relationship_whale_curve or self._measure(company)

    @api.model
    def _measure(self, company):
        """The curve's figures (JSON-ready) from the profits the customers of
        ``company`` hold (``tools.profit``)."""
        ordered = profit.profits_in_order(self._stored_profits(company))
        reading = profit.whale_reading(ordered)
        return {
            "customers": len(ordered),
            "unprofitable": sum(1 for value in ordered if value < 0),
            "total": sum(ordered),
            "peak": profit.whale_curve_peak(ordered),
            "top_20": profit.top_profit_share(ordered),
            "reading": reading and [reading.customers, reading.profit, reading.lost],
            "points": profit.whale_curve(ordered),
        }

    @api.model
    def _keep(self, company):
        """Keep on ``company`` the curve of what a company-wide classification
        has just stored, so that opening it reads no customer."""
        company.sudo().relationship_whale_curve = self._measure(company)

    @api.model
    def _forget(self, company, changed):
        """A classification of some customers wrote ``changed`` (``{partner
        id: {field: value}}``): when it moved a figure the curve is drawn
        from, the curve is measured again when opened, until the next
        company-wide run."""
        if company.sudo().relationship_whale_curve and any(
            fname in values for values in changed.values() for fname in CURVE_FIELDS
        ):
            company.sudo().relationship_whale_curve = False

    @api.model
    def _stored_profits(self, company):
        """``{partner id: profit}`` of the customers of ``company`` with
        revenue > 0 in the window, as the last classification stored them."""
        self.env["res.partner"].flush_model(["period_revenue", "period_profit"])
        rows = self.env.execute_query(
            SQL(
                """SELECT id, COALESCE((period_profit->>%(key)s)::float, 0)
                     FROM res_partner
                    WHERE id = commercial_partner_id
                      AND (period_revenue->>%(key)s)::float > 0""",
                key=str(company.id),
            )
        )
        return dict(rows)

    def _reading(self, reading, count, total):
        if not count:
            return self.env._("No customer bought in the analysis window yet.")
        if reading is None:
            return self.env._(
                "The customers' total profit is %(total)s: no curve without profit.",
                total=format_amount(self.env, total, self.company_id.currency_id),
            )
        if reading.customers >= 100:
            return self.env._(
                "No customer loses money: every customer adds to the profit.",
            )
        # one decimal, none when whole, in the user's language: 75, 103.2
        percent = self.env["res.partner"]._relationship_number
        return self.env._(
            "The top %(customers)s %% of customers earn %(profit)s %% of the profit; "
            "the customers after the peak lose %(lost)s %% of it.",
            customers=percent(reading.customers),
            profit=percent(reading.profit),
            lost=percent(reading.lost),
        )

    def _svg(self, points):
        """A line chart of ``points`` [(x %, y %)] with the 100 % level."""
        top = max(110.0, max(y for _x, y in points) * 1.05)
        bottom = min(0.0, min(y for _x, y in points) * 1.05)
        inner_w = WIDTH - LEFT - RIGHT
        inner_h = HEIGHT - TOP - BOTTOM

        def at(x, y):
            return (
                LEFT + inner_w * x / 100.0,
                TOP + inner_h * (top - y) / (top - bottom),
            )

        placed = [at(x, y) for x, y in points]
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in placed)
        x0, y100 = at(0, 100)
        x100, y0 = at(100, 0)
        ticks = []
        for value in (0, 25, 50, 75, 100):
            tx, _ty = at(value, bottom)
            ticks.append(
                f'<text x="{tx:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{value}</text>'
            )
        step = 50 if top - bottom > 150 else 25
        level = (int(bottom) // step) * step
        while level <= top:
            _lx, ly = at(0, level)
            ticks.append(
                f'<text x="{LEFT - 6}" y="{ly + 4:.1f}" text-anchor="end">'
                f"{level}</text>"
            )
            level += step
        x_label = escape(self.env._("Customers ranked by profit (%)"))
        y_label = escape(self.env._("Cumulative profit (%)"))
        level_text = self.env._("100 % of the profit")
        label_x, label_y, label_anchor = level_label_place(
            placed, x0, x100, y100, len(level_text) * CHAR_WIDTH
        )
        return Markup(
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'class="o_crm_relationship_whale_curve w-100" style="max-width: 760px" '
            f'font-size="11" fill="currentColor" role="img" aria-label="{y_label}">'
            f'<line x1="{LEFT}" y1="{y0:.1f}" x2="{x100:.1f}" y2="{y0:.1f}" '
            f'stroke="#adb5bd"/>'
            f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" '
            f'stroke="#adb5bd"/>'
            f'<line x1="{x0:.1f}" y1="{y100:.1f}" x2="{x100:.1f}" y2="{y100:.1f}" '
            f'stroke="#dc3545" stroke-dasharray="6 4"/>'
            f'<text x="{label_x:.1f}" y="{label_y:.1f}" '
            f'text-anchor="{label_anchor}" fill="#dc3545">{escape(level_text)}</text>'
            f'<polyline points="{line}" fill="none" stroke="#017e84" '
            f'stroke-width="2.5"/>'
            f"{''.join(ticks)}"
            f'<text x="{LEFT + inner_w / 2:.1f}" y="{HEIGHT - 6}" '
            f'text-anchor="middle">{x_label}</text>'
            f'<text x="12" y="{TOP + inner_h / 2:.1f}" text-anchor="middle" '
            f'transform="rotate(-90 12 {TOP + inner_h / 2:.1f})">{y_label}</text>'
            "</svg>"
        )

    @api.model
    def action_open(self):
        """Open the whale curve of the current company (a server action)."""
        curve = self.create({})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Whale curve"),
            "res_model": self._name,
            "res_id": curve.id,
            "view_mode": "form",
            "target": "current",
            "context": {"form_view_initial_mode": "readonly"},
        }
