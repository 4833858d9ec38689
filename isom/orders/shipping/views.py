"""Ship orders as the API and pages show them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.auth import sites
from isom.ledger import queries as ledger_queries
from isom.masterdata.models import Customer, Item, Location
from isom.orders.models import (
    CustomerLine,
    CustomerOrder,
    ShipOrder,
    ShipOrderStatus,
)
from isom.orders.schemas import (
    PickView,
    ShipLineView,
    ShipOrderView,
)
from isom.orders.shipping.common import _code, _picks, _ship_lines, get_ship_order

# ---------------------------------------------------------------------------------------------
# Views.


def ship_order_view(session: Session, number: str) -> ShipOrderView:
    """The ship order with its lines, its pick list (FEFO order) and its packages."""
    ship_order = get_ship_order(session, number)
    order = session.get(CustomerOrder, ship_order.customer_order_id)
    assert order is not None
    customer = session.get(Customer, order.customer_id)
    assert customer is not None
    ship_lines = _ship_lines(session, ship_order)
    line_of = {sl.id: session.get(CustomerLine, sl.customer_line_id) for sl in ship_lines}
    picks = _picks(session, ship_order)
    item_ids = {p.item_id for p in picks} | {cl.item_id for cl in line_of.values() if cl}
    items = dict(session.execute(select(Item.id, Item.code).where(Item.id.in_(item_ids))).all())
    lots = ledger_queries.lots_by_id(session, {p.lot_id for p in picks})
    containers = ledger_queries.containers_by_id(session, {p.container_id for p in picks})
    views = []
    for p in picks:
        cont = containers[p.container_id]
        loc = session.get(Location, cont.location_id) if cont.location_id else None
        lot = lots.get(p.lot_id) if p.lot_id else None
        views.append(
            PickView(
                sequence=p.sequence,
                line_no=line_of[p.ship_line_id].line_no,  # type: ignore[union-attr]
                item=items[p.item_id],
                lot=lot.code if lot else None,
                expiry_date=lot.expiry_date if lot else None,
                container=cont.code,
                location=loc.code if loc else None,
                quantity=p.quantity,
                whole_container=p.whole_container,
                status=p.status.value,
                picked_quantity=p.picked_quantity,
                picked_container=_code(session, p.picked_container_id)
                if p.picked_container_id
                else None,
                package=_code(session, p.package_container_id) if p.package_container_id else None,
            )
        )
    return ShipOrderView(
        number=ship_order.number,
        customer_order=order.number,
        customer=customer.code,
        status=ship_order.status.value,
        ship_to=ship_order.ship_to,
        created_at=ship_order.created_at,
        shipped_at=ship_order.shipped_at,
        lines=[
            ShipLineView(
                line_no=line_of[sl.id].line_no,  # type: ignore[union-attr]
                item=items[line_of[sl.id].item_id],  # type: ignore[union-attr]
                quantity=sl.quantity,
                quantity_picked=sl.quantity_picked,
                quantity_shipped=sl.quantity_shipped,
            )
            for sl in ship_lines
        ],
        picks=views,
        packages=sorted({v.package for v in views if v.package}),
    )


def list_ship_orders(
    session: Session, *, status: ShipOrderStatus | None = None, limit: int = 100
) -> list[ShipOrderView]:
    """The newest ship orders with their pick lists, optionally of one status."""
    query = (
        select(ShipOrder.number)
        .where(sites.within(ShipOrder.site_id))
        .order_by(ShipOrder.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(ShipOrder.status == status)
    return [ship_order_view(session, number) for number in session.scalars(query)]
