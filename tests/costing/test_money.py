"""Money shown together adds up to the cent."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from isom.costing.money import CENT, cents, split_cents

amounts = st.decimals(min_value=-10_000, max_value=10_000, places=6, allow_nan=False)


@given(st.lists(amounts, min_size=1, max_size=8))
def test_parts_in_cents_add_up_to_their_total_in_cents(parts: list[Decimal]) -> None:
    total = cents(sum(parts, Decimal(0)))
    split = split_cents(parts, total)
    assert sum(split, Decimal(0)) == total
    assert all(s == s.quantize(CENT) for s in split)
    assert all(abs(s - p) < 2 * CENT for s, p in zip(split, parts, strict=True))


def test_three_thirds_of_a_euro_show_as_0_33_0_33_0_34() -> None:
    third = Decimal("0.333333")
    assert sorted(split_cents([third, third, Decimal("0.333334")], Decimal("1.00"))) == [
        Decimal("0.33"),
        Decimal("0.33"),
        Decimal("0.34"),
    ]
