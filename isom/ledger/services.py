"""The ledger's operations: the one write path for material.

Each operation takes the session first, then who acts, the idempotency key and a validated
command. It checks everything before it writes, builds a balanced `Posting`, and applies it
with `posting.post`, all in the caller's transaction. It never commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from functools import partial
from typing import Any, TypeVar, cast

from pydantic import BaseModel
from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from isom.actors import Actor as Actor  # re-exported: the operations are called with it
from isom.config import get_settings
from isom.errors import Conflict, IdempotencyKeyReused, InvalidInput, NotFound
from isom.ledger import nesting, tolerance
from isom.ledger.models import (
    Container,
    ContainerStatus,
    Content,
    ContentStatus,
    Counter,
    Event,
    EventKind,
    EventLine,
    EventMove,
    Genealogy,
    Lot,
)
from isom.ledger.posting import COST_QUANTUM, Edge, Line, Move, Posting, plain, post
from isom.ledger.schemas import (
    AdjustCommand,
    ConsumeCommand,
    CountCommand,
    CreateContainerCommand,
    EventResult,
    HoldCommand,
    LineRef,
    LotIn,
    MergeCommand,
    MoveCommand,
    NestCommand,
    ProduceCommand,
    ReceiveCommand,
    ReleaseCommand,
    ReturnCommand,
    ReverseCommand,
    ScrapCommand,
    ShipCommand,
    SplitCommand,
    UnnestCommand,
)
from isom.masterdata import services as md
from isom.masterdata.models import Item, Location, Tracking, Unit
from isom.types import utcnow

C = TypeVar("C", bound=BaseModel)


# ---------------------------------------------------------------------------------------------
# The frame every operation runs in: idempotency, the event row, posting, the stored answer.


def request_hash(kind: str, command: BaseModel) -> str:
    """A fingerprint of the request, to tell a replay from a conflicting reuse of a key (every
    domain's idempotent commands use it: ledger, production, orders)."""
    body = json.dumps(
        {"kind": str(kind), "command": command.model_dump(mode="json")},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


_PRIOR_EVENT = select(Event.id, Event.kind, Event.request_hash, Event.result).where(
    Event.key == bindparam("key")
)
_EVENT_FIELDS_SET_BY_OPERATIONS = (
    "site_id",
    "location_id",
    "reason",
    "reason_code",
    "reference",
    "reverses_event_id",
)
_EVENT_TABLE = cast(Table, Event.__table__)
_INSERT_EVENT = insert(_EVENT_TABLE).returning(_EVENT_TABLE.c.id)
_FINISH_EVENT = (
    update(_EVENT_TABLE)
    .where(_EVENT_TABLE.c.id == bindparam("event_id"))
    .values(
        result=bindparam("new_result"),
        **{name: bindparam(f"new_{name}") for name in _EVENT_FIELDS_SET_BY_OPERATIONS},
    )
)


def _run(
    session: Session,
    actor: Actor,
    key: str,
    kind: EventKind,
    command: C,
    build: Callable[[Session, Event, C, Posting], dict[str, Any]],
) -> EventResult:
    digest = request_hash(kind, command)
    prior = session.connection().execute(_PRIOR_EVENT, {"key": key}).first()
    if prior is not None:
        if prior.request_hash != digest:
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} was already used for a different request "
                f"(event {prior.id}, {prior.kind.value})",
                field="Idempotency-Key",
                expected="a new key for a new change, or the same body to replay",
            )
        return EventResult.model_validate({**prior.result, "replayed": True})
    now = utcnow()
    occurred = getattr(command, "occurred_at", None) or now
    # The event row is written with Core (the ORM's unit of work costs more than the whole
    # event); the operation fills in where and why on this transient object.
    event = Event(
        key=key,
        kind=kind,
        occurred_at=occurred,
        recorded_at=now,
        actor=actor.name,
        user_id=actor.user_id,
        device=actor.device,
        request_hash=digest,
        command=command.model_dump(mode="json"),
    )
    event.id = (
        session.connection()
        .execute(
            _INSERT_EVENT,
            {
                "key": key,
                "kind": kind,
                "occurred_at": occurred,
                "recorded_at": now,
                "actor": actor.name,
                "user_id": actor.user_id,
                "device": actor.device,
                "request_hash": digest,
                "command": event.command,
                "result": {},
            },
        )
        .scalar_one()
    )
    posting = Posting()
    detail = build(session, event, command, posting)
    out = post(session, event, posting)
    result = EventResult(
        event_id=event.id,
        key=key,
        kind=kind.value,
        containers=sorted({posting.labels["container"][cid] for cid in posting.containers}),
        lines=out["lines"],
        balances=out["balances"],
        detail=detail,
    )
    session.connection().execute(
        _FINISH_EVENT,
        {
            "event_id": event.id,
            "new_result": result.model_dump(mode="json"),
            **{f"new_{name}": getattr(event, name) for name in _EVENT_FIELDS_SET_BY_OPERATIONS},
        },
    )
    return result


# ---------------------------------------------------------------------------------------------
# Look-ups shared by the operations.


def _label_item(posting: Posting, item: Item) -> Item:
    posting.labels["item"][item.id] = item.code
    return item


def _label_container(posting: Posting, container: Container) -> Container:
    posting.labels["container"][container.id] = container.code
    posting.containers[container.id] = container
    return container


_LOCK_BY_CODE = (
    select(Container)
    .where(Container.code.in_(bindparam("codes", expanding=True)))
    .order_by(Container.id)
    .with_for_update()
)
_LOCK_SUBTREE = (
    select(Container)
    .where(Container.id.in_(nesting.SUBTREE))
    .order_by(Container.id)
    .with_for_update()
)


def _lock(session: Session, posting: Posting, **codes: str) -> dict[str, Container]:
    """Lock the named containers in ascending id order (no deadlocks) and check they exist."""
    rows = session.scalars(_LOCK_BY_CODE, {"codes": sorted(set(codes.values()))}).all()
    by_code = {c.code: c for c in rows}
    found: dict[str, Container] = {}
    for field_name, code in codes.items():
        cont = by_code.get(code)
        if cont is None:
            raise NotFound(
                f"no container with code {code!r}",
                field=field_name,
                expected="the code on a container's label",
            )
        if cont.status != ContainerStatus.active:
            raise Conflict(
                f"container {code} is {cont.status.value}; it can no longer change",
                field=field_name,
            )
        found[field_name] = _label_container(posting, cont)
    return found


def _lock_subtree(session: Session, posting: Posting, root: Container) -> list[Container]:
    """Lock everything nested in `root` (after `root` itself is locked, so the tree is fresh)."""
    rows = session.scalars(_LOCK_SUBTREE, {"root_id": root.id}).all()
    posting.subtrees[root.id] = [c.id for c in rows]
    return [_label_container(posting, c) for c in rows]


def _lot(session: Session, posting: Posting, item: Item, code: str, *, field: str) -> Lot:
    lot = session.scalar(select(Lot).where(Lot.item_id == item.id, Lot.code == code))
    if lot is None:
        raise NotFound(
            f"item {item.code} has no lot {code!r}", field=field, expected="an existing lot"
        )
    posting.labels["lot"][lot.id] = lot.code
    return lot


def _lot_in(
    session: Session,
    posting: Posting,
    event: Event,
    item: Item,
    lot_in: LotIn | None,
    quantity: Decimal,
    *,
    field: str,
    supplier_id: int | None = None,
) -> Lot | None:
    """The lot to receive or produce into: checked against the item's tracking, made if new."""
    if item.tracking == Tracking.none:
        if lot_in is not None:
            raise InvalidInput(
                f"item {item.code} is not lot-tracked", field=field, expected="no lot"
            )
        return None
    if lot_in is None:
        raise InvalidInput(
            f"item {item.code} is {item.tracking.value}-tracked",
            field=field,
            expected=f"a {item.tracking.value} code",
        )
    if item.tracking == Tracking.serial and quantity != 1:
        raise InvalidInput(
            f"item {item.code} is serial-tracked: one unit per serial number",
            field=field.rsplit(".", 1)[0] + ".quantity",
            expected="1",
        )
    lot = session.scalar(select(Lot).where(Lot.item_id == item.id, Lot.code == lot_in.code))
    if lot is None:
        expiry = lot_in.expiry_date
        if expiry is None and item.shelf_life_days:
            expiry = event.occurred_at.date() + dt.timedelta(days=item.shelf_life_days)
        lot = Lot(
            item_id=item.id,
            code=lot_in.code,
            supplier_id=supplier_id,
            supplier_lot=lot_in.supplier_lot,
            expiry_date=expiry,
            created_event_id=event.id,
        )
        session.add(lot)
        session.flush()
    else:
        if item.tracking == Tracking.serial:
            held = session.scalar(
                select(func.count()).select_from(Content).where(Content.lot_id == lot.id)
            )
            if held:
                raise Conflict(
                    f"serial {lot.code} of {item.code} is already in stock", field=f"{field}.code"
                )
        if lot_in.expiry_date is not None and lot.expiry_date not in (None, lot_in.expiry_date):
            raise Conflict(
                f"lot {lot.code} of {item.code} expires on {lot.expiry_date}, "
                f"not {lot_in.expiry_date}",
                field=f"{field}.expiry_date",
                expected=str(lot.expiry_date),
            )
    posting.labels["lot"][lot.id] = lot.code
    return lot


def _pick_line(
    session: Session, posting: Posting, container: Container, ref: LineRef, *, field: str = "item"
) -> tuple[Item, Lot | None, Content | None]:
    """The content line of `container` that `ref` names (item, and lot/status/step if needed)."""
    item = _label_item(posting, md.get_item(session, ref.item, field=field))
    lot = _lot(session, posting, item, ref.lot, field="lot") if ref.lot else None
    query = select(Content).where(Content.container_id == container.id, Content.item_id == item.id)
    if lot is not None:
        query = query.where(Content.lot_id == lot.id)
    if ref.status is not None:
        query = query.where(Content.status == ref.status)
    if ref.wip_step is not None:
        query = query.where(Content.wip_step == ref.wip_step)
    rows = session.scalars(query.order_by(Content.id)).all()
    if len(rows) > 1:
        choices = "; ".join(
            f"lot {_lot_code(session, r.lot_id)} "
            f"{r.status.value}{' ' + r.wip_step if r.wip_step else ''}: {r.quantity}"
            for r in rows
        )
        raise InvalidInput(
            f"container {container.code} has several lines of {item.code} ({choices})",
            field="lot",
            expected="a lot, status or wip_step that names one line",
        )
    if not rows:
        return item, lot, None
    row = rows[0]
    if row.lot_id is not None and lot is None:
        lot = session.get(Lot, row.lot_id)
        assert lot is not None
        posting.labels["lot"][lot.id] = lot.code
    return item, lot, row


def _lot_code(session: Session, lot_id: int | None) -> str:
    if lot_id is None:
        return "-"
    lot = session.get(Lot, lot_id)
    return lot.code if lot else str(lot_id)


def _require_line(
    container: Container, item: Item, lot: Lot | None, row: Content | None
) -> Content:
    if row is None:
        raise Conflict(
            f"container {container.code} holds no {item.code}"
            + (f" of lot {lot.code}" if lot else ""),
            field="item",
            expected="an item and lot the container holds",
        )
    return row


def _event_at(event: Event, location: Location | None) -> None:
    if location is not None:
        event.location_id = location.id
        event.site_id = location.site_id


def _container_location(session: Session, posting: Posting, cont: Container) -> Location | None:
    if cont.location_id is None:
        return None
    loc = session.get(Location, cont.location_id)
    if loc is not None:
        posting.note_location(loc)
    return loc


def next_container_code(session: Session, prefix: str) -> str:
    """A fresh container code from a counter that is never reused, even under concurrency.

    One upsert: concurrent first uses on a new database queue on the row instead of both
    inserting it (which PostgreSQL refused with a unique violation).
    """
    dialect = session.get_bind().dialect.name
    stmt: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Counter)
    stmt = stmt.values(name="container", value=1).on_conflict_do_update(
        index_elements=[Counter.name], set_={"value": Counter.value + 1}
    )
    updated = session.execute(stmt.returning(Counter.value)).scalar_one()
    return f"{prefix}{updated:07d}"


def _new_container(
    session: Session,
    posting: Posting,
    event: Event,
    *,
    code: str | None,
    kind: str,
    location: Location,
    field: str,
) -> Container:
    if code is None:
        code = next_container_code(session, get_settings().container_prefix)
        while session.scalar(select(Container.id).where(Container.code == code)) is not None:
            code = next_container_code(session, get_settings().container_prefix)
    elif session.scalar(select(Container.id).where(Container.code == code)) is not None:
        raise Conflict(
            f"container code {code!r} is already in use",
            field=field,
            expected="a code not used by any other container",
        )
    cont = Container(
        code=code,
        kind=kind,
        status=ContainerStatus.active,
        location_id=location.id,
        site_id=location.site_id,
        created_event_id=event.id,
        updated_event_id=event.id,
        updated_at=event.recorded_at,
    )
    session.add(cont)
    session.flush()
    posting.note_location(location)
    posting.moves.append(Move(cont, location.id, None, ContainerStatus.active))
    return _label_container(posting, cont)


# ---------------------------------------------------------------------------------------------
# The operations.


def receive(session: Session, actor: Actor, key: str, cmd: ReceiveCommand) -> EventResult:
    """A labelled container arrives from a supplier with lines of item, lot, quantity and cost."""
    return _run(session, actor, key, EventKind.receive, cmd, _receive)


def _receive(
    session: Session, event: Event, cmd: ReceiveCommand, posting: Posting
) -> dict[str, Any]:
    location = md.get_location(session, cmd.location, field="location")
    supplier = md.get_supplier(session, cmd.supplier) if cmd.supplier else None
    cont = _new_container(
        session,
        posting,
        event,
        code=cmd.container,
        kind=cmd.container_kind,
        location=location,
        field="container",
    )
    source = f"supplier:{supplier.code}" if supplier else "supplier"
    for i, line in enumerate(cmd.lines):
        field = f"lines[{i}]"
        item = _label_item(posting, md.get_item(session, line.item, field=f"{field}.item"))
        qty = md.to_base_quantity(
            session, item, line.quantity, line.unit, field=f"{field}.quantity"
        )
        unit_cost = (line.unit_cost * line.quantity / qty).quantize(
            COST_QUANTUM, rounding=ROUND_HALF_EVEN
        )
        lot = _lot_in(
            session,
            posting,
            event,
            item,
            line.lot,
            qty,
            field=f"{field}.lot",
            supplier_id=supplier.id if supplier else None,
        )
        lot_id = lot.id if lot else None
        posting.transfer(
            item_id=item.id,
            lot_id=lot_id,
            quantity=qty,
            unit_cost=unit_cost,
            source=source,
            target=cont,
            source_status=ContentStatus.available,
            target_status=ContentStatus.available,
        )
        posting.edges.append(
            Edge(item_id=item.id, quantity=qty, to_lot_id=lot_id, to_container_id=cont.id)
        )
    _event_at(event, location)
    event.reference = cmd.reference
    return {"container": cont.code, "location": location.code}


def create_container(
    session: Session, actor: Actor, key: str, cmd: CreateContainerCommand
) -> EventResult:
    """Register an empty container (tote, pallet, cart) so it can be filled or nested onto."""
    return _run(session, actor, key, EventKind.create, cmd, _create_container)


def _create_container(
    session: Session, event: Event, cmd: CreateContainerCommand, posting: Posting
) -> dict[str, Any]:
    location = md.get_location(session, cmd.location, field="location")
    cont = _new_container(
        session,
        posting,
        event,
        code=cmd.container,
        kind=cmd.container_kind,
        location=location,
        field="container",
    )
    _event_at(event, location)
    return {"container": cont.code, "location": location.code}


def move(session: Session, actor: Actor, key: str, cmd: MoveCommand) -> EventResult:
    """Put away or move a container; everything nested in it moves along."""
    return _run(session, actor, key, EventKind.move, cmd, _move)


def _move(session: Session, event: Event, cmd: MoveCommand, posting: Posting) -> dict[str, Any]:
    cont = _lock(session, posting, container=cmd.container)["container"]
    target = md.get_location(session, cmd.to_location, field="to_location")
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


def nest(session: Session, actor: Actor, key: str, cmd: NestCommand) -> EventResult:
    """Put a container into or onto another; refused if it would make a cycle."""
    return _run(session, actor, key, EventKind.nest, cmd, _nest)


def _nest(session: Session, event: Event, cmd: NestCommand, posting: Posting) -> dict[str, Any]:
    if cmd.container == cmd.parent:
        raise InvalidInput(
            "a container cannot be nested in itself", field="parent", expected="another container"
        )
    found = _lock(session, posting, container=cmd.container, parent=cmd.parent)
    child, parent = found["container"], found["parent"]
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


def unnest(session: Session, actor: Actor, key: str, cmd: UnnestCommand) -> EventResult:
    """Take a container off its parent."""
    return _run(session, actor, key, EventKind.unnest, cmd, _unnest)


def _unnest(session: Session, event: Event, cmd: UnnestCommand, posting: Posting) -> dict[str, Any]:
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


def split(session: Session, actor: Actor, key: str, cmd: SplitCommand) -> EventResult:
    """Take part of a container's contents into a new or an existing container."""
    return _run(session, actor, key, EventKind.split, cmd, _split)


def _split(session: Session, event: Event, cmd: SplitCommand, posting: Posting) -> dict[str, Any]:
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
    target = found.get("into") or _new_container(
        session,
        posting,
        event,
        code=cmd.new_container,
        kind=cmd.container_kind,
        location=location,
        field="new_container",
    )
    for i, line in enumerate(cmd.lines):
        item, lot, row = _pick_line(session, posting, source, line, field=f"lines[{i}].item")
        row = _require_line(source, item, lot, row)
        _container_to_container(posting, row, line.quantity, source, target)
    _event_at(event, location)
    return {"container": source.code, "into": target.code}


def _container_to_container(
    posting: Posting, row: Content, quantity: Decimal, source: Container, target: Container
) -> None:
    """Move `quantity` of a content line to another container, with its cost, status and step,
    and record the container-to-container genealogy edge."""
    posting.transfer(
        item_id=row.item_id,
        lot_id=row.lot_id,
        quantity=quantity,
        unit_cost=row.unit_cost,
        source=source,
        target=target,
        source_status=row.status,
        target_status=row.status,
        source_wip=row.wip_step,
        target_wip=row.wip_step,
    )
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


def merge(session: Session, actor: Actor, key: str, cmd: MergeCommand) -> EventResult:
    """Empty one container into another."""
    return _run(session, actor, key, EventKind.merge, cmd, _merge)


def _merge(session: Session, event: Event, cmd: MergeCommand, posting: Posting) -> dict[str, Any]:
    if cmd.into == cmd.container:
        raise InvalidInput(
            "cannot merge a container into itself", field="into", expected="another container"
        )
    found = _lock(session, posting, container=cmd.container, into=cmd.into)
    source, target = found["container"], found["into"]
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


def _item_code(session: Session, item_id: int) -> str:
    item = session.get(Item, item_id)
    return item.code if item else str(item_id)


def _line_for_change(
    session: Session, posting: Posting, cont: Container, ref: LineRef, *, allow_new: bool
) -> tuple[Item, Lot | None, ContentStatus, str | None, Decimal, Decimal]:
    """Resolve the line an adjust or count acts on; a line not yet there may be created."""
    item, lot, row = _pick_line(session, posting, cont, ref)
    if row is not None:
        return item, lot, row.status, row.wip_step, row.quantity, row.unit_cost
    if not allow_new:
        _require_line(cont, item, lot, row)
    if item.tracking != Tracking.none and lot is None:
        raise InvalidInput(
            f"item {item.code} is {item.tracking.value}-tracked",
            field="lot",
            expected="the lot to put the quantity on",
        )
    if item.tracking == Tracking.none and lot is not None:
        raise InvalidInput(f"item {item.code} is not lot-tracked", field="lot", expected="no lot")
    status = ref.status or (ContentStatus.wip if ref.wip_step else ContentStatus.available)
    return item, lot, status, ref.wip_step, Decimal(0), item.standard_cost


def adjust(session: Session, actor: Actor, key: str, cmd: AdjustCommand) -> EventResult:
    """Correct a container's quantity up or down against the adjustment place, with a reason."""
    return _run(session, actor, key, EventKind.adjust, cmd, _adjust)


def _adjust(session: Session, event: Event, cmd: AdjustCommand, posting: Posting) -> dict[str, Any]:
    cont = _lock(session, posting, container=cmd.container)["container"]
    item, lot, status, wip, current, cost = _line_for_change(
        session, posting, cont, cmd, allow_new=cmd.quantity_delta > 0
    )
    md.check_precision(
        abs(cmd.quantity_delta),
        md.unit_decimals(session, item),
        field="quantity_delta",
        unit_code=_unit_code(session, item),
    )
    _transfer_adjustment(posting, cont, item, lot, status, wip, cmd.quantity_delta, cost)
    event.reason_code = cmd.reason_code.value
    event.reason = cmd.reason
    _event_at(event, _container_location(session, posting, cont))
    return {"previous": plain(current), "quantity": plain(current + cmd.quantity_delta)}


def _unit_code(session: Session, item: Item) -> str:
    unit = session.get(Unit, item.base_unit_id)
    return unit.code if unit else "?"


def _transfer_adjustment(
    posting: Posting,
    cont: Container,
    item: Item,
    lot: Lot | None,
    status: ContentStatus,
    wip: str | None,
    delta: Decimal,
    cost: Decimal,
) -> None:
    source: Container | str = "adjustment" if delta > 0 else cont
    target: Container | str = cont if delta > 0 else "adjustment"
    posting.transfer(
        item_id=item.id,
        lot_id=lot.id if lot else None,
        quantity=abs(delta),
        unit_cost=cost,
        source=source,
        target=target,
        source_status=status,
        target_status=status,
        source_wip=wip,
        target_wip=wip,
    )


def count(session: Session, actor: Actor, key: str, cmd: CountCommand) -> EventResult:
    """Record a physical count; a difference within the site's tolerance (or counted by someone
    allowed to exceed it) is posted against the adjustment place, a larger one awaits approval."""
    return _run(session, actor, key, EventKind.count, cmd, partial(_count, actor=actor))


def _count(
    session: Session, event: Event, cmd: CountCommand, posting: Posting, *, actor: Actor
) -> dict[str, Any]:
    cont = _lock(session, posting, container=cmd.container)["container"]
    item, lot, status, wip, current, cost = _line_for_change(
        session, posting, cont, cmd, allow_new=True
    )
    md.check_precision(
        cmd.counted_quantity,
        md.unit_decimals(session, item),
        field="counted_quantity",
        unit_code=_unit_code(session, item),
    )
    delta = cmd.counted_quantity - current
    event.reason_code = "count"
    location = _container_location(session, posting, cont)
    _event_at(event, location)
    detail: dict[str, Any] = {
        "item": item.code,
        "lot": lot.code if lot else None,
        "book": plain(current),
        "counted": plain(cmd.counted_quantity),
        "delta": plain(delta),
    }
    rule = tolerance.for_site(session, location.site_id if location else None)
    if delta != 0 and not rule.allows(current, delta) and not actor.has_any(*rule.exceed_roles):
        proposal = tolerance.propose(
            session,
            event_id=event.id,
            site_id=location.site_id if location else None,
            container_id=cont.id,
            item_id=item.id,
            lot_id=lot.id if lot else None,
            book=current,
            counted=cmd.counted_quantity,
            actor=actor.name,
            at=event.occurred_at,
        )
        return {**detail, "pending": True, "proposal": proposal.id, "status": "awaiting approval"}
    if delta != 0:
        _transfer_adjustment(posting, cont, item, lot, status, wip, delta, cost)
    return detail


def hold(session: Session, actor: Actor, key: str, cmd: HoldCommand) -> EventResult:
    """Quarantine a container and what is nested in it."""
    return _run(session, actor, key, EventKind.hold, cmd, _hold)


def release(session: Session, actor: Actor, key: str, cmd: ReleaseCommand) -> EventResult:
    """Lift a hold: material goes back to available (or WIP where it is WIP)."""
    return _run(session, actor, key, EventKind.release, cmd, _release)


def _change_status(session: Session, posting: Posting, root: Container, *, to_hold: bool) -> int:
    changed = 0
    for cont in _lock_subtree(session, posting, root):
        for row in session.scalars(select(Content).where(Content.container_id == cont.id)):
            if (row.status == ContentStatus.hold) == to_hold:
                continue
            target = (
                ContentStatus.hold
                if to_hold
                else ContentStatus.wip
                if row.wip_step
                else ContentStatus.available
            )
            posting.transfer(
                item_id=row.item_id,
                lot_id=row.lot_id,
                quantity=row.quantity,
                unit_cost=row.unit_cost,
                source=cont,
                target=cont,
                source_status=row.status,
                target_status=target,
                source_wip=row.wip_step,
                target_wip=row.wip_step,
            )
            changed += 1
    return changed


def _hold(session: Session, event: Event, cmd: HoldCommand, posting: Posting) -> dict[str, Any]:
    cont = _lock(session, posting, container=cmd.container)["container"]
    if not _change_status(session, posting, cont, to_hold=True):
        raise Conflict(
            f"container {cont.code} has nothing to hold (empty or already held)", field="container"
        )
    event.reason = cmd.reason
    _event_at(event, _container_location(session, posting, cont))
    return {"container": cont.code}


def _release(
    session: Session, event: Event, cmd: ReleaseCommand, posting: Posting
) -> dict[str, Any]:
    cont = _lock(session, posting, container=cmd.container)["container"]
    if not _change_status(session, posting, cont, to_hold=False):
        raise Conflict(f"container {cont.code} has nothing on hold", field="container")
    event.reason = cmd.reason
    _event_at(event, _container_location(session, posting, cont))
    return {"container": cont.code}


def step_place(step: str) -> str:
    """The virtual place of a work-order step: what it holds is its work in process."""
    return f"step:{step}"


def consume(session: Session, actor: Actor, key: str, cmd: ConsumeCommand) -> EventResult:
    """Material leaves a container into a work-order step."""
    return _run(session, actor, key, EventKind.consume, cmd, _consume)


def _consume(
    session: Session, event: Event, cmd: ConsumeCommand, posting: Posting
) -> dict[str, Any]:
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
    md.check_precision(
        cmd.quantity,
        md.unit_decimals(session, item),
        field="quantity",
        unit_code=_unit_code(session, item),
    )
    posting.transfer(
        item_id=item.id,
        lot_id=row.lot_id,
        quantity=cmd.quantity,
        unit_cost=row.unit_cost,
        source=cont,
        target=step_place(cmd.step),
        source_status=row.status,
        target_status=row.status,
        source_wip=row.wip_step,
        target_wip=cmd.step,
    )
    _event_at(event, _container_location(session, posting, cont))
    event.reference = cmd.step
    return {"step": cmd.step}


def produce(session: Session, actor: Actor, key: str, cmd: ProduceCommand) -> EventResult:
    """Material comes out of a work-order step, traced to what the step consumed."""
    return _run(session, actor, key, EventKind.produce, cmd, _produce)


def _produce(
    session: Session, event: Event, cmd: ProduceCommand, posting: Posting
) -> dict[str, Any]:
    if cmd.container and (cmd.new_container or cmd.location):
        raise InvalidInput(
            "give container, or new_container/location, not both",
            field="container",
            expected="one target",
        )
    item = _label_item(posting, md.get_item(session, cmd.item))
    md.check_precision(
        cmd.quantity,
        md.unit_decimals(session, item),
        field="quantity",
        unit_code=_unit_code(session, item),
    )
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
        target = _new_container(
            session,
            posting,
            event,
            code=cmd.new_container,
            kind=cmd.container_kind,
            location=location,
            field="new_container",
        )
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


def scrap(session: Session, actor: Actor, key: str, cmd: ScrapCommand) -> EventResult:
    """Material leaves a container as scrap, with a reason."""
    return _run(session, actor, key, EventKind.scrap, cmd, _scrap)


def _scrap(session: Session, event: Event, cmd: ScrapCommand, posting: Posting) -> dict[str, Any]:
    cont = _lock(session, posting, container=cmd.container)["container"]
    item, lot, row = _pick_line(session, posting, cont, cmd)
    row = _require_line(cont, item, lot, row)
    md.check_precision(
        cmd.quantity,
        md.unit_decimals(session, item),
        field="quantity",
        unit_code=_unit_code(session, item),
    )
    posting.transfer(
        item_id=item.id,
        lot_id=row.lot_id,
        quantity=cmd.quantity,
        unit_cost=row.unit_cost,
        source=cont,
        target="scrap",
        source_status=row.status,
        target_status=row.status,
        source_wip=row.wip_step,
        target_wip=row.wip_step,
    )
    event.reason_code = cmd.reason_code.value
    event.reason = cmd.reason
    _event_at(event, _container_location(session, posting, cont))
    return {"container": cont.code}


def return_to_stock(session: Session, actor: Actor, key: str, cmd: ReturnCommand) -> EventResult:
    """Unused material of a step, or a line of its WIP output, goes back to plain stock."""
    return _run(session, actor, key, EventKind.return_, cmd, _return)


def _return(session: Session, event: Event, cmd: ReturnCommand, posting: Posting) -> dict[str, Any]:
    if cmd.into and (cmd.new_container or cmd.location):
        raise InvalidInput(
            "give into, or new_container/location, not both", field="into", expected="one target"
        )
    codes = {"container": cmd.container} if cmd.container else {}
    if cmd.into:
        codes["into"] = cmd.into
    found = _lock(session, posting, **codes) if codes else {}
    item = _label_item(posting, md.get_item(session, cmd.item))
    md.check_precision(
        cmd.quantity,
        md.unit_decimals(session, item),
        field="quantity",
        unit_code=_unit_code(session, item),
    )
    source: Container | str
    if "container" in found:
        source = found["container"]
        item, lot, row = _pick_line(
            session, posting, source, LineRef(item=cmd.item, lot=cmd.lot, wip_step=cmd.step)
        )
        if row is None:
            raise Conflict(
                f"container {source.code} holds no {item.code} that is WIP of {cmd.step}",
                field="container",
                expected=f"a container with {item.code} tagged with step {cmd.step}",
            )
        if row.status == ContentStatus.hold:
            raise Conflict(
                f"{item.code} in {source.code} is on hold; release it before returning it",
                field="container",
                expected="material that is not on hold",
            )
        lot_id, cost, source_status = row.lot_id, row.unit_cost, row.status
    else:
        source = step_place(cmd.step)
        lot_id, cost = _in_step(session, posting, cmd, item)
        source_status = ContentStatus.available
    target = found.get("into")
    if target is None and (cmd.new_container or cmd.location):
        if not cmd.location:
            raise InvalidInput(
                "a new container needs a location",
                field="location",
                expected="the stock location the material goes back to",
            )
        target = _new_container(
            session,
            posting,
            event,
            code=cmd.new_container,
            kind=cmd.container_kind,
            location=md.get_location(session, cmd.location, field="location"),
            field="new_container",
        )
    if target is None:
        if not isinstance(source, Container):
            raise InvalidInput(
                "say where the returned material goes",
                field="location",
                expected="into (an existing container) or a location for a new container",
            )
        target = source  # the tagged line becomes plain stock where it is
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
    posting.edges.append(
        Edge(
            item_id=item.id,
            quantity=cmd.quantity,
            from_lot_id=lot_id,
            from_container_id=source.id if isinstance(source, Container) else None,
            to_lot_id=lot_id,
            to_container_id=target.id,
        )
    )
    event.reference = cmd.step
    event.reason = cmd.reason
    _event_at(event, _container_location(session, posting, target))
    return {
        "step": cmd.step,
        "from": source.code if isinstance(source, Container) else source,
        "container": target.code,
        "unit_cost": plain(cost),
    }


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


def ship(session: Session, actor: Actor, key: str, cmd: ShipCommand) -> EventResult:
    """A container, with everything nested in it, leaves to a customer."""
    return _run(session, actor, key, EventKind.ship, cmd, _ship)


def _ship(session: Session, event: Event, cmd: ShipCommand, posting: Posting) -> dict[str, Any]:
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
        for row in session.scalars(select(Content).where(Content.container_id == cont.id)):
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


def _parent_to_return_to(session: Session, cont: Container, parent_id: int) -> Container:
    """The parent a reversal puts `cont` back onto: still active, and not inside `cont` now."""
    parent = session.scalar(select(Container).where(Container.id == parent_id).with_for_update())
    assert parent is not None
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


def reverse(session: Session, actor: Actor, key: str, cmd: ReverseCommand) -> EventResult:
    """Correct a wrong event with its opposite; the original stays in the history."""
    return _run(session, actor, key, EventKind.reverse, cmd, _reverse)


def _reverse(
    session: Session, event: Event, cmd: ReverseCommand, posting: Posting
) -> dict[str, Any]:
    original = session.get(Event, cmd.event_id)
    if original is None:
        raise NotFound(f"no event {cmd.event_id}", field="event_id", expected="an event id")
    if original.kind == EventKind.reverse:
        raise Conflict(
            "a reversal cannot itself be reversed; post the change again instead", field="event_id"
        )
    already = session.scalar(select(Event.id).where(Event.reverses_event_id == original.id))
    if already is not None:
        raise Conflict(
            f"event {original.id} was already reversed by event {already}", field="event_id"
        )
    lines = session.scalars(select(EventLine).where(EventLine.event_id == original.id)).all()
    moves = session.scalars(
        select(EventMove).where(EventMove.event_id == original.id).order_by(EventMove.id.desc())
    ).all()
    ids = sorted(
        {ln.container_id for ln in lines if ln.container_id} | {m.container_id for m in moves}
    )
    containers = {
        c.id: _label_container(posting, c)
        for c in session.scalars(
            select(Container).where(Container.id.in_(ids)).order_by(Container.id).with_for_update()
        )
    }
    moved = {mv.container_id for mv in moves}
    for cid in sorted({ln.container_id for ln in lines if ln.container_id} - moved):
        if containers[cid].status != ContainerStatus.active:
            raise Conflict(
                f"container {containers[cid].code} is {containers[cid].status.value} since "
                f"event {original.id}; its contents can no longer change",
                field="event_id",
            )
    for mv in moves:
        cont = containers[mv.container_id]
        if (cont.location_id, cont.parent_id, cont.status) != (
            mv.to_location_id if mv.to_location_id is not None else cont.location_id,
            mv.to_parent_id,
            mv.to_status or cont.status,
        ):
            raise Conflict(
                f"container {cont.code} has changed place or state since event {original.id}; "
                "reverse the later events first",
                field="event_id",
            )
        if mv.to_parent_id is None:
            _lock_subtree(session, posting, cont)
        back_to = mv.from_location_id if mv.from_location_id is not None else cont.location_id
        if mv.from_parent_id is not None and mv.from_parent_id not in moved:
            # Back onto its old parent, wherever that parent is now.
            back_to = _parent_to_return_to(session, cont, mv.from_parent_id).location_id
        posting.moves.append(
            Move(cont, back_to, mv.from_parent_id, mv.from_status or ContainerStatus.void)
        )
    for ln in lines:
        posting.lines.append(
            Line(
                item_id=ln.item_id,
                lot_id=ln.lot_id,
                status=ln.status,
                quantity=-ln.quantity,
                unit_cost=ln.unit_cost,
                container_id=ln.container_id,
                place=ln.place,
                wip_step=ln.wip_step,
            )
        )
    for edge in session.scalars(select(Genealogy).where(Genealogy.event_id == original.id)):
        posting.edges.append(
            Edge(
                item_id=edge.item_id,
                quantity=-edge.quantity,
                from_lot_id=edge.from_lot_id,
                from_container_id=edge.from_container_id,
                to_lot_id=edge.to_lot_id,
                to_container_id=edge.to_container_id,
            )
        )
    event.reverses_event_id = original.id
    event.reason = cmd.reason
    event.location_id = original.location_id
    event.site_id = original.site_id
    return {"reverses": original.id, "reversed_kind": original.kind.value}
