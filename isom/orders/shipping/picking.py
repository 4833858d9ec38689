"""Picking (a scan takes goods for a pick task, whole or split) and packing into packages."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import Conflict, InsufficientStock
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.ledger.enums import ContentStatus
from isom.ledger.schemas import CreateContainerCommand, NestCommand, QuantityLine
from isom.ledger.schemas import SplitCommand as LedgerSplit
from isom.masterdata.models import Item, Location
from isom.orders.book import result
from isom.orders.events import run_order_event
from isom.orders.models import (
    CustomerLine,
    Pick,
    PickStatus,
    Reservation,
    ReservationStatus,
    ShipLine,
    ShipOrder,
)
from isom.orders.reservations import (
    ZERO,
    container_by_code,
    stock_of,
)
from isom.orders.schemas import (
    OrderResult,
    PackCommand,
    PickScan,
)
from isom.orders.shipping.common import _open_ship, _picks, _ship_roll_up
from isom.orders.states import transition_pick
from isom.types import utcnow

Actor = ledger.Actor


def _move_reservation(
    session: Session, line: CustomerLine, task: Pick, qty: Decimal, to_id: int, actor: Actor
) -> None:
    """Picked goods keep their reservation: it follows them into the tote they went to."""

    def reserve(quantity: Decimal) -> None:
        """Set `quantity` aside for the line in the container it now sits in."""
        session.add(
            Reservation(
                customer_line_id=line.id,
                container_id=to_id,
                item_id=task.item_id,
                lot_id=task.lot_id,
                quantity=quantity,
                status=ReservationStatus.active,
                created_at=utcnow(),
                created_by=actor.name,
            )
        )

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
        reserve(moved)
    if left > 0:  # the line had less set aside here than was picked: reserve the difference
        reserve(left)
        line.quantity_reserved += left


def pick(session: Session, actor: Actor, key: str, cmd: PickScan) -> OrderResult:
    """Pick by scanning a container of the pick list; a part of it is split into a tote.

    Taking a whole container moves nothing in the ledger; taking part of one is a ledger split.
    """
    return run_order_event(session, actor, key, "ship_order.pick", cmd, _pick)


def _pick(session: Session, actor: Actor, key: str, cmd: PickScan) -> OrderResult:
    ship = _open_ship(session, cmd.ship_order)
    source = container_by_code(session, cmd.container)
    task = _open_task(session, ship, source)
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
        ledger_queries.lots_by_id(session, [task.lot_id])[task.lot_id].code if task.lot_id else None
    )
    whole = _whole_available(session, cmd, task, source, item, lot_code, qty)
    now = utcnow()
    if task.whole_container and whole and cmd.into is None:
        picked_id = source.id
        picked_code = source.code
    else:
        picked_code = _split_into_tote(session, actor, key, cmd, source, item, lot_code, qty)
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
    return result(
        ship,
        container=source.code,
        picked_container=picked_code,
        item=item.code,
        lot=lot_code,
        quantity=str(qty),
        short=str(task.quantity - qty),
    )


def _open_task(session: Session, ship: ShipOrder, source: ledger_queries.ContainerRef) -> Pick:
    """The first open pick task on this container, refused with the containers left to pick."""
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
                for code in [ledger_queries.container_code(session, p.container_id) or "-"]
            }
        )
        raise Conflict(
            f"container {source.code} is not on the open pick list of {ship.number}",
            field="container",
            expected="one of: " + (", ".join(expected) or "nothing left to pick"),
        )
    return tasks[0]


def _whole_available(
    session: Session,
    cmd: PickScan,
    task: Pick,
    source: ledger_queries.ContainerRef,
    item: Item,
    lot_code: str | None,
    qty: Decimal,
) -> bool:
    """Whether `qty` is all the container holds; refused when it holds less available."""
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
    return len(here) == 1 and here[0].whole and here[0].quantity == qty


def _split_into_tote(
    session: Session,
    actor: Actor,
    key: str,
    cmd: PickScan,
    source: ledger_queries.ContainerRef,
    item: Item,
    lot_code: str | None,
    qty: Decimal,
) -> str:
    """A ledger split of the picked part into the scanned tote (or a new one): its code."""
    tote_exists = (
        cmd.into is not None and ledger_queries.container_by_code(session, cmd.into) is not None
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
    code: str = split.detail["into"]
    return code


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
        exists = ledger_queries.container_by_code(session, package_code) if package_code else None
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
        return result(ship, container=picked.code, package=package.code)

    return run_order_event(session, actor, key, "ship_order.pack", cmd, build)
