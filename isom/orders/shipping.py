"""Ship orders with their pick lists, picking, packing and shipping.

A ship order releases (part of) a customer order; its pick list takes the lines' reserved stock
first, then free stock (see `reservations`). Picking moves a reservation with the goods: a
whole container keeps it, a split-off tote gets it. Shipping goes through the ledger (ship of
each shipping container), so what ships leaves inventory; the reservations then turn `shipped`
and the line's shipped quantity grows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import AlreadyExists, Conflict, InsufficientStock, NotFound, WrongState
from isom.ledger import services as ledger
from isom.ledger.models import Container, ContentStatus, Lot
from isom.ledger.schemas import CreateContainerCommand, NestCommand, QuantityLine, ShipCommand
from isom.ledger.schemas import SplitCommand as LedgerSplit
from isom.masterdata.models import Customer, Item, Location
from isom.orders.customer import get_customer_order, lines_of, roll_up
from isom.orders.events import next_number, run_order_event
from isom.orders.models import (
    OPEN_SHIP_ORDER,
    CustomerLine,
    CustomerOrder,
    CustomerOrderStatus,
    Pick,
    PickStatus,
    Reservation,
    ReservationStatus,
    ShipLine,
    ShipOrder,
    ShipOrderStatus,
)
from isom.orders.queries import released_for_shipping
from isom.orders.reservations import (
    LIVE_LINE,
    ZERO,
    Stock,
    add_reservation,
    allocate,
    check_live_line,
    container_by_code,
    picked_for,
    stock_of,
)
from isom.orders.schemas import (
    CancelShipOrder,
    CreateShipOrder,
    OrderResult,
    PackCommand,
    PickScan,
    PickView,
    ShipLineIn,
    ShipLineView,
    ShipOrderView,
    ShipShipOrder,
)
from isom.orders.states import transition_pick, transition_reservation, transition_ship_order
from isom.types import utcnow

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


def _on_open_ship_orders(session: Session, line: CustomerLine) -> Decimal:
    """How much of a line open ship orders already release (not yet shipped)."""
    return released_for_shipping(session, [line.id]).get(line.id, ZERO)


def _fresh_ship_number(session: Session) -> str:
    while True:
        number = next_number(session, "SH")
        if session.scalar(select(ShipOrder.id).where(ShipOrder.number == number)) is None:
            return number


def _line_stock(
    session: Session, line: CustomerLine, item: Item
) -> tuple[list[Stock], list[Stock]]:
    """The stock the line has reserved and not yet picked, and the free stock of its item."""
    own: dict[tuple[int, int | None], Decimal] = defaultdict(Decimal)
    for res in session.scalars(
        select(Reservation).where(
            Reservation.customer_line_id == line.id,
            Reservation.status == ReservationStatus.active,
        )
    ):
        if picked_for(session, res.container_id) is None:
            own[(res.container_id, res.lot_id)] += res.quantity
    free = stock_of(session, item, lock=True)
    reserved = [
        Stock(**{**s.__dict__, "free": min(own[(s.container_id, s.lot_id)], s.quantity)})
        for s in free
        if (s.container_id, s.lot_id) in own
    ]
    return reserved, free


def _make_picks(
    session: Session,
    actor: Actor,
    ship_line: ShipLine,
    line: CustomerLine,
    item: Item,
    seq: int,
) -> tuple[int, Decimal]:
    """Add the pick tasks for one ship line; free stock they take is reserved for the line."""
    own_stock, free_stock = _line_stock(session, line, item)
    planned = ZERO
    now = utcnow()
    for pool in (own_stock, free_stock):
        for s, qty in allocate(pool, ship_line.quantity - planned):
            seq += 1
            session.add(
                Pick(
                    ship_line_id=ship_line.id,
                    sequence=seq,
                    container_id=s.container_id,
                    item_id=s.item_id,
                    lot_id=s.lot_id,
                    quantity=qty,
                    whole_container=s.whole and qty == s.quantity,
                    status=PickStatus.open,
                    picked_quantity=ZERO,
                )
            )
            planned += qty
            if pool is free_stock:
                add_reservation(session, line, s, qty, actor, now)
        if planned >= ship_line.quantity:
            break
    return seq, planned


def create_ship_order(
    session: Session, actor: Actor, key: str, cmd: CreateShipOrder
) -> OrderResult:
    """Release a customer order (or part of it) for shipping and make its pick list.

    The pick list takes the line's reserved stock first, then free stock first-expiry-first-out
    (whole containers preferred), and reserves what it takes. An order that does not allow
    partial shipments must be released whole, with enough stock.
    """

    def build(session: Session, actor: Actor, key: str, cmd: CreateShipOrder) -> OrderResult:
        order = get_customer_order(session, cmd.order, lock=True)
        if order.status in (CustomerOrderStatus.shipped, CustomerOrderStatus.cancelled):
            raise WrongState(
                f"customer order {order.number} is {order.status.value}",
                field="order",
                expected="an order with open lines",
            )
        lines = {line.line_no: line for line in lines_of(session, order)}
        wanted: list[tuple[CustomerLine, Decimal]] = []
        requests = cmd.lines or [
            ShipLineIn(line_no=n) for n, line in lines.items() if line.status in LIVE_LINE
        ]
        for i, req in enumerate(requests):
            line = lines.get(req.line_no)
            if line is None:
                raise NotFound(
                    f"customer order {order.number} has no line {req.line_no}",
                    field=f"lines[{i}].line_no",
                    expected="the number of one of the order's lines",
                )
            check_live_line(order, line)
            open_qty = line.quantity - line.quantity_shipped - _on_open_ship_orders(session, line)
            qty = req.quantity if req.quantity is not None else open_qty
            if qty <= 0 or qty > open_qty:
                raise Conflict(
                    f"line {line.line_no} has {max(open_qty, ZERO)} not yet released for shipping",
                    field=f"lines[{i}].quantity",
                    expected=f"at most {max(open_qty, ZERO)}",
                )
            wanted.append((line, qty))
        if not wanted:
            raise Conflict(
                f"customer order {order.number} has nothing left to release",
                field="order",
                expected="an order with open quantity not on another ship order",
            )
        now = utcnow()
        ship = ShipOrder(
            number=cmd.number or _fresh_ship_number(session),
            customer_order_id=order.id,
            status=ShipOrderStatus.planned,
            ship_to=order.ship_to,
            created_at=now,
            updated_at=now,
            updated_by=actor.name,
        )
        if session.scalar(select(ShipOrder.id).where(ShipOrder.number == ship.number)):
            raise AlreadyExists(
                f"ship order {ship.number} exists already", field="number", expected="a new number"
            )
        session.add(ship)
        session.flush()
        seq = 0
        short: dict[str, str] = {}
        for line, qty in wanted:
            item = session.get(Item, line.item_id)
            assert item is not None
            ship_line = ShipLine(
                ship_order_id=ship.id,
                customer_line_id=line.id,
                quantity=qty,
                quantity_picked=ZERO,
                quantity_shipped=ZERO,
            )
            session.add(ship_line)
            session.flush()
            seq, planned = _make_picks(session, actor, ship_line, line, item, seq)
            if planned < qty:
                short[str(line.line_no)] = str(qty - planned)
        if seq == 0:
            raise InsufficientStock(
                f"no free stock for any line of {order.number}",
                field="order",
                expected="stock that is available, not held and not reserved for others",
            )
        if not order.allow_partial:
            whole = all(
                line.quantity - line.quantity_shipped == qty for line, qty in wanted
            ) and len(wanted) == len([x for x in lines.values() if x.status in LIVE_LINE])
            if not whole or short:
                raise Conflict(
                    f"customer order {order.number} does not allow partial shipments"
                    + (f"; stock is short for lines {', '.join(short)}" if short else ""),
                    field="lines" if not whole else "order",
                    expected="the whole open order, with enough free stock",
                )
        session.flush()
        roll_up(session, order, actor, now)
        return OrderResult(
            number=ship.number,
            status=ship.status.value,
            detail={"customer_order": order.number, "short": short, "picks": seq},
        )

    return run_order_event(session, actor, key, "ship_order.create", cmd, build)


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


def _move_reservation(
    session: Session, line: CustomerLine, task: Pick, qty: Decimal, to_id: int, actor: Actor
) -> None:
    """Picked goods keep their reservation: it follows them into the tote they went to."""
    left = qty
    for res in session.scalars(
        select(Reservation)
        .where(
            Reservation.customer_line_id == line.id,
            Reservation.container_id == task.container_id,
            Reservation.item_id == task.item_id,
            Reservation.lot_id.is_(None)
            if task.lot_id is None
            else Reservation.lot_id == task.lot_id,
            Reservation.status == ReservationStatus.active,
        )
        .order_by(Reservation.id)
    ):
        if left <= 0:
            break
        moved = min(left, res.quantity)
        left -= moved
        if moved == res.quantity:
            res.container_id = to_id
            continue
        res.quantity -= moved
        session.add(
            Reservation(
                customer_line_id=line.id,
                container_id=to_id,
                item_id=task.item_id,
                lot_id=task.lot_id,
                quantity=moved,
                status=ReservationStatus.active,
                created_at=utcnow(),
                created_by=actor.name,
            )
        )
    if left > 0:  # the line had less set aside here than was picked: reserve the difference
        session.add(
            Reservation(
                customer_line_id=line.id,
                container_id=to_id,
                item_id=task.item_id,
                lot_id=task.lot_id,
                quantity=left,
                status=ReservationStatus.active,
                created_at=utcnow(),
                created_by=actor.name,
            )
        )
        line.quantity_reserved += left


def pick(session: Session, actor: Actor, key: str, cmd: PickScan) -> OrderResult:
    """Pick by scanning a container of the pick list; a part of it is split into a tote.

    Taking a whole container moves nothing in the ledger; taking part of one is a ledger split.
    """

    def build(session: Session, actor: Actor, key: str, cmd: PickScan) -> OrderResult:
        ship = _open_ship(session, cmd.ship_order)
        source = container_by_code(session, cmd.container)
        tasks = [
            p
            for p in _picks(session, ship)
            if p.container_id == source.id and p.status is PickStatus.open
        ]
        if not tasks:
            expected = sorted(
                {
                    code
                    for p in _picks(session, ship)
                    if p.status is PickStatus.open
                    for code in [session.get(Container, p.container_id).code]  # type: ignore[union-attr]
                }
            )
            raise Conflict(
                f"container {source.code} is not on the open pick list of {ship.number}",
                field="container",
                expected="one of: " + (", ".join(expected) or "nothing left to pick"),
            )
        task = tasks[0]
        qty = cmd.quantity if cmd.quantity is not None else task.quantity
        if qty > task.quantity:
            raise Conflict(
                f"the pick list asks for {task.quantity} from {source.code}",
                field="quantity",
                expected=f"at most {task.quantity}",
            )
        item = session.get(Item, task.item_id)
        ship_line = session.get(ShipLine, task.ship_line_id)
        assert item is not None and ship_line is not None
        line = session.get(CustomerLine, ship_line.customer_line_id)
        assert line is not None
        lot_code = (
            session.scalar(select(Lot.code).where(Lot.id == task.lot_id)) if task.lot_id else None
        )
        here = [
            s
            for s in stock_of(session, item, container=source, lot_id=task.lot_id)
            if s.lot_id == task.lot_id
        ]
        held = sum((s.quantity for s in here), ZERO)
        if held < qty:
            raise InsufficientStock(
                f"container {source.code} holds only {held} of {item.code} "
                f"{lot_code or ''} available to pick".replace("  ", " "),
                field="quantity" if cmd.quantity is not None else "container",
                expected=f"at most {held}",
            )
        whole = len(here) == 1 and here[0].whole and here[0].quantity == qty
        now = utcnow()
        if task.whole_container and whole and cmd.into is None:
            picked_id = source.id
            picked_code = source.code
        else:
            tote_exists = cmd.into is not None and session.scalar(
                select(Container.id).where(Container.code == cmd.into)
            )
            split = ledger.split(
                session,
                actor,
                f"{key}/split",
                LedgerSplit(
                    occurred_at=cmd.occurred_at,
                    container=source.code,
                    into=cmd.into if tote_exists else None,
                    new_container=None if tote_exists else cmd.into,
                    container_kind="tote",
                    lines=[
                        QuantityLine(
                            item=item.code,
                            lot=lot_code,
                            status=ContentStatus.available,
                            quantity=qty,
                        )
                    ],
                ),
            )
            picked_code = split.detail["into"]
            picked_id = container_by_code(session, picked_code).id
            _move_reservation(session, line, task, qty, picked_id, actor)
        task.picked_quantity = qty
        task.picked_container_id = picked_id
        task.picked_at = now
        task.picked_by = actor.name
        transition_pick(task, PickStatus.picked)
        ship_line.quantity_picked += qty
        session.flush()
        _ship_roll_up(session, ship, actor, now)
        return OrderResult(
            number=ship.number,
            status=ship.status.value,
            detail={
                "container": source.code,
                "picked_container": picked_code,
                "item": item.code,
                "lot": lot_code,
                "quantity": str(qty),
                "short": str(task.quantity - qty),
            },
        )

    return run_order_event(session, actor, key, "ship_order.pick", cmd, build)


def pack(session: Session, actor: Actor, key: str, cmd: PackCommand) -> OrderResult:
    """Put a picked container into a shipping container (ledger nest); a new one is made."""

    def build(session: Session, actor: Actor, key: str, cmd: PackCommand) -> OrderResult:
        ship = _open_ship(session, cmd.ship_order)
        picked = container_by_code(session, cmd.container)
        tasks = [
            p
            for p in _picks(session, ship)
            if p.picked_container_id == picked.id and p.status is PickStatus.picked
        ]
        if not tasks:
            raise Conflict(
                f"container {picked.code} holds nothing picked and unpacked for {ship.number}",
                field="container",
                expected="a container picked for this ship order",
            )
        package_code = cmd.package
        exists = (
            session.scalar(select(Container).where(Container.code == package_code))
            if package_code
            else None
        )
        if exists is None:
            location = session.get(Location, picked.location_id) if picked.location_id else None
            if location is None:
                raise Conflict(
                    f"container {picked.code} has no location to make a package at",
                    field="container",
                )
            made = ledger.create_container(
                session,
                actor,
                f"{key}/package",
                CreateContainerCommand(
                    occurred_at=cmd.occurred_at,
                    container=package_code,
                    container_kind=cmd.package_kind,
                    location=location.code,
                ),
            )
            package_code = made.detail["container"]
        assert package_code is not None
        package = container_by_code(session, package_code, field="package")
        ledger.nest(
            session,
            actor,
            f"{key}/nest",
            NestCommand(occurred_at=cmd.occurred_at, container=picked.code, parent=package.code),
        )
        for task in tasks:
            task.package_container_id = package.id
            transition_pick(task, PickStatus.packed)
        now = utcnow()
        session.flush()
        _ship_roll_up(session, ship, actor, now)
        return OrderResult(
            number=ship.number,
            status=ship.status.value,
            detail={"container": picked.code, "package": package.code},
        )

    return run_order_event(session, actor, key, "ship_order.pack", cmd, build)


def ship(session: Session, actor: Actor, key: str, cmd: ShipShipOrder) -> OrderResult:
    """Ship every packed shipping container (ledger ship): the goods leave inventory.

    Everything picked must be packed. An order that does not allow partial shipments ships
    only when every line is picked in full; otherwise what is picked ships and the rest of the
    pick list is cancelled.
    """

    def build(session: Session, actor: Actor, key: str, cmd: ShipShipOrder) -> OrderResult:
        ship_order = _open_ship(session, cmd.ship_order)
        order = session.get(CustomerOrder, ship_order.customer_order_id)
        assert order is not None
        customer = session.get(Customer, order.customer_id)
        assert customer is not None
        picks = _picks(session, ship_order)
        unpacked = [p for p in picks if p.status is PickStatus.picked]
        if unpacked:
            codes = sorted({_code(session, p.picked_container_id) for p in unpacked})
            raise Conflict(
                f"picked containers are not packed yet: {', '.join(codes)}",
                field="ship_order",
                expected="every picked container packed into a shipping container",
            )
        packed = [p for p in picks if p.status is PickStatus.packed]
        if not packed:
            raise Conflict(
                f"ship order {ship_order.number} has nothing packed",
                field="ship_order",
                expected="a ship order with packed shipping containers",
            )
        ship_lines = _ship_lines(session, ship_order)
        if not order.allow_partial:
            short = [sl for sl in ship_lines if sl.quantity_picked < sl.quantity]
            if short:
                raise Conflict(
                    f"customer order {order.number} does not allow partial shipments and "
                    f"{len(short)} line(s) are not picked in full",
                    field="ship_order",
                    expected="every line picked in full",
                )
        packages = sorted({p.package_container_id for p in packed if p.package_container_id})
        shipped_events = []
        for i, package_id in enumerate(packages):
            result = ledger.ship(
                session,
                actor,
                f"{key}/ship/{i}",
                ShipCommand(
                    occurred_at=cmd.occurred_at,
                    container=_code(session, package_id),
                    customer=customer.code,
                    reference=cmd.reference or ship_order.number,
                ),
            )
            shipped_events.append(result.event_id)
        now = utcnow()
        by_line = {sl.id: sl for sl in ship_lines}
        for p in picks:
            if p.status is PickStatus.open:
                transition_pick(p, PickStatus.cancelled)
                continue
            if p.status is not PickStatus.packed:
                continue
            transition_pick(p, PickStatus.shipped)
            sl = by_line[p.ship_line_id]
            sl.quantity_shipped += p.picked_quantity
            line = session.get(CustomerLine, sl.customer_line_id)
            assert line is not None and p.picked_container_id is not None
            _ship_reservation(session, line, p)
            line.quantity_shipped += p.picked_quantity
        transition_ship_order(ship_order, ShipOrderStatus.shipped, actor=actor, at=now)
        session.flush()
        roll_up(session, order, actor, now)
        return OrderResult(
            number=ship_order.number,
            status=ship_order.status.value,
            detail={
                "customer_order": order.number,
                "customer_order_status": order.status.value,
                "packages": [_code(session, pid) for pid in packages],
                "ledger_events": shipped_events,
                "lines": [
                    {
                        "line_no": session.get(CustomerLine, sl.customer_line_id).line_no,  # type: ignore[union-attr]
                        "quantity": str(sl.quantity),
                        "shipped": str(sl.quantity_shipped),
                    }
                    for sl in ship_lines
                ],
            },
        )

    return run_order_event(session, actor, key, "ship_order.ship", cmd, build)


def _code(session: Session, container_id: int | None) -> str:
    code = session.scalar(select(Container.code).where(Container.id == container_id))
    return code or "-"


def _ship_reservation(session: Session, line: CustomerLine, p: Pick) -> None:
    """The picked container's reservation for the line becomes shipped."""
    left = p.picked_quantity
    for res in session.scalars(
        select(Reservation)
        .where(
            Reservation.customer_line_id == line.id,
            Reservation.container_id == p.picked_container_id,
            Reservation.item_id == p.item_id,
            Reservation.status == ReservationStatus.active,
        )
        .order_by(Reservation.id)
    ):
        if left <= 0:
            break
        taken = min(left, res.quantity)
        if taken < res.quantity:
            res.quantity -= taken
            session.add(
                Reservation(
                    customer_line_id=line.id,
                    container_id=res.container_id,
                    item_id=res.item_id,
                    lot_id=res.lot_id,
                    quantity=taken,
                    status=ReservationStatus.shipped,
                    created_at=res.created_at,
                    created_by=res.created_by,
                )
            )
        else:
            transition_reservation(res, ReservationStatus.shipped)
        line.quantity_reserved -= taken
        left -= taken


def cancel_ship_order(
    session: Session, actor: Actor, key: str, cmd: CancelShipOrder
) -> OrderResult:
    """Cancel a ship order that has not shipped; picked goods stay reserved for their lines."""

    def build(session: Session, actor: Actor, key: str, cmd: CancelShipOrder) -> OrderResult:
        ship_order = _open_ship(session, cmd.ship_order)
        now = utcnow()
        for p in _picks(session, ship_order):
            if p.status is PickStatus.open:
                transition_pick(p, PickStatus.cancelled)
        transition_ship_order(ship_order, ShipOrderStatus.cancelled, actor=actor, at=now)
        order = session.get(CustomerOrder, ship_order.customer_order_id)
        assert order is not None
        session.flush()
        roll_up(session, order, actor, now)
        return OrderResult(
            number=ship_order.number, status=ship_order.status.value, detail={"reason": cmd.reason}
        )

    return run_order_event(session, actor, key, "ship_order.cancel", cmd, build)


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
    lots = {
        lot.id: lot
        for lot in session.scalars(
            select(Lot).where(Lot.id.in_({p.lot_id for p in picks if p.lot_id}))
        )
    }
    views = []
    for p in picks:
        cont = session.get(Container, p.container_id)
        assert cont is not None
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
    query = select(ShipOrder.number).order_by(ShipOrder.id.desc()).limit(limit)
    if status is not None:
        query = query.where(ShipOrder.status == status)
    return [ship_order_view(session, number) for number in session.scalars(query)]
