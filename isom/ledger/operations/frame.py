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
from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from isom import commands
from isom.actors import Actor as Actor  # re-exported: the operations are called with it
from isom.auth import sites
from isom.config import get_settings
from isom.errors import Conflict, InvalidInput, NotFound
from isom.ledger import nesting
from isom.ledger.models import (
    Container,
    ContainerStatus,
    Content,
    Counter,
    Event,
    EventKind,
    Lot,
)
from isom.ledger.posting import Move, Posting, post
from isom.ledger.schemas import (
    EventResult,
    LineRef,
    LotIn,
)
from isom.masterdata import services as md
from isom.masterdata.models import Item, Location, Tracking
from isom.types import utcnow

C = TypeVar("C", bound=BaseModel)


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
    """Run one ledger operation in the command frame (one idempotency record per request)."""
    return commands.run(
        session,
        key=key,
        kind=kind.value,
        command=command,
        effect=partial(_apply, session, actor, key, kind, command, build),
        answer=EventResult,
        actor=actor.name,
        device=actor.device,
    )


def _apply(
    session: Session,
    actor: Actor,
    key: str,
    kind: EventKind,
    command: C,
    build: Callable[[Session, Event, C, Posting], dict[str, Any]],
) -> EventResult:
    """The ledger event of one operation: its row, its balanced posting and its answer."""
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


# The container's location comes along (noted on the posting, where `_container_location`
# finds it without another round trip); only the container is locked.
_LOCK_BY_CODE = (
    select(Container, Location)
    .outerjoin(Location, Location.id == Container.location_id)
    .where(Container.code.in_(bindparam("codes", expanding=True)))
    .order_by(Container.id)
    .with_for_update(of=Container)
)
_LOCK_SUBTREE = (
    select(Container)
    .where(Container.id.in_(nesting.SUBTREE))
    .order_by(Container.id)
    .with_for_update()
)


def _lock(session: Session, posting: Posting, **codes: str) -> dict[str, Container]:
    """Lock the named containers in ascending id order (no deadlocks) and check they exist."""
    rows = session.execute(_LOCK_BY_CODE, {"codes": sorted(set(codes.values()))}).all()
    by_code = {c.code: c for c, _location in rows}
    for _container, location in rows:
        if location is not None:
            posting.note_location(location)
    found: dict[str, Container] = {}
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
    posting.new_containers.add(cont.id)
    posting.note_location(location)
    posting.moves.append(Move(cont, location.id, None, ContainerStatus.active))
    return _label_container(posting, cont)
