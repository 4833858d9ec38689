"""Planning's own writes: the price breaks purchasing reads beside the supplier's price list."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from isom.errors import NotFound
from isom.masterdata import services as md
from isom.masterdata.models import SupplierItem
from isom.planning.models import PriceBreak


def supplier_item(session: Session, supplier: str, item: str) -> SupplierItem:
    """What a supplier sells of an item, or 404."""
    sup = md.get_supplier(session, supplier)
    it = md.get_item(session, item)
    offer = session.scalar(
        select(SupplierItem).where(
            SupplierItem.supplier_id == sup.id, SupplierItem.item_id == it.id
        )
    )
    if offer is None:
        raise NotFound(
            f"{sup.code} does not sell {it.code}",
            field="item",
            expected="an item on the supplier's price list",
        )
    return offer


def put_price_breaks(
    session: Session, supplier: str, item: str, breaks: list[tuple[Decimal, Decimal]]
) -> list[PriceBreak]:
    """Replace the price breaks of a supplier's item: (from quantity, unit price) pairs."""
    offer = supplier_item(session, supplier, item)
    session.execute(delete(PriceBreak).where(PriceBreak.supplier_item_id == offer.id))
    rows = [
        PriceBreak(supplier_item_id=offer.id, min_quantity=q, price=p) for q, p in sorted(breaks)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def price_breaks(session: Session, supplier: str, item: str) -> list[PriceBreak]:
    """The price breaks of a supplier's item, smallest quantity first."""
    offer = supplier_item(session, supplier, item)
    return list(
        session.scalars(
            select(PriceBreak)
            .where(PriceBreak.supplier_item_id == offer.id)
            .order_by(PriceBreak.min_quantity)
        )
    )
