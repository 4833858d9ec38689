"""Applying an event: lines to contents and balances, moves, genealogy and the outbox, in one go.

Every operation validates its command, then hands a `Posting` to `post()`. Everything here is
plain Core with statements built once at import and bound parameters (`executemany` for the
lines, moves, contents and outbox rows): no ORM unit of work or identity map on the hot path.
Nothing here commits; the caller's unit of work does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session

from isom import reactions
from isom.ledger.models import Event, EventLine, Genealogy
from isom.ledger.posting.answer import fill_labels, label_balances, line_label, write_outbox
from isom.ledger.posting.balances import apply_balances
from isom.ledger.posting.contents import apply_content_lines
from isom.ledger.posting.model import (
    BOX_COLUMNS,
    CONTAINER_TABLE,
    COST_QUANTUM,
    HELD_COLUMNS,
    BalanceKey,
    Box,
    Edge,
    Held,
    Line,
    Move,
    Place,
    Posting,
    Where,
    plain,
    recorded,
)
from isom.ledger.posting.moves import plan_moves, write_moves

__all__ = [
    "BOX_COLUMNS",
    "COST_QUANTUM",
    "HELD_COLUMNS",
    "Box",
    "Edge",
    "Held",
    "Line",
    "Move",
    "Place",
    "Posting",
    "Where",
    "plain",
    "post",
    "recorded",
]

_INSERT_LINES = insert(cast(Table, EventLine.__table__))
_INSERT_EDGES = insert(cast(Table, Genealogy.__table__))
_TOUCH = (
    update(CONTAINER_TABLE)
    .where(CONTAINER_TABLE.c.id.in_(bindparam("ids", expanding=True)))
    .values(updated_event_id=bindparam("event_id"), updated_at=bindparam("at"))
)


def post(
    session: Session,
    event: Event,
    posting: Posting,
    record: Callable[[list[dict[str, Any]], list[dict[str, Any]]], None],
) -> dict[str, Any]:
    """Write the event's lines, update contents, balances, containers, genealogy and outbox;
    answer the lines and the balances it changed, by code.

    Contents and balances go first: their new quantities complete the answer, which `record`
    gets (lines, balances) before anything that refers to the event is written, so an event row
    not written yet can be written once, with its answer."""
    _check_balanced(posting)
    balance_deltas: dict[BalanceKey, Decimal] = defaultdict(Decimal)
    site_of: dict[int, int | None] = {}
    # Moves first take contents out of their old location and into the new one.
    moved, move_writes = plan_moves(session, event, posting, balance_deltas, site_of)
    container_lines = [ln for ln in posting.lines if ln.container_id is not None]
    if container_lines:
        apply_content_lines(session, posting, container_lines, balance_deltas, site_of)
    balances = apply_balances(session, balance_deltas, site_of)
    fill_labels(session, posting, balance_deltas)
    lines_out = [line_label(posting, ln) for ln in posting.lines]
    label_balances(posting, balances)
    record(lines_out, balances)
    write_moves(session, event, move_writes)
    conn = session.connection()
    if posting.lines:
        conn.execute(_INSERT_LINES, [_row(event, ln) for ln in posting.lines])
    if posting.edges:
        conn.execute(_INSERT_EDGES, [_row(event, e) for e in posting.edges])
    # Containers whose contents changed but that did not move record the event too.
    touched = {ln.container_id for ln in container_lines if ln.container_id} - moved
    if touched:
        conn.execute(
            _TOUCH, {"ids": sorted(touched), "event_id": event.id, "at": event.recorded_at}
        )
    write_outbox(session, event, lines_out, balances)
    reactions.publish(session, f"ledger.{event.kind.value}", event_id=event.id)
    return {"lines": lines_out, "balances": balances}


def _row(event: Event, written: Line | Edge) -> dict[str, Any]:
    return {"event_id": event.id, **recorded(type(written), written)}


def _check_balanced(posting: Posting) -> None:
    per_item: dict[int, Decimal] = defaultdict(Decimal)
    for ln in posting.lines:
        per_item[ln.item_id] += ln.quantity
    unbalanced = {k: v for k, v in per_item.items() if v != 0}
    if unbalanced:
        raise AssertionError(f"event lines do not balance per item: {unbalanced}")
