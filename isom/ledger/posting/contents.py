"""Container contents: each line checked against what the container holds, then the changed
content rows written with `executemany` (cost travels with material, merged lines average it)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from isom.errors import Conflict
from isom.ledger.posting.model import (
    CONTENT_TABLE,
    HELD_COLUMNS,
    BalanceKey,
    ContentKey,
    Held,
    Line,
    Posting,
    avg_cost,
)

_CONTENT = CONTENT_TABLE.c
_HELD_BY = select(*HELD_COLUMNS).where(_CONTENT.container_id.in_(bindparam("ids", expanding=True)))
_INSERT = insert(CONTENT_TABLE)
_DELETE = delete(CONTENT_TABLE).where(_CONTENT.id == bindparam("content_id"))
_UPDATE = (
    update(CONTENT_TABLE)
    .where(_CONTENT.id == bindparam("content_id"))
    .values(quantity=bindparam("new_quantity"), unit_cost=bindparam("new_cost"))
)


def held_rows(session: Session, posting: Posting, container_ids: list[int]) -> list[Held]:
    """What the containers hold: from the lock's read where the posting has it, else one read."""
    missing = [cid for cid in container_ids if cid not in posting.held]
    if missing:
        found: dict[int, list[Held]] = defaultdict(list)
        for row in session.connection().execute(_HELD_BY, {"ids": missing}):
            found[row[1]].append(Held(*row))
        for cid in missing:
            posting.held[cid] = found.get(cid, [])
    return [row for cid in container_ids for row in posting.held[cid]]


def apply_content_lines(
    session: Session,
    posting: Posting,
    lines: list[Line],
    balance_deltas: dict[BalanceKey, Decimal],
    site_of: dict[int, int | None],
) -> None:
    """Check every container line against the contents, then write the changed rows."""
    container_ids = sorted(
        {ln.container_id for ln in lines if ln.container_id is not None} - posting.new_containers
    )
    existing: dict[ContentKey, Held] = {
        (h.container_id, h.item_id, h.lot_id, h.status, h.wip_step): h
        for h in held_rows(session, posting, container_ids)
    }
    state: dict[ContentKey, tuple[Decimal, Decimal]] = {
        k: (v.quantity, v.unit_cost) for k, v in existing.items()
    }
    for ln in lines:
        assert ln.container_id is not None
        key: ContentKey = (ln.container_id, ln.item_id, ln.lot_id, ln.status, ln.wip_step)
        q0, c0 = state.get(key, (Decimal(0), ln.unit_cost))
        q1 = q0 + ln.quantity
        cont = posting.containers[ln.container_id]
        if q1 < 0:
            raise Conflict(
                f"container {cont.code} holds {q0} of "
                f"{posting.labels['item'].get(ln.item_id, ln.item_id)}"
                + (f" lot {posting.labels['lot'].get(ln.lot_id)}" if ln.lot_id else "")
                + f" ({ln.status.value}); {-ln.quantity} was asked",
                field="quantity",
                expected=f"at most {q0}",
            )
        c1 = avg_cost(q0, c0, ln.quantity, ln.unit_cost) if ln.quantity > 0 else c0
        state[key] = (q1, c1)
        assert cont.location_id is not None, "a container with contents has a location"
        balance_deltas[(cont.location_id, ln.item_id, ln.lot_id, ln.status)] += ln.quantity
        site_of.setdefault(cont.location_id, cont.site_id)
    _write(session, existing, state)


def _write(
    session: Session,
    existing: dict[ContentKey, Held],
    state: dict[ContentKey, tuple[Decimal, Decimal]],
) -> None:
    """New, changed and emptied content rows, one `executemany` each."""
    added: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    emptied: list[dict[str, Any]] = []
    for key, (qty, cost) in state.items():
        row = existing.get(key)
        if row is None:
            if qty != 0:
                added.append(
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
            emptied.append({"content_id": row.id})
        elif qty != row.quantity or cost != row.unit_cost:
            changed.append({"content_id": row.id, "new_quantity": qty, "new_cost": cost})
    conn = session.connection()
    for statement, rows in ((_DELETE, emptied), (_UPDATE, changed), (_INSERT, added)):
        if rows:
            conn.execute(statement, rows)
