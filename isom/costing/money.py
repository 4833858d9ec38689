"""Money as people read it: to the cent, and figures shown together add up to the cent.

Costs are computed to millionths; rounding each figure on its own gives parts that do not add
up to their total, and variances that do not add up to actual - standard. Totals are rounded
first, then the parts are rounded so that they add up to them (largest remainder).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    """Money rounded half up to the cent, as reported."""
    return value.quantize(CENT, ROUND_HALF_UP)


def split_cents(parts: list[Decimal], total: Decimal) -> list[Decimal]:
    """The parts in cents, adjusted a cent at a time where rounding lost most, to sum to `total`."""
    rounded = [cents(p) for p in parts]
    residual = int((total - sum(rounded, Decimal(0))) / CENT)
    if residual == 0 or not parts:
        return rounded
    sign = 1 if residual > 0 else -1
    order = sorted(range(len(parts)), key=lambda i: sign * (parts[i] - rounded[i]), reverse=True)
    for n in range(abs(residual)):
        rounded[order[n % len(order)]] += sign * CENT
    return rounded
