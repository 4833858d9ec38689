"""The frame of every ledger operation, and the look-ups the operations share.

Each operation takes the session first, then who acts, the idempotency key and a validated
command. It checks everything before it writes, builds a balanced `Posting`, and applies it
with `posting.post`, all in the caller's transaction. It never commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar, cast

from pydantic import BaseModel
from sqlalchemy import Table, bindparam, func, insert, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from isom import commands
from isom.actors import Actor as Actor  # re-exported: the operations are called with it
from isom.auth import sites
from isom.config import get_settings
from isom.errors import Conflict, InvalidInput, NotFound
from isom.ledger import nesting
from isom.ledger.models import (
    ContainerStatus,
    Content,
    Counter,
    Event,
    EventKind,
    Lot,
)
from isom.ledger.posting import (
    BOX_COLUMNS,
    HELD_COLUMNS,
    Box,
    Held,
    Move,
    Place,
    Posting,
    Where,
    post,
)
from isom.ledger.posting.model import CONTAINER_TABLE, CONTENT_TABLE
from isom.ledger.schemas import (
    EventResult,
    LineRef,
    LotIn,
)
from isom.masterdata import services as md
from isom.masterdata.models import Item, Location, Tracking
from isom.types import utcnow

C = TypeVar("C", bound=BaseModel)
_C = CONTAINER_TABLE.c


# ---------------------------------------------------------------------------------------------
# The frame every operation runs in: idempotency, the event row, posting, the stored answer.


_EVENT_FIELDS_SET_BY_OPERATIONS = (
    "site_id",
    "location_id",
    "reason",
    "reason_code",
    "reference",
    "reverses_event_id",
)
_EVENT_TABLE = cast(Table, Event.__table__)
_E = _EVENT_TABLE.c
_EVENT_ROW = ("key", "kind", "occurred_at", "recorded_at", "actor", "user_id", "device", "command")
_INSERT_EVENT = insert(_EVENT_TABLE).returning(_E.id)
_FINISH_EVENT = (
    update(_EVENT_TABLE)
    .where(_E.id == bindparam("event_id"))
    .values(
        result=bindparam("new_result"),
        **{name: bindparam(f"new_{name}") for name in _EVENT_FIELDS_SET_BY_OPERATIONS},
    )
)


def _insert_done_event(dialect: str) -> Any:
    """The event row written once, with its answer, when nothing before needed its id: the id
    is taken in the statement (the next one on SQLite, whose writers queue; the sequence's on
    PostgreSQL) and set into the answer's `event_id` there."""
    if dialect == "postgresql":
        next_id: Any = func.nextval(func.pg_get_serial_sequence("ledger_event", "id"))
        set_id: Any = partial(func.jsonb_set, type_=_E.result.type)
        path: Any = literal_column("'{event_id}'")  # untyped: a text[] path
        as_json: Any = func.to_jsonb
    else:
        next_id = func.coalesce(func.max(_E.id), 0) + 1
        set_id = partial(func.json_set, type_=_E.result.type)
        path = literal_column("'$.event_id'")
        as_json = func.abs  # a number as itself
    new = select(next_id.label("id")).subquery("new")
    names = (*_EVENT_ROW, *_EVENT_FIELDS_SET_BY_OPERATIONS)
    values = [bindparam(name, type_=_E[name].type) for name in names]
    result = set_id(bindparam("result", type_=_E.result.type), path, as_json(new.c.id))
    columns = ["id", *names, "result"]
    return (
        insert(_EVENT_TABLE)
        .from_select(columns, select(new.c.id, *values, result))
        .returning(_E.id)
    )


_INSERT_DONE_EVENT = {name: _insert_done_event(name) for name in ("postgresql", "sqlite")}


def _run(
    session: Session,
    actor: Actor,
    key: str,
    kind: EventKind,
    command: C,
    build: Callable[[Session, Event, C, Posting], dict[str, Any]],
) -> EventResult:
    """Run one ledger operation in the command frame (one idempotency record per request)."""
    return commands.run(
        session,
        key=key,
        kind=kind.value,
        command=command,
        effect=partial(_apply, session, actor, key, kind, command, build),
        optimistic=True,
        answer=EventResult,
        actor=actor.name,
        device=actor.device,
    )


def operation(
    kind: EventKind, build: Callable[[Session, Event, C, Posting], dict[str, Any]]
) -> Callable[[Session, Actor, str, C], EventResult]:
    """A ledger operation: its builder run in the command frame as one event of `kind`. The
    builder's docstring is the operation's (the API shows it as the route's description)."""

    def run(session: Session, actor: Actor, key: str, command: C) -> EventResult:
        return _run(session, actor, key, kind, command, build)

    run.__doc__ = build.__doc__
    return run


def _apply(
    session: Session,
    actor: Actor,
    key: str,
    kind: EventKind,
    command: C,
    build: Callable[[Session, Event, C, Posting], dict[str, Any]],
) -> EventResult:
    """The ledger event of one operation: its row, its balanced posting and its answer.

    The row is written with Core (the ORM's unit of work costs more than the whole event). An
    operation that writes rows naming the event (a new container or lot) has it inserted
    first (`event_id`) and completed with its answer at the end; any other gets it written
    once, with its answer, as soon as the answer is known."""
    now = utcnow()
    event = Event(
        key=key,
        kind=kind,
        occurred_at=getattr(command, "occurred_at", None) or now,
        recorded_at=now,
        actor=actor.name,
        user_id=actor.user_id,
        device=actor.device,
        command=command.model_dump(mode="json"),
    )
    posting = Posting()
    detail = build(session, event, command, posting)
    answers: list[EventResult] = []

    def record(lines: list[dict[str, Any]], balances: list[dict[str, Any]]) -> None:
        containers = sorted({posting.labels["container"][cid] for cid in posting.containers})
        result = EventResult(
            event_id=event.id or 0,
            key=key,
            kind=kind.value,
            containers=containers,
            lines=lines,
            balances=balances,
            detail=detail,
        )
        _write_event(session, event, result.model_dump(mode="json"))
        result.event_id = event.id
        answers.append(result)

    post(session, event, posting, record)
    return answers[0]


def event_id(session: Session, event: Event) -> int:
    """The event's id, for a row that names it: its row is inserted now if it is not yet."""
    if event.id is None:
        params = {name: getattr(event, name) for name in _EVENT_ROW}
        inserted = session.connection().execute(_INSERT_EVENT, {**params, "result": {}})
        event.id = inserted.scalar_one()
    return event.id


def _write_event(session: Session, event: Event, result: dict[str, Any]) -> None:
    """The event's row with its answer: completed if it was inserted early, else written once."""
    conn = session.connection()
    fields = {name: getattr(event, name) for name in _EVENT_FIELDS_SET_BY_OPERATIONS}
    if event.id is not None:
        finish = {f"new_{name}": value for name, value in fields.items()}
        conn.execute(_FINISH_EVENT, {"event_id": event.id, "new_result": result, **finish})
        return
    params = {name: getattr(event, name) for name in _EVENT_ROW}
    statement = _INSERT_DONE_EVENT[conn.dialect.name]
    event.id = conn.execute(statement, {**params, **fields, "result": result}).scalar_one()


# ---------------------------------------------------------------------------------------------
# Look-ups shared by the operations.


def _label_item(posting: Posting, item: Item) -> Item:
    posting.labels["item"][item.id] = item.code
    return item


def _label_container(posting: Posting, container: Box) -> Box:
    posting.labels["container"][container.id] = container.code
    posting.containers[container.id] = container
    return container


# The containers' locations come along (noted on the posting, where `_container_location`
# finds them without another round trip), and so may one more location by code (where a move
# goes); only the containers are locked. Plain Core: no ORM identity map on the hot path.
_HERE = cast(Table, Location.__table__).alias("here")
_THERE = cast(Table, Location.__table__).alias("there")
_LOCK_BY_CODE = (
    select(
        *BOX_COLUMNS,
        *(_HERE.c[name] for name in Place._fields),
        *(_THERE.c[name] for name in Place._fields),
    )
    .outerjoin(_HERE, _HERE.c.id == _C.location_id)
    .outerjoin(_THERE, _THERE.c.code == bindparam("location_code"))
    .where(_C.code.in_(bindparam("codes", expanding=True)))
    .order_by(_C.id)
    .with_for_update(of=CONTAINER_TABLE)
)
# A subtree's containers and what they hold, with the codes the answer names: one read.
_LOCK_SUBTREE = (
    select(*BOX_COLUMNS, *HELD_COLUMNS, Item.code, Lot.code)
    .outerjoin(CONTENT_TABLE, CONTENT_TABLE.c.container_id == _C.id)
    .outerjoin(Item, Item.id == CONTENT_TABLE.c.item_id)
    .outerjoin(Lot, Lot.id == CONTENT_TABLE.c.lot_id)
    .where(_C.id.in_(nesting.SUBTREE))
    .order_by(_C.id, CONTENT_TABLE.c.id)
    .with_for_update(of=CONTAINER_TABLE)
)
_BOX_WIDTH = len(BOX_COLUMNS)
_HERE_END = _BOX_WIDTH + len(Place._fields)
_HELD_END = _BOX_WIDTH + len(HELD_COLUMNS)


def _lock(session: Session, posting: Posting, **codes: str) -> dict[str, Box]:
    """Lock the named containers in ascending id order (no deadlocks) and check they exist."""
    return _lock_at(session, posting, None, **codes)[0]


def _lock_at(
    session: Session, posting: Posting, location: tuple[str, str] | None, **codes: str
) -> tuple[dict[str, Box], Where | None]:
    """`_lock`, and in the same round trip the active location `location` = (field, code)."""
    params = {"codes": sorted(set(codes.values())), "location_code": location and location[1]}
    rows = session.connection().execute(_LOCK_BY_CODE, params).all()
    by_code: dict[str, Box] = {}
    target: Where | None = None
    for row in rows:
        box = Box(*row[:_BOX_WIDTH])
        by_code[box.code] = box
        if row[_BOX_WIDTH] is not None:
            posting.note_location(Place(*row[_BOX_WIDTH:_HERE_END]))
        if row[_HERE_END] is not None:
            target = Place(*row[_HERE_END:])
    found: dict[str, Box] = {}
    for field_name, code in codes.items():
        cont = by_code.get(code)
        if cont is None or not sites.allows(cont.site_id):
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
    if location is not None and (target is None or not target.active):
        target = md.get_location(session, location[1], field=location[0])  # its refusal
    return found, target


_LOCK_BY_ID = (
    select(*BOX_COLUMNS)
    .where(_C.id.in_(bindparam("ids", expanding=True)))
    .order_by(_C.id)
    .with_for_update()
)


def lock_boxes(session: Session, ids: list[int]) -> dict[int, Box]:
    """Lock containers by id, in ascending id order (no deadlocks), whatever their status."""
    rows = session.connection().execute(_LOCK_BY_ID, {"ids": sorted(ids)})
    return {row[0]: Box(*row) for row in rows}


def _lock_subtree(session: Session, posting: Posting, root: Box) -> list[Box]:
    """Lock everything nested in `root` (after `root` itself is locked, so the tree is fresh)
    and read what it holds, so posting reads the contents no more."""
    rows = session.connection().execute(_LOCK_SUBTREE, {"root_id": root.id}).all()
    boxes: dict[int, Box] = {}
    labels = posting.labels
    for row in rows:
        box_id = row[0]
        if box_id not in boxes:
            boxes[box_id] = posting.containers.get(box_id) or Box(*row[:_BOX_WIDTH])
            posting.held[box_id] = []
        if row[_BOX_WIDTH] is not None:
            held = Held(*row[_BOX_WIDTH:_HELD_END])
            posting.held[box_id].append(held)
            labels["item"][held.item_id] = row[_HELD_END]
            if held.lot_id is not None:
                labels["lot"][held.lot_id] = row[_HELD_END + 1]
    posting.subtrees[root.id] = list(boxes)
    return [_label_container(posting, box) for box in boxes.values()]


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
            created_event_id=event_id(session, event),
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
    session: Session, posting: Posting, container: Box, ref: LineRef, *, field: str = "item"
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


def _require_line(container: Box, item: Item, lot: Lot | None, row: Content | None) -> Content:
    if row is None:
        raise Conflict(
            f"container {container.code} holds no {item.code}"
            + (f" of lot {lot.code}" if lot else ""),
            field="item",
            expected="an item and lot the container holds",
        )
    return row


def _event_at(event: Event, location: Where | None) -> None:
    if location is not None:
        event.location_id = location.id
        event.site_id = location.site_id


def _container_location(session: Session, posting: Posting, cont: Box) -> Where | None:
    if cont.location_id is None:
        return None
    loc = posting.locations.get(cont.location_id) or session.get(Location, cont.location_id)
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


def _insert_container(dialect: str) -> Any:
    """Insert a container unless its code is taken (then nothing comes back): one statement
    instead of a look-up and an insert, and concurrent inserts of one code queue on it."""
    stmt: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CONTAINER_TABLE)
    return stmt.on_conflict_do_nothing(index_elements=[_C.code]).returning(_C.id)


_INSERT_CONTAINER = {name: _insert_container(name) for name in ("postgresql", "sqlite")}


def _new_container_of(
    session: Session, posting: Posting, event: Event, cmd: Any, location: Where, field: str
) -> Box:
    """The new container a command names in `field` (numbered when it names none), of the
    command's `container_kind`, at `location`."""
    return _new_container(
        session,
        posting,
        event,
        code=getattr(cmd, field),
        kind=cmd.container_kind,
        location=location,
        field=field,
    )


def _new_container(
    session: Session,
    posting: Posting,
    event: Event,
    *,
    code: str | None,
    kind: str,
    location: Where,
    field: str,
) -> Box:
    created = event_id(session, event)
    conn = session.connection()
    row = {
        "kind": kind,
        "status": ContainerStatus.active,
        "location_id": location.id,
        "site_id": location.site_id,
        "created_event_id": created,
        "updated_event_id": created,
        "updated_at": event.recorded_at,
    }
    insert_container = _INSERT_CONTAINER[conn.dialect.name]
    new_id = None
    while new_id is None:
        given = code or next_container_code(session, get_settings().container_prefix)
        new_id = conn.execute(insert_container, {**row, "code": given}).scalar()
        if new_id is None and code is not None:
            raise Conflict(
                f"container code {code!r} is already in use",
                field=field,
                expected="a code not used by any other container",
            )
    cont = Box(
        new_id, given, kind, ContainerStatus.active, location.id, None, location.site_id, created
    )
    posting.new_containers.add(cont.id)
    posting.note_location(location)
    posting.moves.append(Move(cont, location.id, None, ContainerStatus.active))
    return _label_container(posting, cont)
