"""Production: material consumed into a work-order step, produced, scrapped, returned."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isom.errors import Conflict, InvalidInput
from isom.ledger.models import (
    ContentStatus,
    Event,
    EventKind,
    EventLine,
)
from isom.ledger.operations.counting import check_quantity
from isom.ledger.operations.frame import (
    _container_location,
    _event_at,
    _label_item,
    _lock,
    _lot,
    _lot_code,
    _lot_in,
    _new_container_of,
    _pick_line,
    _require_line,
    operation,
)
from isom.ledger.posting import COST_QUANTUM, Box, Edge, Posting, plain
from isom.ledger.schemas import (
    ConsumeCommand,
    LineRef,
    ProduceCommand,
    ReturnCommand,
    ScrapCommand,
)
from isom.masterdata import services as md
from isom.masterdata.models import Item


def step_place(step: str) -> str:
    """The virtual place of a work-order step: what it holds is its work in process."""
    return f"step:{step}"


def _consume(
    session: Session, event: Event, cmd: ConsumeCommand, posting: Posting
) -> dict[str, Any]:
    """Material leaves a container into a work-order step."""
    cont = _lock(session, posting, container=cmd.container)["container"]
    item, lot, row = _pick_line(session, posting, cont, cmd)
    row = _require_line(cont, item, lot, row)
    if row.status == ContentStatus.hold:
        raise Conflict(
            f"{item.code} in {cont.code} is on hold",
            field="container",
            expected="material that is not on hold",
        )
    if (
        lot is not None
        and lot.expiry_date is not None
        and lot.expiry_date < event.occurred_at.date()
    ):
        raise Conflict(
            f"lot {lot.code} of {item.code} expired on {lot.expiry_date}",
            field="lot",
            expected="a lot that has not expired",
        )
    check_quantity(session, item, cmd.quantity)
    posting.move_line(row, cmd.quantity, cont, step_place(cmd.step), step=cmd.step)
    _event_at(event, _container_location(session, posting, cont))
    event.reference = cmd.step
    return {"step": cmd.step}


consume = operation(EventKind.consume, _consume)


def _produce(
    session: Session, event: Event, cmd: ProduceCommand, posting: Posting
) -> dict[str, Any]:
    """Material comes out of a work-order step, traced to what the step consumed."""
    if cmd.container and (cmd.new_container or cmd.location):
        raise InvalidInput(
            "give container, or new_container/location, not both",
            field="container",
            expected="one target",
        )
    item = _label_item(posting, md.get_item(session, cmd.item))
    check_quantity(session, item, cmd.quantity)
    if cmd.container:
        target = _lock(session, posting, container=cmd.container)["container"]
        location = _container_location(session, posting, target)
    else:
        if not cmd.location:
            raise InvalidInput(
                "a new container needs a location",
                field="location",
                expected="the location code where the output is put",
            )
        location = md.get_location(session, cmd.location, field="location")
        target = _new_container_of(session, posting, event, cmd, location, "new_container")
    lot = _lot_in(session, posting, event, item, cmd.lot, cmd.quantity, field="lot")
    status = ContentStatus.wip if cmd.wip else ContentStatus.available
    cost = cmd.unit_cost if cmd.unit_cost is not None else item.standard_cost
    place = step_place(cmd.step)
    posting.transfer(
        item_id=item.id,
        lot_id=lot.id if lot else None,
        quantity=cmd.quantity,
        unit_cost=cost,
        source=place,
        target=target,
        source_status=status,
        target_status=status,
        source_wip=cmd.step,
        target_wip=cmd.step if cmd.wip else None,
    )
    consumed = session.execute(
        select(EventLine.lot_id, EventLine.item_id)
        .where(EventLine.place == place, EventLine.lot_id.is_not(None))
        .group_by(EventLine.lot_id, EventLine.item_id)
        .having(func.sum(EventLine.quantity) > 0)
    ).all()
    for lot_id, item_id in consumed:
        posting.edges.append(
            Edge(
                item_id=item_id,
                quantity=cmd.quantity,
                from_lot_id=lot_id,
                to_lot_id=lot.id if lot else None,
                to_container_id=target.id,
            )
        )
    if not consumed:
        posting.edges.append(
            Edge(
                item_id=item.id,
                quantity=cmd.quantity,
                to_lot_id=lot.id if lot else None,
                to_container_id=target.id,
            )
        )
    _event_at(event, location)
    event.reference = cmd.step
    return {"step": cmd.step, "container": target.code, "lot": lot.code if lot else None}


produce = operation(EventKind.produce, _produce)


def _scrap(session: Session, event: Event, cmd: ScrapCommand, posting: Posting) -> dict[str, Any]:
    """Material leaves a container as scrap, with a reason."""
    cont = _lock(session, posting, container=cmd.container)["container"]
    item, lot, row = _pick_line(session, posting, cont, cmd)
    row = _require_line(cont, item, lot, row)
    check_quantity(session, item, cmd.quantity)
    posting.move_line(row, cmd.quantity, cont, "scrap")
    event.reason_code = cmd.reason_code.value
    event.reason = cmd.reason
    _event_at(event, _container_location(session, posting, cont))
    return {"container": cont.code}


scrap = operation(EventKind.scrap, _scrap)


def _return(session: Session, event: Event, cmd: ReturnCommand, posting: Posting) -> dict[str, Any]:
    """Unused material of a step, or a line of its WIP output, goes back to plain stock."""
    if cmd.into and (cmd.new_container or cmd.location):
        raise InvalidInput(
            "give into, or new_container/location, not both", field="into", expected="one target"
        )
    codes = {"container": cmd.container} if cmd.container else {}
    if cmd.into:
        codes["into"] = cmd.into
    found = _lock(session, posting, **codes) if codes else {}
    item = _label_item(posting, md.get_item(session, cmd.item))
    check_quantity(session, item, cmd.quantity)
    source, item, lot_id, cost, source_status = _return_source(
        session, posting, cmd, item, found.get("container")
    )
    target = found.get("into") or _return_target(session, posting, event, cmd, source)
    posting.transfer(
        item_id=item.id,
        lot_id=lot_id,
        quantity=cmd.quantity,
        unit_cost=cost,
        source=source,
        target=target,
        source_status=source_status,
        target_status=ContentStatus.available,
        source_wip=cmd.step,
        target_wip=None,
    )
    from_box = source if isinstance(source, Box) else None
    posting.edges.append(
        Edge(
            item_id=item.id,
            quantity=cmd.quantity,
            from_lot_id=lot_id,
            from_container_id=from_box.id if from_box else None,
            to_lot_id=lot_id,
            to_container_id=target.id,
        )
    )
    event.reference = cmd.step
    event.reason = cmd.reason
    _event_at(event, _container_location(session, posting, target))
    return {
        "step": cmd.step,
        "from": from_box.code if from_box else source,
        "container": target.code,
        "unit_cost": plain(cost),
    }


return_to_stock = operation(EventKind.return_, _return)


def _return_source(
    session: Session, posting: Posting, cmd: ReturnCommand, item: Item, container: Box | None
) -> tuple[Box | str, Item, int | None, Decimal, ContentStatus]:
    """Where returned material comes from: a container's line tagged with the step, or the
    step's own place; with its item, lot, unit cost and status."""
    if container is None:
        lot_id, cost = _in_step(session, posting, cmd, item)
        return step_place(cmd.step), item, lot_id, cost, ContentStatus.available
    item, _lot, row = _pick_line(
        session, posting, container, LineRef(item=cmd.item, lot=cmd.lot, wip_step=cmd.step)
    )
    if row is None:
        raise Conflict(
            f"container {container.code} holds no {item.code} that is WIP of {cmd.step}",
            field="container",
            expected=f"a container with {item.code} tagged with step {cmd.step}",
        )
    if row.status == ContentStatus.hold:
        raise Conflict(
            f"{item.code} in {container.code} is on hold; release it before returning it",
            field="container",
            expected="material that is not on hold",
        )
    return container, item, row.lot_id, row.unit_cost, row.status


def _return_target(
    session: Session, posting: Posting, event: Event, cmd: ReturnCommand, source: Box | str
) -> Box:
    """Where returned material goes when no container is named: a new container at the given
    location, or plain stock where the tagged line already is."""
    if cmd.new_container or cmd.location:
        if not cmd.location:
            raise InvalidInput(
                "a new container needs a location",
                field="location",
                expected="the stock location the material goes back to",
            )
        return _new_container_of(
            session,
            posting,
            event,
            cmd,
            md.get_location(session, cmd.location, field="location"),
            "new_container",
        )
    if not isinstance(source, Box):
        raise InvalidInput(
            "say where the returned material goes",
            field="location",
            expected="into (an existing container) or a location for a new container",
        )
    return source  # the tagged line becomes plain stock where it is


def _in_step(
    session: Session, posting: Posting, cmd: ReturnCommand, item: Item
) -> tuple[int | None, Decimal]:
    """The lot a return takes from the step's place, and the average cost it came in at.

    The place holds what was consumed into the step and not yet returned; several lots of the
    item there need the lot named.
    """
    lot = _lot(session, posting, item, cmd.lot, field="lot") if cmd.lot else None
    query = select(EventLine.lot_id, EventLine.quantity, EventLine.unit_cost).where(
        EventLine.place == step_place(cmd.step), EventLine.item_id == item.id
    )
    if lot is not None:
        query = query.where(EventLine.lot_id == lot.id)
    held: dict[int | None, tuple[Decimal, Decimal]] = {}
    for lot_id, q, c in session.execute(query):
        q0, v0 = held.get(lot_id, (Decimal(0), Decimal(0)))
        held[lot_id] = (q0 + q, v0 + q * c)
    held = {k: v for k, v in held.items() if v[0] > 0}
    if not held:
        raise Conflict(
            f"step {cmd.step} holds no {item.code}" + (f" of lot {lot.code}" if lot else ""),
            field="item",
            expected="material that was consumed into the step and not yet returned",
        )
    if len(held) > 1:
        lots = ", ".join(sorted(f"{_lot_code(session, k)}: {plain(v[0])}" for k, v in held.items()))
        raise InvalidInput(
            f"step {cmd.step} holds several lots of {item.code} ({lots})",
            field="lot",
            expected="the lot to return",
        )
    lot_id, (quantity, value) = next(iter(held.items()))
    if lot_id is not None:
        posting.labels["lot"][lot_id] = _lot_code(session, lot_id)
    if cmd.quantity > quantity:
        raise Conflict(
            f"step {cmd.step} holds {plain(quantity)} of {item.code}; {plain(cmd.quantity)} "
            "was asked back",
            field="quantity",
            expected=f"at most {plain(quantity)}",
        )
    return lot_id, (value / quantity).quantize(COST_QUANTUM, ROUND_HALF_EVEN)
