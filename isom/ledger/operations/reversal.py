"""Reversal: an event undone by a new event with its lines negated."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.auth import sites
from isom.errors import Conflict, NotFound
from isom.ledger.models import (
    ContainerStatus,
    Event,
    EventKind,
    EventLine,
    EventMove,
    Genealogy,
)
from isom.ledger.operations.frame import (
    _label_container,
    _lock_subtree,
    lock_boxes,
    operation,
)
from isom.ledger.operations.movement import _parent_to_return_to
from isom.ledger.posting import Box, Edge, Line, Move, Posting, recorded
from isom.ledger.schemas import (
    ReverseCommand,
)


def _reverse(
    session: Session, event: Event, cmd: ReverseCommand, posting: Posting
) -> dict[str, Any]:
    """Correct a wrong event with its opposite; the original stays in the history."""
    original = _reversible(session, cmd.event_id)
    lines = session.scalars(select(EventLine).where(EventLine.event_id == original.id)).all()
    moves = session.scalars(
        select(EventMove).where(EventMove.event_id == original.id).order_by(EventMove.id.desc())
    ).all()
    ids = {ln.container_id for ln in lines if ln.container_id} | {m.container_id for m in moves}
    containers = {
        cid: _label_container(posting, box) for cid, box in lock_boxes(session, list(ids)).items()
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
        _move_back(session, posting, original, containers[mv.container_id], mv, moved)
    for ln in lines:
        posting.lines.append(Line(**{**recorded(Line, ln), "quantity": -ln.quantity}))
    for edge in session.scalars(select(Genealogy).where(Genealogy.event_id == original.id)):
        posting.edges.append(Edge(**{**recorded(Edge, edge), "quantity": -edge.quantity}))
    event.reverses_event_id = original.id
    event.reason = cmd.reason
    event.location_id = original.location_id
    event.site_id = original.site_id
    return {"reverses": original.id, "reversed_kind": original.kind.value}


reverse = operation(EventKind.reverse, _reverse)


def _reversible(session: Session, event_id: int) -> Event:
    """The event to reverse: it exists, is no reversal itself and was not reversed yet."""
    original = session.get(Event, event_id)
    if original is None or not sites.allows(original.site_id):
        raise NotFound(f"no event {event_id}", field="event_id", expected="an event id")
    if original.kind == EventKind.reverse:
        raise Conflict(
            "a reversal cannot itself be reversed; post the change again instead", field="event_id"
        )
    already = session.scalar(select(Event.id).where(Event.reverses_event_id == original.id))
    if already is not None:
        raise Conflict(
            f"event {original.id} was already reversed by event {already}", field="event_id"
        )
    return original


def _move_back(
    session: Session, posting: Posting, original: Event, cont: Box, mv: EventMove, moved: set[int]
) -> None:
    """Put a container the original event moved back where it was, if it is still where the
    event left it."""
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
        back_to = _parent_to_return_to(session, posting, cont, mv.from_parent_id).location_id
    posting.moves.append(
        Move(cont, back_to, mv.from_parent_id, mv.from_status or ContainerStatus.void)
    )
