"""Numbers in the sentences the module writes (readings, reasons, messages).

The separators are parameters, the language's own (``res.lang``
``decimal_point`` and ``thousands_sep``, as ``odoo.tools.misc.get_lang``
gives them), so that a Vietnamese reading says "80,5 %" where an English one
says "80.5 %". Amounts are not for this helper: they go through Odoo's
``format_amount`` with their currency.
"""


def short_decimal(value, digits=1, decimal_point=".", thousands_sep=""):
    """``value`` rounded to ``digits`` decimals with the trailing zeros
    dropped (none when it is whole: 75, 103.2, 0.25), thousands grouped by
    three with ``thousands_sep`` (every grouping of the languages Odoo ships
    for figures below 100,000)."""
    text = f"{value:.{digits}f}"
    whole, _dot, decimals = text.partition(".")
    decimals = decimals.rstrip("0")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.removeprefix("-")
    if sign and not decimals and not whole.strip("0"):
        sign = ""  # -0.04 at one decimal is 0, not -0
    if thousands_sep:
        groups = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        whole = thousands_sep.join([whole, *groups])
    return sign + whole + (decimal_point + decimals if decimals else "")
