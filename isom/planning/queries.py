"""What other domains read of planning's own tables, as plain rows (the agents' buyer reads the
price breaks here rather than planning's ORM classes)."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.planning.models import PriceBreak


class PriceBreakRow(NamedTuple):
    """A lower unit price from a quantity on."""

    min_quantity: Decimal
    price: Decimal


def price_breaks_of(session: Session, supplier_item_id: int) -> list[PriceBreakRow]:
    """The price breaks of what a supplier sells of an item."""
    rows = session.execute(
        select(PriceBreak.min_quantity, PriceBreak.price).where(
            PriceBreak.supplier_item_id == supplier_item_id
        )
    )
    return [PriceBreakRow(q, p) for q, p in rows]
