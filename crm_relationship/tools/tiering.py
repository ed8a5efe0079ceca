"""Tier assignment by revenue contributed (see docs/rules.md, "Tier")."""

import math
from dataclasses import dataclass

AMOUNT = "amount"
TOP_PERCENT = "top_percent"


@dataclass(frozen=True)
class RevenueTier:
    """A revenue tier as the rules see it; ``key`` is whatever the caller needs back."""

    key: object
    threshold_type: str
    min_amount: float = 0.0
    top_percent: float = 100.0


def rank_by_revenue(revenues):
    """Return ``{partner_id: rank}`` (1 = highest) among partners with revenue > 0.

    Ties are broken by partner id, so the ranking is total and deterministic.
    """
    ranked = sorted(
        (pid for pid, amount in revenues.items() if amount > 0),
        key=lambda pid: (-revenues[pid], pid),
    )
    return {pid: position for position, pid in enumerate(ranked, start=1)}


def top_rank_limit(population, top_percent):
    """Highest rank still inside the top ``top_percent`` % of ``population``."""
    # round() first so that 5 % of 200 is exactly 10, not ceil(10.000000000000002)
    return math.ceil(round(population * top_percent / 100.0, 9))


def tier_rules(tiers, population):
    """``[(tier, rank limit or None)]``: the rank limits of the top-percent tiers
    among ``population`` partners with revenue > 0, in sequence order."""
    return [
        (
            tier,
            top_rank_limit(population, tier.top_percent)
            if tier.threshold_type == TOP_PERCENT
            else None,
        )
        for tier in tiers
    ]


def revenue_tier(rules, revenue, rank):
    """Key of the first tier of ``rules`` (``tier_rules``) that a partner with
    ``revenue`` > 0 at ``rank`` reaches, or None."""
    for tier, rank_limit in rules:
        if rank_limit is None:
            if revenue >= tier.min_amount:
                return tier.key
        elif rank <= rank_limit:
            return tier.key
    return None


def assign_revenue_tiers(revenues, tiers, ranks=None):
    """Map every partner with revenue > 0 to the key of its revenue tier: the
    first of ``tiers`` (in sequence order) that the partner reaches.

    :param revenues: ``{partner_id: revenue}``; partners with revenue <= 0 are
        left out (they are inactive, decided by the caller).
    :param tiers: ``RevenueTier`` list in sequence order.
    :param ranks: ``rank_by_revenue(revenues)`` when the caller has it already.
    """
    ranks = rank_by_revenue(revenues) if ranks is None else ranks
    rules = tier_rules(tiers, len(ranks))
    return {
        pid: revenue_tier(rules, revenues[pid], rank) for pid, rank in ranks.items()
    }


def unreachable_tier(tiers):
    """Return the first tier that can never match given the tiers before it, or None.

    An amount tier is unreachable after an amount tier with a lower or equal
    minimum; a top-percent tier after one with a greater or equal percent; any
    tier after a catch-all (minimum 0, or top 100 %).
    """
    best_amount = None
    best_percent = None
    for tier in tiers:
        if tier.threshold_type == AMOUNT:
            if best_amount is not None and tier.min_amount >= best_amount:
                return tier
        elif best_percent is not None and tier.top_percent <= best_percent:
            return tier
        if (best_amount is not None and best_amount <= 0) or (
            best_percent is not None and best_percent >= 100
        ):
            return tier
        if tier.threshold_type == AMOUNT:
            best_amount = (
                tier.min_amount
                if best_amount is None
                else min(best_amount, tier.min_amount)
            )
        else:
            best_percent = max(best_percent or 0.0, tier.top_percent)
    return None
