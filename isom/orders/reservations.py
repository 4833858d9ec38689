"""Reservations: stock in a container (item, lot) set aside for a customer line.

Free stock is what containers hold available (not held, not WIP, within the item's lot rules)
less what active reservations take; it is handed out first-expiry-first-out, whole containers
first within a lot. Reservations follow picked goods into their tote and turn `shipped` when
the goods leave.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isom.auth import sites
from isom.errors import Conflict, InsufficientStock, NotFound, WrongState
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.masterdata.models import Item
from isom.orders.book import result
from isom.orders.customer import get_customer_order, get_line, roll_up
from isom.orders.events import run_order_event
from isom.orders.models import (
    OPEN_SHIP_ORDER,
    CustomerLine,
    CustomerLineStatus,
    CustomerOrder,
    Pick,
    PickStatus,
    Reservation,
    ReservationStatus,
    ShipLine,
    ShipOrder,
)
from isom.orders.queries import line_reference
from isom.orders.schemas import (
    OrderResult,
    ReserveCommand,
    UnreserveCommand,
)
from isom.orders.states import transition_reservation
from isom.types import utcnow

Actor = ledger.Actor
ZERO = Decimal(0)
#: Item attribute: lots with fewer days of shelf life left than this are not picked.
MIN_SHELF_DAYS_ATTRIBUTE = "min_shelf_days_on_ship"
LIVE_LINE = (
    CustomerLineStatus.open,
    CustomerLineStatus.reserved,
    CustomerLineStatus.partly_shipped,
)


# ---------------------------------------------------------------------------------------------
# Stock: what is free to reserve or pick, first expiry first out.


@dataclass(frozen=True)
class Stock(ledger_queries.AvailableLine):
    """A content line of a container with what is still free of reservations."""

    free: Decimal

    @property
    def place(self) -> dict[str, int | None]:
        """Where this stock is, as a reservation names it: its container, item and lot."""
        return {"container_id": self.container_id, "item_id": self.item_id, "lot_id": self.lot_id}


def _min_expiry(item: Item, today: dt.date) -> dt.date:
    """Lot rule: the earliest expiry still allowed to ship (never an expired lot)."""
    days = (item.attributes or {}).get(MIN_SHELF_DAYS_ATTRIBUTE)
    try:
        extra = int(str(days)) if days is not None else 0
    except ValueError:
        extra = 0
    return today + dt.timedelta(days=max(extra, 0))


def _reserved(
    session: Session, container_ids: set[int]
) -> dict[tuple[int, int, int | None], Decimal]:
    rows = session.execute(
        select(
            Reservation.container_id,
            Reservation.item_id,
            Reservation.lot_id,
            func.sum(Reservation.quantity),
        )
        .where(
            Reservation.status == ReservationStatus.active,
            Reservation.container_id.in_(container_ids),
        )
        .group_by(Reservation.container_id, Reservation.item_id, Reservation.lot_id)
    )
    return {(c, i, lot): q for c, i, lot, q in rows}


def stock_of(
    session: Session,
    item: Item,
    *,
    container: ledger_queries.ContainerRef | None = None,
    lot_id: int | None = None,
    lock: bool = False,
) -> list[Stock]:
    """Available stock of `item` in active containers, FEFO order, with what is free.

    Held or WIP stock, floor stock at workstations and lots past the item's lot rule are left
    out. With `lock`, the containers are locked first, so what is free is read after any
    concurrent reservation of them has committed.
    """
    today = utcnow().date()
    lines = ledger_queries.available_lines(
        session,
        item.id,
        container_id=container.id if container is not None else None,
        lot_id=lot_id,
        lock=lock,
    )
    if not lines:
        return []
    reserved = _reserved(session, {line.container_id for line in lines})
    floor = _min_expiry(item, today)
    stock = []
    for line in lines:
        if item.tracking.value != "none" and line.expiry is not None and line.expiry < floor:
            continue
        taken = reserved.get((line.container_id, line.item_id, line.lot_id), ZERO)
        stock.append(Stock(**line.__dict__, free=max(line.quantity - taken, ZERO)))
    stock.sort(key=lambda s: (s.expiry is None, s.expiry or dt.date.max, s.lot or "", s.container))
    return stock


def allocate(stock: list[Stock], need: Decimal) -> list[tuple[Stock, Decimal]]:
    """Take `need` from free stock: earliest expiry first; within a lot, whole containers first.

    Within one lot, containers that fit entirely in what is still needed go first (largest
    first), then the remainder comes from the smallest container that covers it.
    """
    by_lot: dict[tuple[bool, dt.date, str], list[Stock]] = defaultdict(list)
    for s in stock:
        if s.free > 0:
            by_lot[(s.expiry is None, s.expiry or dt.date.max, s.lot or "")].append(s)
    taken: list[tuple[Stock, Decimal]] = []
    for lot_key in sorted(by_lot):
        if need <= 0:
            break
        group = by_lot[lot_key]
        fitting = sorted(
            (s for s in group if s.whole and s.free == s.quantity and s.free <= need),
            key=lambda s: (-s.free, s.container),
        )
        used: set[int] = set()
        for s in fitting:
            if s.free <= need:
                taken.append((s, s.free))
                need -= s.free
                used.add(id(s))
        rest = sorted(
            (s for s in group if id(s) not in used),
            key=lambda s: (s.free < need, s.free, s.container),
        )
        for s in rest:
            if need <= 0:
                break
            qty = min(s.free, need)
            taken.append((s, qty))
            need -= qty
    return taken


# ---------------------------------------------------------------------------------------------
# Reservations.


def container_by_code(
    session: Session, code: str, *, field: str = "container"
) -> ledger_queries.ContainerRef:
    """The container with this label code, or 404."""
    cont = ledger_queries.container_by_code(session, code)
    if cont is None:
        raise NotFound(
            f"no container with code {code!r}", field=field, expected="the code on a label"
        )
    sites.check(cont.site_id, "container with code", code, field=field)
    return cont


def _lot_id(session: Session, item: Item, code: str | None) -> int | None:
    if code is None:
        return None
    lot_id = ledger_queries.lot_id(session, item.id, code)
    if lot_id is None:
        raise NotFound(f"item {item.code} has no lot {code!r}", field="lot", expected="a lot")
    return lot_id


def add_reservation(
    session: Session, line: CustomerLine, s: Stock, qty: Decimal, actor: Actor, at: dt.datetime
) -> None:
    """Set `qty` of this stock aside for the line (adding to its reservation there)."""
    row = session.scalar(
        select(Reservation).where(
            Reservation.customer_line_id == line.id,
            Reservation.status == ReservationStatus.active,
            *(getattr(Reservation, name) == value for name, value in s.place.items()),
        )
    )
    if row is None:
        session.add(
            Reservation(
                **s.place,
                customer_line_id=line.id,
                quantity=qty,
                status=ReservationStatus.active,
                created_at=at,
                created_by=actor.name,
            )  # fmt: skip
        )
    else:
        row.quantity += qty
    line.quantity_reserved += qty


def check_live_line(order: CustomerOrder, line: CustomerLine) -> None:
    """409 unless the line still has something to ship."""
    if line.status not in LIVE_LINE:
        raise WrongState(
            f"customer line {line_reference(order.number, line.line_no)} is {line.status.value}",
            field="line_no",
            expected="an open, reserved or partly shipped line",
        )


def reserve(session: Session, actor: Actor, key: str, cmd: ReserveCommand) -> OrderResult:
    """Set stock aside for a customer line, from one container or first-expiry-first-out.

    With a quantity it is all or nothing (409 when there is not enough free stock); without
    one it reserves what the line still needs, as far as free stock goes.
    """

    def build(session: Session, actor: Actor, key: str, cmd: ReserveCommand) -> OrderResult:
        order = get_customer_order(session, cmd.order, lock=True)
        line = get_line(session, order, cmd.line_no)
        check_live_line(order, line)
        item = session.get(Item, line.item_id)
        assert item is not None
        need = line.quantity - line.quantity_shipped - line.quantity_reserved
        if need <= 0:
            raise Conflict(
                f"customer line {line_reference(order.number, line.line_no)} is fully reserved",
                field="line_no",
                expected="a line with quantity still to reserve",
            )
        if cmd.quantity is not None and cmd.quantity > need:
            raise Conflict(
                f"the line needs only {need} more",
                field="quantity",
                expected=f"at most {need}",
            )
        container = container_by_code(session, cmd.container) if cmd.container else None
        stock = stock_of(
            session, item, container=container, lot_id=_lot_id(session, item, cmd.lot), lock=True
        )
        free = sum((s.free for s in stock), ZERO)
        wanted = cmd.quantity if cmd.quantity is not None else min(need, free)
        if free <= 0 or wanted > free:
            where = f"in container {container.code}" if container else "in stock"
            raise InsufficientStock(
                f"only {free} of {item.code} is free {where} (available, not held, "
                "not reserved, within its lot rules)",
                field="container" if container else "quantity",
                expected=f"at most {free}" if free > 0 else "stock that is free to reserve",
            )
        now = utcnow()
        taken = allocate(stock, wanted)
        for s, qty in taken:
            add_reservation(session, line, s, qty, actor, now)
        session.flush()
        roll_up(session, order, actor, now)
        return result(
            order,
            line_no=line.line_no,
            line_status=line.status.value,
            reserved=str(sum((q for _, q in taken), ZERO)),
            quantity_reserved=str(line.quantity_reserved),
            containers=[
                {"container": s.container, "lot": s.lot, "quantity": str(q)} for s, q in taken
            ],
        )

    return run_order_event(session, actor, key, "reservation.reserve", cmd, build)


def picked_for(session: Session, container_id: int) -> str | None:
    """The open ship order whose picked goods this container holds, if any."""
    return session.scalar(
        select(ShipOrder.number)
        .join(ShipLine, ShipLine.ship_order_id == ShipOrder.id)
        .join(Pick, Pick.ship_line_id == ShipLine.id)
        .where(
            ShipOrder.status.in_(OPEN_SHIP_ORDER),
            Pick.status.in_((PickStatus.picked, PickStatus.packed)),
            Pick.picked_container_id == container_id,
        )
    )


def unreserve(session: Session, actor: Actor, key: str, cmd: UnreserveCommand) -> OrderResult:
    """Give back what a customer line reserved (in one container, or everywhere)."""

    def build(session: Session, actor: Actor, key: str, cmd: UnreserveCommand) -> OrderResult:
        order = get_customer_order(session, cmd.order, lock=True)
        line = get_line(session, order, cmd.line_no)
        check_live_line(order, line)
        query = select(Reservation).where(
            Reservation.customer_line_id == line.id,
            Reservation.status == ReservationStatus.active,
        )
        if cmd.container:
            query = query.where(
                Reservation.container_id == container_by_code(session, cmd.container).id
            )
        released = ZERO
        for res in session.scalars(query.order_by(Reservation.id)):
            ship_number = picked_for(session, res.container_id)
            if ship_number is not None:
                raise Conflict(
                    f"the reserved goods are picked for ship order {ship_number}; "
                    "cancel the ship order first",
                    field="container",
                    expected="a reservation that is not picked",
                )
            transition_reservation(res, ReservationStatus.released)
            released += res.quantity
        if released == 0:
            raise Conflict(
                "nothing is reserved for this line"
                + (f" in {cmd.container}" if cmd.container else ""),
                field="container" if cmd.container else "line_no",
                expected="a line (and container) with a reservation",
            )
        line.quantity_reserved -= released
        now = utcnow()
        session.flush()
        roll_up(session, order, actor, now)
        return result(order, line_no=line.line_no, released=str(released))

    return run_order_event(session, actor, key, "reservation.release", cmd, build)
