"""Applying an event: lines to contents and balances, moves, genealogy and the outbox, in one go.

Every operation in `services.py` validates its command, then hands a `Posting` to `post()`.
Nothing here commits; the caller's unit of work does.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from isom import outbox, reactions
from isom.errors import Conflict, InsufficientStock
from isom.ledger import nesting
from isom.ledger.models import (
    Balance,
    Container,
    ContainerStatus,
    Content,
    ContentStatus,
    Event,
    EventLine,
    EventMove,
    Genealogy,
    Lot,
)
from isom.masterdata.models import Item, Location

COST_QUANTUM = Decimal("0.000001")

# Core tables for the hot path: the ORM's bulk machinery costs more than the statements.
LINE_TABLE = cast(Table, EventLine.__table__)
GENEALOGY_TABLE = cast(Table, Genealogy.__table__)
MOVE_TABLE = cast(Table, EventMove.__table__)
CONTENT_TABLE = cast(Table, Content.__table__)

ContentKey = tuple[int, int, int | None, ContentStatus, str | None]
BalanceKey = tuple[int, int, int | None, ContentStatus]


@dataclass
class Line:
    """One signed quantity at a container or a virtual place."""

    item_id: int
    lot_id: int | None
    status: ContentStatus
    quantity: Decimal
    unit_cost: Decimal
    container_id: int | None = None
    place: str | None = None
    wip_step: str | None = None


@dataclass
class Move:
    """A container's new location, parent or status."""

    container: Container
    to_location_id: int | None
    to_parent_id: int | None
    to_status: ContainerStatus | None = None


@dataclass
class Edge:
    """A genealogy edge."""

    item_id: int
    quantity: Decimal
    from_lot_id: int | None = None
    from_container_id: int | None = None
    to_lot_id: int | None = None
    to_container_id: int | None = None


@dataclass
class Posting:
    """Everything an event changes, gathered before anything is written."""

    lines: list[Line] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    containers: dict[int, Container] = field(default_factory=dict)
    subtrees: dict[int, list[int]] = field(default_factory=dict)
    sites: dict[int, int | None] = field(default_factory=dict)
    locations: dict[int, Location] = field(default_factory=dict)
    new_containers: set[int] = field(default_factory=set)  # made by this event: still empty
    labels: dict[str, dict[int, str]] = field(
        default_factory=lambda: {"item": {}, "lot": {}, "location": {}, "container": {}}
    )

    def note_location(self, location: Location) -> None:
        """Remember a location's code and site, so posting needs no look-up for them."""
        self.locations[location.id] = location
        self.labels["location"][location.id] = location.code
        self.sites[location.id] = location.site_id

    def transfer(
        self,
        *,
        item_id: int,
        lot_id: int | None,
        quantity: Decimal,
        unit_cost: Decimal,
        source: Container | str,
        target: Container | str,
        source_status: ContentStatus,
        target_status: ContentStatus,
        source_wip: str | None = None,
        target_wip: str | None = None,
    ) -> None:
        """A balanced pair of lines: `quantity` leaves `source` and arrives at `target`."""
        for place, sign, status, wip in (
            (source, -1, source_status, source_wip),
            (target, 1, target_status, target_wip),
        ):
            line = Line(
                item_id=item_id,
                lot_id=lot_id,
                status=status,
                quantity=quantity * sign,
                unit_cost=unit_cost,
                wip_step=wip,
            )
            if isinstance(place, Container):
                line.container_id = place.id
                self.containers[place.id] = place
            else:
                line.place = place
            self.lines.append(line)


def _avg_cost(q0: Decimal, c0: Decimal, dq: Decimal, dc: Decimal) -> Decimal:
    total = q0 + dq
    if total == 0:
        return c0
    return ((q0 * c0 + dq * dc) / total).quantize(COST_QUANTUM, rounding=ROUND_HALF_EVEN)


_BALANCE_STATEMENTS: dict[tuple[str, str], Any] = {}


def _balance_statement(dialect: str, kind: str) -> Any:
    """The balance statements, built once per dialect and kind, then run with parameters.

    Building these constructs (the upsert's conflict target, the comparisons) costs more
    Python time than running them; the SQL they produce is the same either way.
    """
    cached = _BALANCE_STATEMENTS.get((dialect, kind))
    if cached is not None:
        return cached
    table = cast(Table, Balance.__table__)
    c = table.c
    stmt: Any
    if kind == "upsert":
        stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=[
                c.location_id,
                c.item_id,
                func.coalesce(c.lot_id, literal_column("0")),
                c.status,
            ],
            set_={"quantity": c.quantity + stmt.excluded.quantity},
        ).returning(c.id, c.quantity)
    else:
        lot_clause = (
            c.lot_id.is_(None)
            if kind == "take_no_lot"
            else c.lot_id == bindparam("b_lot_id", type_=c.lot_id.type)
        )
        stmt = (
            update(table)
            .where(
                c.location_id == bindparam("b_location_id", type_=c.location_id.type),
                c.item_id == bindparam("b_item_id", type_=c.item_id.type),
                lot_clause,
                c.status == bindparam("b_status", type_=c.status.type),
            )
            .values(quantity=c.quantity + bindparam("b_delta", type_=c.quantity.type))
            .returning(c.id, c.quantity)
        )
    _BALANCE_STATEMENTS[(dialect, kind)] = stmt
    return stmt


def _add_to_balance(
    session: Session, key: BalanceKey, site_id: int | None, delta: Decimal
) -> tuple[int, Decimal] | None:
    """Add `delta` to one balance row; concurrent writers add up, nobody reads then writes.

    A positive delta upserts (the row may not exist yet). A negative one only updates, since
    both databases check the proposed row of an upsert before they look for the conflict; a
    missing row then means there was nothing to take, and the `CHECK` guards the rest.
    """
    location_id, item_id, lot_id, status = key
    dialect = session.get_bind().dialect.name
    if delta < 0:
        params: dict[str, Any] = {
            "b_location_id": location_id,
            "b_item_id": item_id,
            "b_status": status,
            "b_delta": delta,
        }
        if lot_id is not None:
            params["b_lot_id"] = lot_id
        kind = "take_no_lot" if lot_id is None else "take"
        row = session.connection().execute(_balance_statement(dialect, kind), params).first()
        return None if row is None else (row[0], row[1])
    values = {
        "site_id": site_id,
        "location_id": location_id,
        "item_id": item_id,
        "lot_id": lot_id,
        "status": status,
        "quantity": delta,
    }
    row = session.connection().execute(_balance_statement(dialect, "upsert"), values).one()
    return row[0], row[1]


def post(session: Session, event: Event, posting: Posting) -> dict[str, Any]:
    """Write the event's lines, update contents, balances, containers, genealogy and outbox."""
    _check_balanced(posting)
    balance_deltas: dict[BalanceKey, Decimal] = defaultdict(Decimal)
    site_of: dict[int, int | None] = {}

    # 1. Moves first take contents out of their old location and into the new one.
    moved_contents = _apply_moves(session, event, posting, balance_deltas, site_of)

    # 2. Content lines: check and update the containers' contents.
    container_lines = [ln for ln in posting.lines if ln.container_id is not None]
    if container_lines:
        _apply_content_lines(session, posting, container_lines, balance_deltas, site_of)

    # 3. The immutable lines.
    if posting.lines:
        session.connection().execute(
            insert(LINE_TABLE),
            [
                {
                    "event_id": event.id,
                    "container_id": ln.container_id,
                    "place": ln.place,
                    "item_id": ln.item_id,
                    "lot_id": ln.lot_id,
                    "status": ln.status,
                    "wip_step": ln.wip_step,
                    "quantity": ln.quantity,
                    "unit_cost": ln.unit_cost,
                }
                for ln in posting.lines
            ],
        )

    # 4. Balances, in a fixed key order so concurrent writers never deadlock on them.
    balances: list[dict[str, Any]] = []
    zero_ids: list[int] = []
    for key in sorted(balance_deltas, key=lambda k: (k[0], k[1], k[2] or 0, k[3].value)):
        delta = balance_deltas[key]
        if delta == 0:
            continue
        applied = _add_to_balance(session, key, site_of.get(key[0]), delta)
        if applied is None:
            raise InsufficientStock("not enough quantity: the change would make a balance negative")
        balance_id, quantity = applied
        if quantity == 0:
            zero_ids.append(balance_id)
        balances.append(
            {
                "location": key[0],
                "item": key[1],
                "lot": key[2],
                "status": key[3].value,
                "delta": plain(delta),
                "quantity": plain(quantity),
            }
        )
    if zero_ids:
        session.connection().execute(delete(Balance).where(Balance.id.in_(zero_ids)))

    # 5. Genealogy.
    if posting.edges:
        session.connection().execute(
            insert(GENEALOGY_TABLE),
            [
                {
                    "event_id": event.id,
                    "from_lot_id": e.from_lot_id,
                    "from_container_id": e.from_container_id,
                    "to_lot_id": e.to_lot_id,
                    "to_container_id": e.to_container_id,
                    "item_id": e.item_id,
                    "quantity": e.quantity,
                }
                for e in posting.edges
            ],
        )

    # 6. Touched containers record the event.
    # Containers whose contents changed but that did not move record the event too.
    touched = {ln.container_id for ln in posting.lines if ln.container_id} - moved_contents
    if touched:
        session.connection().execute(
            _TOUCH_CONTAINERS,
            {"ids": sorted(touched), "event_id": event.id, "at": event.recorded_at},
        )

    _fill_labels(session, posting, balance_deltas)
    lines_out = [_line_label(posting, ln) for ln in posting.lines]
    for bal in balances:
        bal["item"] = posting.labels["item"][bal["item"]]
        bal["lot"] = posting.labels["lot"][bal["lot"]] if bal["lot"] else None
        bal["location"] = posting.labels["location"][bal["location"]]
    _write_outbox(session, event, lines_out, balances)
    reactions.publish(session, f"ledger.{event.kind.value}", event_id=event.id)
    return {"lines": lines_out, "balances": balances}


def _check_balanced(posting: Posting) -> None:
    per_item: dict[int, Decimal] = defaultdict(Decimal)
    for ln in posting.lines:
        per_item[ln.item_id] += ln.quantity
    unbalanced = {k: v for k, v in per_item.items() if v != 0}
    if unbalanced:
        raise AssertionError(f"event lines do not balance per item: {unbalanced}")


CONTAINER_TABLE = cast(Table, Container.__table__)
_C = CONTAINER_TABLE.c
_TOUCH_CONTAINERS = (
    update(CONTAINER_TABLE)
    .where(_C.id.in_(bindparam("ids", expanding=True)))
    .values(updated_event_id=bindparam("event_id"), updated_at=bindparam("at"))
)
_RELOCATE_CONTAINERS = (
    update(CONTAINER_TABLE)
    .where(_C.id.in_(bindparam("ids", expanding=True)))
    .values(
        location_id=bindparam("location_id"),
        site_id=bindparam("site_id"),
        updated_event_id=bindparam("event_id"),
        updated_at=bindparam("at"),
    )
)
_PLACE_CONTAINER = (
    update(CONTAINER_TABLE)
    .where(_C.id == bindparam("container_id"))
    .values(
        location_id=bindparam("location_id"),
        parent_id=bindparam("parent_id"),
        status=bindparam("status"),
        updated_event_id=bindparam("event_id"),
        updated_at=bindparam("at"),
    )
)


def _apply_moves(
    session: Session,
    event: Event,
    posting: Posting,
    balance_deltas: dict[BalanceKey, Decimal],
    site_of: dict[int, int | None],
) -> set[int]:
    """Relocate moved containers and their descendants, and shift their balances."""
    touched: set[int] = set()
    rows = []
    for mv in posting.moves:
        c = mv.container
        created_now = c.created_event_id == event.id
        rows.append(
            {
                "event_id": event.id,
                "container_id": c.id,
                "from_location_id": None if created_now else c.location_id,
                "to_location_id": mv.to_location_id,
                "from_parent_id": None if created_now else c.parent_id,
                "to_parent_id": mv.to_parent_id,
                "from_status": None if created_now else c.status,
                "to_status": mv.to_status or c.status,
            }
        )
        if mv.to_location_id != c.location_id and not created_now:
            subtree = posting.subtrees.get(c.id) or nesting.subtree_ids(session, c.id)
            contents = session.connection().execute(_CONTENTS_OF, {"ids": subtree}).all()
            for item_id, lot_id, line_status, quantity, item_code, lot_code in contents:
                posting.labels["item"][item_id] = item_code
                if lot_id is not None:
                    posting.labels["lot"][lot_id] = lot_code
                assert c.location_id is not None and mv.to_location_id is not None
                balance_deltas[(c.location_id, item_id, lot_id, line_status)] -= quantity
                balance_deltas[(mv.to_location_id, item_id, lot_id, line_status)] += quantity
            session.connection().execute(
                _RELOCATE_CONTAINERS,
                {
                    "ids": subtree,
                    "location_id": mv.to_location_id,
                    "site_id": posting_site(session, posting, mv),
                    "event_id": event.id,
                    "at": event.recorded_at,
                },
            )
            touched.update(subtree)
            for cid in subtree:
                if cid in posting.containers:
                    set_committed_value(posting.containers[cid], "location_id", mv.to_location_id)
        status = mv.to_status or c.status
        if (c.parent_id, c.status) != (
            mv.to_parent_id,
            status,
        ) or mv.to_location_id != c.location_id:
            session.connection().execute(
                _PLACE_CONTAINER,
                {
                    "container_id": c.id,
                    "location_id": mv.to_location_id,
                    "parent_id": mv.to_parent_id,
                    "status": status,
                    "event_id": event.id,
                    "at": event.recorded_at,
                },
            )
        for name, value in (
            ("location_id", mv.to_location_id),
            ("parent_id", mv.to_parent_id),
            ("status", status),
        ):
            set_committed_value(c, name, value)
        touched.add(c.id)
    if rows:
        session.connection().execute(insert(MOVE_TABLE), rows)
    for cid in touched:
        cont = posting.containers.get(cid)
        if cont is not None and cont.location_id is not None:
            site_of.setdefault(cont.location_id, cont.site_id)
    return touched


_CONTENTS_OF = (
    select(Content.item_id, Content.lot_id, Content.status, Content.quantity, Item.code, Lot.code)
    .join(Item, Item.id == Content.item_id)
    .outerjoin(Lot, Lot.id == Content.lot_id)
    .where(Content.container_id.in_(bindparam("ids", expanding=True)))
)


def posting_site(session: Session, posting: Posting, mv: Move) -> int | None:
    """The site of the location a container moves to."""
    if mv.to_location_id is None:
        return None
    if mv.to_location_id in posting.sites:
        return posting.sites[mv.to_location_id]
    loc = session.get(Location, mv.to_location_id)
    return loc.site_id if loc is not None else None


_CONTENT = CONTENT_TABLE.c
_DELETE_CONTENT = delete(CONTENT_TABLE).where(_CONTENT.id == bindparam("content_id"))
_UPDATE_CONTENT = (
    update(CONTENT_TABLE)
    .where(_CONTENT.id == bindparam("content_id"))
    .values(quantity=bindparam("new_quantity"), unit_cost=bindparam("new_cost"))
)


def _apply_content_lines(
    session: Session,
    posting: Posting,
    lines: list[Line],
    balance_deltas: dict[BalanceKey, Decimal],
    site_of: dict[int, int | None],
) -> None:
    container_ids = sorted(
        {ln.container_id for ln in lines if ln.container_id is not None} - posting.new_containers
    )
    existing: dict[ContentKey, Content] = {}
    if container_ids:  # a container made by this event holds nothing yet: no need to look
        for ct in session.scalars(select(Content).where(Content.container_id.in_(container_ids))):
            existing[(ct.container_id, ct.item_id, ct.lot_id, ct.status, ct.wip_step)] = ct
    state: dict[ContentKey, tuple[Decimal, Decimal]] = {
        k: (v.quantity, v.unit_cost) for k, v in existing.items()
    }
    for ln in lines:
        assert ln.container_id is not None
        key: ContentKey = (ln.container_id, ln.item_id, ln.lot_id, ln.status, ln.wip_step)
        q0, c0 = state.get(key, (Decimal(0), ln.unit_cost))
        q1 = q0 + ln.quantity
        if q1 < 0:
            cont = posting.containers[ln.container_id]
            raise Conflict(
                f"container {cont.code} holds {q0} of "
                f"{posting.labels['item'].get(ln.item_id, ln.item_id)}"
                + (f" lot {posting.labels['lot'].get(ln.lot_id)}" if ln.lot_id else "")
                + f" ({ln.status.value}); {-ln.quantity} was asked",
                field="quantity",
                expected=f"at most {q0}",
            )
        c1 = _avg_cost(q0, c0, ln.quantity, ln.unit_cost) if ln.quantity > 0 else c0
        state[key] = (q1, c1)
        cont = posting.containers[ln.container_id]
        assert cont.location_id is not None, "a container with contents has a location"
        balance_deltas[(cont.location_id, ln.item_id, ln.lot_id, ln.status)] += ln.quantity
        site_of.setdefault(cont.location_id, cont.site_id)
    to_insert = []
    for key, (qty, cost) in state.items():
        row = existing.get(key)
        if row is None:
            if qty != 0:
                to_insert.append(
                    {
                        "container_id": key[0],
                        "item_id": key[1],
                        "lot_id": key[2],
                        "status": key[3],
                        "wip_step": key[4],
                        "quantity": qty,
                        "unit_cost": cost,
                    }
                )
        elif qty == 0:
            session.connection().execute(_DELETE_CONTENT, {"content_id": row.id})
        elif qty != row.quantity or cost != row.unit_cost:
            session.connection().execute(
                _UPDATE_CONTENT, {"content_id": row.id, "new_quantity": qty, "new_cost": cost}
            )
    if to_insert:
        session.connection().execute(insert(CONTENT_TABLE), to_insert)


def plain(value: Decimal) -> str:
    """A decimal as plain text without trailing zeros: '10.5', never '10.500000' or '1E+1'."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _fill_labels(
    session: Session, posting: Posting, balance_deltas: dict[BalanceKey, Decimal]
) -> None:
    """Look up the codes of every item, lot, location and container the answer names."""
    wanted: dict[str, set[int]] = {
        "item": {ln.item_id for ln in posting.lines} | {k[1] for k in balance_deltas},
        "lot": {ln.lot_id for ln in posting.lines if ln.lot_id}
        | {k[2] for k in balance_deltas if k[2]},
        "location": {k[0] for k in balance_deltas},
        "container": {ln.container_id for ln in posting.lines if ln.container_id},
    }
    tables: dict[str, Any] = {
        "item": Item,
        "lot": Lot,
        "location": Location,
        "container": Container,
    }
    for kind, ids in wanted.items():
        missing = [i for i in ids if not posting.labels[kind].get(i)]
        if missing:
            model = tables[kind]
            for row_id, code in session.connection().execute(
                select(model.id, model.code).where(model.id.in_(missing))
            ):
                posting.labels[kind][row_id] = code


def _line_label(posting: Posting, ln: Line) -> dict[str, Any]:
    labels = posting.labels
    return {
        "container": labels["container"].get(ln.container_id) if ln.container_id else None,
        "place": ln.place,
        "item": labels["item"].get(ln.item_id, str(ln.item_id)),
        "lot": labels["lot"].get(ln.lot_id) if ln.lot_id else None,
        "status": ln.status.value,
        "wip_step": ln.wip_step,
        "quantity": plain(ln.quantity),
        "unit_cost": plain(ln.unit_cost),
    }


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _write_outbox(
    session: Session, event: Event, lines: list[dict[str, Any]], balances: list[dict[str, Any]]
) -> None:
    """One message for the event, and one inventory change per balance it moved, for the ERP."""
    header = {
        "event_id": event.id,
        "event_key": event.key,
        "kind": event.kind.value,
        "occurred_at": _iso(event.occurred_at),
        "recorded_at": _iso(event.recorded_at),
        "actor": event.actor,
        "device": event.device,
        "reason": event.reason,
        "reference": event.reference,
    }
    rows: list[outbox.Message] = [
        {
            "event_id": event.id,
            "topic": f"ledger.{event.kind.value}",
            "message_key": f"event:{event.id}",
            "payload": {**header, "lines": lines},
        }
    ]
    for bal in balances:
        rows.append(
            {
                "event_id": event.id,
                "topic": "inventory.changed",
                "message_key": f"{bal['item']}@{bal['location']}",
                "payload": {**header, **bal},
            }
        )
    outbox.enqueue(session, rows)
