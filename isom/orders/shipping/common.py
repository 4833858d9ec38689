"""What every step of shipping reads: a ship order, its lines and pick tasks, its roll-up."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.auth import sites
from isom.errors import NotFound, WrongState
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.orders.models import (
    OPEN_SHIP_ORDER,
    Pick,
    PickStatus,
    ShipLine,
    ShipOrder,
    ShipOrderStatus,
)
from isom.orders.states import transition_ship_order

Actor = ledger.Actor


# ---------------------------------------------------------------------------------------------
# Ship orders and their pick lists.


def get_ship_order(session: Session, number: str, *, lock: bool = False) -> ShipOrder:
    """The ship order with this number (locked when `lock`), or 404."""
    query = select(ShipOrder).where(ShipOrder.number == number)
    if lock:
        query = query.with_for_update()
    ship = session.scalar(query)
    if ship is None:
        raise NotFound(
            f"no ship order {number!r}", field="ship_order", expected="an existing ship order"
        )
    sites.check(ship.site_id, "ship order", number, field="ship_order")
    return ship


def _ship_lines(session: Session, ship: ShipOrder) -> list[ShipLine]:
    return list(
        session.scalars(
            select(ShipLine).where(ShipLine.ship_order_id == ship.id).order_by(ShipLine.id)
        )
    )


def _picks(session: Session, ship: ShipOrder) -> list[Pick]:
    return list(
        session.scalars(
            select(Pick)
            .join(ShipLine, ShipLine.id == Pick.ship_line_id)
            .where(ShipLine.ship_order_id == ship.id)
            .order_by(Pick.sequence)
        )
    )


def _ship_roll_up(session: Session, ship: ShipOrder, actor: Actor, at: dt.datetime) -> None:
    """Planned until a pick, picking while tasks are open, picked, then packed when all are."""
    picks = [p for p in _picks(session, ship) if p.status is not PickStatus.cancelled]
    if any(p.status is PickStatus.open for p in picks):
        started = any(p.status is not PickStatus.open for p in picks)
        to = ShipOrderStatus.picking if started else ShipOrderStatus.planned
    elif all(p.status is PickStatus.packed for p in picks):
        to = ShipOrderStatus.packed
    else:
        to = ShipOrderStatus.picked
    transition_ship_order(ship, to, actor=actor, at=at)


def _open_ship(session: Session, number: str) -> ShipOrder:
    ship = get_ship_order(session, number, lock=True)
    if ship.status not in OPEN_SHIP_ORDER:
        raise WrongState(
            f"ship order {ship.number} is {ship.status.value}",
            field="ship_order",
            expected="a ship order that is not shipped or cancelled",
        )
    return ship


def _code(session: Session, container_id: int | None) -> str:
    return ledger_queries.container_code(session, container_id) or "-"
