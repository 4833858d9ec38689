"""Container moves: the move rows, the containers' new place (with everything nested in them)
and the balances that move with their contents."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session

from isom.ledger import nesting
from isom.ledger.models import Event, EventMove
from isom.ledger.posting.contents import held_rows
from isom.ledger.posting.model import CONTAINER_TABLE, BalanceKey, Move, Posting
from isom.masterdata.models import Location

MOVE_TABLE = cast(Table, EventMove.__table__)
_C = CONTAINER_TABLE.c
_INSERT_MOVES = insert(MOVE_TABLE)
_RELOCATE = (
    update(CONTAINER_TABLE)
    .where(_C.id.in_(bindparam("ids", expanding=True)))
    .values(
        location_id=bindparam("location_id"),
        site_id=bindparam("site_id"),
        updated_event_id=bindparam("event_id"),
        updated_at=bindparam("at"),
    )
)
_PLACE = (
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


#: A write the moves need once the event has its id: a statement and its other parameters.
Pending = tuple[Any, dict[str, Any]]


def plan_moves(
    session: Session,
    event: Event,
    posting: Posting,
    balance_deltas: dict[BalanceKey, Decimal],
    site_of: dict[int, int | None],
) -> tuple[set[int], list[Pending]]:
    """Shift the balances of moved containers (with everything nested in them) and note where
    they are now; answer the containers that now carry the event as their last change and the
    writes that record it (`write_moves`, once the event row exists)."""
    touched: set[int] = set()
    rows: list[dict[str, Any]] = []
    writes: list[Pending] = []
    for mv in posting.moves:
        c = mv.container
        created_now = event.id is not None and c.created_event_id == event.id
        status = mv.to_status or c.status
        rows.append(
            {
                "container_id": c.id,
                "from_location_id": None if created_now else c.location_id,
                "to_location_id": mv.to_location_id,
                "from_parent_id": None if created_now else c.parent_id,
                "to_parent_id": mv.to_parent_id,
                "from_status": None if created_now else c.status,
                "to_status": status,
            }
        )
        if mv.to_location_id != c.location_id and not created_now:
            touched.update(_relocate(session, posting, mv, balance_deltas, writes))
        if (c.parent_id, c.status, c.location_id) != (mv.to_parent_id, status, mv.to_location_id):
            params = {"container_id": c.id, "location_id": mv.to_location_id}
            writes.append((_PLACE, {**params, "parent_id": mv.to_parent_id, "status": status}))
        c.location_id, c.parent_id, c.status = mv.to_location_id, mv.to_parent_id, status
        touched.add(c.id)
    if rows:
        writes.append((_INSERT_MOVES, {"rows": rows}))
    for cid in touched:
        cont = posting.containers.get(cid)
        if cont is not None and cont.location_id is not None:
            site_of.setdefault(cont.location_id, cont.site_id)
    return touched, writes


def write_moves(session: Session, event: Event, writes: list[Pending]) -> None:
    """The planned relocations and move rows, now that the event has its id."""
    conn = session.connection()
    stamp = {"event_id": event.id, "at": event.recorded_at}
    for statement, params in writes:
        if statement is _INSERT_MOVES:
            conn.execute(statement, [{**row, "event_id": event.id} for row in params["rows"]])
        else:
            conn.execute(statement, {**params, **stamp})


def _relocate(
    session: Session,
    posting: Posting,
    mv: Move,
    balance_deltas: dict[BalanceKey, Decimal],
    writes: list[Pending],
) -> list[int]:
    """Move a container and everything nested in it to `mv.to_location_id`, with its balances."""
    c = mv.container
    assert c.location_id is not None and mv.to_location_id is not None
    subtree = posting.subtrees.get(c.id) or nesting.subtree_ids(session, c.id)
    for held in held_rows(session, posting, subtree):
        balance_deltas[(c.location_id, held.item_id, held.lot_id, held.status)] -= held.quantity
        balance_deltas[(mv.to_location_id, held.item_id, held.lot_id, held.status)] += held.quantity
    site_id = _site(session, posting, mv.to_location_id)
    to = {"ids": subtree, "location_id": mv.to_location_id, "site_id": site_id}
    writes.append((_RELOCATE, to))
    c.location_id, c.site_id = mv.to_location_id, site_id
    for cid in subtree:
        if cid in posting.containers:
            posting.containers[cid].location_id = mv.to_location_id
            posting.containers[cid].site_id = site_id
    return subtree


def _site(session: Session, posting: Posting, location_id: int) -> int | None:
    """The site of the location a container moves to."""
    if location_id in posting.sites:
        return posting.sites[location_id]
    loc = session.get(Location, location_id)
    return loc.site_id if loc is not None else None
