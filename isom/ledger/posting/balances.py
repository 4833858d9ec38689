"""The balance projection: quantity per location, item, lot and status, changed by adding deltas
(concurrent writers add up, nobody reads then writes) in a fixed key order (no deadlocks)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, literal_column, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from isom.errors import InsufficientStock
from isom.ledger.models import Balance
from isom.ledger.posting.model import BalanceKey, plain

BALANCE_TABLE = cast(Table, Balance.__table__)
_B = BALANCE_TABLE.c


def _upsert(dialect: str) -> Any:
    stmt: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(BALANCE_TABLE)
    return stmt.on_conflict_do_update(
        index_elements=[
            _B.location_id,
            _B.item_id,
            func.coalesce(_B.lot_id, literal_column("0")),
            _B.status,
        ],
        set_={"quantity": _B.quantity + stmt.excluded.quantity},
    ).returning(_B.id, _B.quantity)


def _take(with_lot: bool) -> Any:
    lot_clause = (
        _B.lot_id == bindparam("b_lot_id", type_=_B.lot_id.type)
        if with_lot
        else _B.lot_id.is_(None)
    )
    return (
        update(BALANCE_TABLE)
        .where(
            _B.location_id == bindparam("b_location_id", type_=_B.location_id.type),
            _B.item_id == bindparam("b_item_id", type_=_B.item_id.type),
            lot_clause,
            _B.status == bindparam("b_status", type_=_B.status.type),
        )
        .values(quantity=_B.quantity + bindparam("b_delta", type_=_B.quantity.type))
        .returning(_B.id, _B.quantity)
    )


# Built once at import: building the constructs costs more Python time than running them.
_UPSERT = {name: _upsert(name) for name in ("postgresql", "sqlite")}
_TAKE = {True: _take(True), False: _take(False)}
_DROP_EMPTY = delete(BALANCE_TABLE).where(_B.id.in_(bindparam("ids", expanding=True)))


def _add(
    session: Session, key: BalanceKey, site_id: int | None, delta: Decimal
) -> tuple[int, Decimal]:
    """Add `delta` to one balance row and answer its id and new quantity.

    A positive delta upserts (the row may not exist yet). A negative one only updates, since
    both databases check the proposed row of an upsert before they look for the conflict; a
    missing row then means there was nothing to take, and the `CHECK` guards the rest.
    """
    location_id, item_id, lot_id, status = key
    conn = session.connection()
    if delta < 0:
        params: dict[str, Any] = {
            "b_location_id": location_id,
            "b_item_id": item_id,
            "b_status": status,
            "b_delta": delta,
        }
        if lot_id is not None:
            params["b_lot_id"] = lot_id
        row = conn.execute(_TAKE[lot_id is not None], params).first()
        if row is None:
            raise InsufficientStock("not enough quantity: the change would make a balance negative")
        return row[0], row[1]
    values = {
        "site_id": site_id,
        "location_id": location_id,
        "item_id": item_id,
        "lot_id": lot_id,
        "status": status,
        "quantity": delta,
    }
    row = conn.execute(_UPSERT[conn.dialect.name], values).one()
    return row[0], row[1]


def apply_balances(
    session: Session, deltas: dict[BalanceKey, Decimal], site_of: dict[int, int | None]
) -> list[dict[str, Any]]:
    """Add every non-zero delta, drop the rows it empties; answer what changed (ids, not codes)."""
    changed: list[dict[str, Any]] = []
    emptied: list[int] = []
    for key in sorted(deltas, key=lambda k: (k[0], k[1], k[2] or 0, k[3].value)):
        delta = deltas[key]
        if delta == 0:
            continue
        balance_id, quantity = _add(session, key, site_of.get(key[0]), delta)
        if quantity == 0:
            emptied.append(balance_id)
        changed.append(
            {
                "location": key[0],
                "item": key[1],
                "lot": key[2],
                "status": key[3].value,
                "delta": plain(delta),
                "quantity": plain(quantity),
            }
        )
    if emptied:
        session.connection().execute(_DROP_EMPTY, {"ids": emptied})
    return changed
