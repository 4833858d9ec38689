"""Movement: containers moved, nested, unnested, split, merged, and shipped out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import Conflict, InvalidInput
from isom.ledger import nesting
from isom.ledger.models import (
    Container,
    ContainerStatus,
    Content,
    ContentStatus,
    Event,
    EventKind,
)
from isom.ledger.operations.counting import _item_code
from isom.ledger.operations.frame import (
    _container_location,
    _event_at,
    _lock,
    _lock_at,
    _lock_subtree,
    _new_container_of,
    _pick_line,
    _require_line,
    lock_boxes,
    operation,
)
from isom.ledger.posting import Box, Edge, Held, Move, Posting
from isom.ledger.schemas import (
    MergeCommand,
    MoveCommand,
    NestCommand,
    ShipCommand,
    SplitCommand,
    UnnestCommand,
)
from isom.masterdata import services as md


def _move(session: Session, event: Event, cmd: MoveCommand, posting: Posting) -> dict[str, Any]:
    """Put away or move a container; everything nested in it moves along."""
    found, target = _lock_at(
        session, posting, ("to_location", cmd.to_location), container=cmd.container
    )
    cont = found["container"]
    assert target is not None
    if cont.location_id == target.id and cont.parent_id is None:
        raise Conflict(
            f"container {cont.code} is already at {target.code}",
            field="to_location",
            expected="a different location",
        )
    source = _container_location(session, posting, cont)
    _lock_subtree(session, posting, cont)
    posting.note_location(target)
    posting.moves.append(Move(cont, target.id, None))
    _event_at(event, target)
    return {"container": cont.code, "from": source.code if source else None, "to": target.code}


move = operation(EventKind.move, _move)


def _lock_two(
    session: Session, posting: Posting, container: str, field: str, other: str, same: str
) -> tuple[Box, Box]:
    """The command's container and the other one it names in `field`, locked; refused with
    `same` when both are one container."""
    if other == container:
        raise InvalidInput(same, field=field, expected="another container")
    found = _lock(session, posting, container=container, **{field: other})
    return found["container"], found[field]


def _nest(session: Session, event: Event, cmd: NestCommand, posting: Posting) -> dict[str, Any]:
    """Put a container into or onto another; refused if it would make a cycle."""
    child, parent = _lock_two(
        session,
        posting,
        cmd.container,
        "parent",
        cmd.parent,
        "a container cannot be nested in itself",
    )
    if child.id in nesting.ancestor_ids(session, parent.id):
        raise Conflict(
            f"{parent.code} is inside {child.code}: nesting would make a cycle",
            field="parent",
            expected="a container that is not inside the one being nested",
        )
    if child.parent_id == parent.id:
        raise Conflict(f"{child.code} is already in {parent.code}", field="parent")
    _lock_subtree(session, posting, child)
    loc = _container_location(session, posting, parent)
    posting.moves.append(Move(child, parent.location_id, parent.id))
    _event_at(event, loc)
    return {"container": child.code, "parent": parent.code}


nest = operation(EventKind.nest, _nest)


def _unnest(session: Session, event: Event, cmd: UnnestCommand, posting: Posting) -> dict[str, Any]:
    """Take a container off its parent."""
    cont = _lock(session, posting, container=cmd.container)["container"]
    if cont.parent_id is None:
        raise Conflict(f"{cont.code} is not nested in anything", field="container")
    target = (
        md.get_location(session, cmd.to_location, field="to_location")
        if cmd.to_location
        else _container_location(session, posting, cont)
    )
    assert target is not None
    posting.note_location(target)
    _lock_subtree(session, posting, cont)
    parent = session.get(Container, cont.parent_id)
    posting.moves.append(Move(cont, target.id, None))
    _event_at(event, target)
    return {"container": cont.code, "from_parent": parent.code if parent else None}


unnest = operation(EventKind.unnest, _unnest)


def _split(session: Session, event: Event, cmd: SplitCommand, posting: Posting) -> dict[str, Any]:
    """Take part of a container's contents into a new or an existing container."""
    if cmd.into and cmd.new_container:
        raise InvalidInput(
            "give either into or new_container, not both",
            field="into",
            expected="one of into, new_container",
        )
    if cmd.into == cmd.container:
        raise InvalidInput(
            "cannot split a container into itself", field="into", expected="another container"
        )
    codes = {"container": cmd.container}
    if cmd.into:
        codes["into"] = cmd.into
    found = _lock(session, posting, **codes)
    source = found["container"]
    location = _container_location(session, posting, source)
    if location is None:
        raise Conflict(f"container {source.code} has no location", field="container")
    target = found.get("into") or _new_container_of(
        session, posting, event, cmd, location, "new_container"
    )
    for i, line in enumerate(cmd.lines):
        item, lot, row = _pick_line(session, posting, source, line, field=f"lines[{i}].item")
        row = _require_line(source, item, lot, row)
        _container_to_container(posting, row, line.quantity, source, target)
    _event_at(event, location)
    return {"container": source.code, "into": target.code}


split = operation(EventKind.split, _split)


def _container_to_container(
    posting: Posting, row: Content | Held, quantity: Decimal, source: Box, target: Box
) -> None:
    """Move `quantity` of a content line to another container, with its cost, status and step,
    and record the container-to-container genealogy edge."""
    posting.move_line(row, quantity, source, target)
    posting.edges.append(
        Edge(
            item_id=row.item_id,
            quantity=quantity,
            from_lot_id=row.lot_id,
            from_container_id=source.id,
            to_lot_id=row.lot_id,
            to_container_id=target.id,
        )
    )


def _merge(session: Session, event: Event, cmd: MergeCommand, posting: Posting) -> dict[str, Any]:
    """Empty one container into another."""
    source, target = _lock_two(
        session, posting, cmd.container, "into", cmd.into, "cannot merge a container into itself"
    )
    if session.scalar(select(Container.id).where(Container.parent_id == source.id).limit(1)):
        raise Conflict(
            f"{source.code} has containers nested in it; un-nest them first", field="container"
        )
    rows = session.scalars(select(Content).where(Content.container_id == source.id)).all()
    if not rows:
        raise Conflict(f"container {source.code} is empty: nothing to merge", field="container")
    for row in rows:
        _container_to_container(posting, row, row.quantity, source, target)
    _event_at(event, _container_location(session, posting, target))
    return {"container": source.code, "into": target.code}


merge = operation(EventKind.merge, _merge)


def _ship(session: Session, event: Event, cmd: ShipCommand, posting: Posting) -> dict[str, Any]:
    """A container, with everything nested in it, leaves to a customer."""
    customer = md.get_customer(session, cmd.customer)
    root = _lock(session, posting, container=cmd.container)["container"]
    if root.parent_id is not None:
        parent = session.get(Container, root.parent_id)
        raise Conflict(
            f"{root.code} is nested in {parent.code if parent else root.parent_id}; "
            "ship the outer container or un-nest this one first",
            field="container",
        )
    place = f"customer:{customer.code}"
    shipped = 0
    for cont in _lock_subtree(session, posting, root):
        for row in posting.held[cont.id]:
            if row.status != ContentStatus.available:
                raise Conflict(
                    f"{cont.code} holds {_item_code(session, row.item_id)} that is "
                    f"{row.status.value}; only available stock ships",
                    field="container",
                )
            posting.transfer(
                item_id=row.item_id,
                lot_id=row.lot_id,
                quantity=row.quantity,
                unit_cost=row.unit_cost,
                source=cont,
                target=place,
                source_status=row.status,
                target_status=row.status,
            )
            shipped += 1
        posting.moves.append(Move(cont, cont.location_id, cont.parent_id, ContainerStatus.shipped))
    if not shipped:
        raise Conflict(f"container {root.code} is empty: nothing to ship", field="container")
    event.reference = cmd.reference
    _event_at(event, _container_location(session, posting, root))
    return {"container": root.code, "customer": customer.code}


ship = operation(EventKind.ship, _ship)


def _parent_to_return_to(session: Session, posting: Posting, cont: Box, parent_id: int) -> Box:
    """The parent a reversal puts `cont` back onto: still active, and not inside `cont` now."""
    parent = posting.containers.get(parent_id) or lock_boxes(session, [parent_id])[parent_id]
    if parent.status != ContainerStatus.active:
        raise Conflict(
            f"{cont.code} came off {parent.code}, which is {parent.status.value} now; "
            "it cannot go back onto it",
            field="event_id",
        )
    if cont.id in nesting.ancestor_ids(session, parent.id):
        raise Conflict(
            f"{parent.code} is inside {cont.code} now: putting {cont.code} back onto it "
            "would make a cycle",
            field="event_id",
        )
    return parent
