"""The balance projection: quantity per location, item, lot and status, changed by adding deltas
(concurrent writers add up, nobody reads then writes) in a fixed key order (no deadlocks)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from isom.ledger.models import Balance
from isom.ledger.posting.model import BalanceKey, plain

BALANCE_TABLE = cast(Table, Balance.__table__)
_B = BALANCE_TABLE.c


_KEY = ("location_id", "item_id", "lot_id", "status")


@lru_cache(maxsize=64)
def _add(dialect: str, rows: int) -> Any:
    """Add `rows` deltas in one statement, each row an upsert of its key, in key order.

    Both databases check the proposed row against the `CHECK` before they look for the
    conflict, so a row proposes its delta only when it adds (a take proposes 0, which a new
    key keeps: a take from nothing empties a row that did not exist) and the update adds the
    row's own delta, picked by its key. A take beyond the stock fails the `CHECK`."""
    names = ("site_id", *_KEY, "quantity")
    # Rows as a SELECT, not a multi-row VALUES, which SQLAlchemy would compile every time.
    proposed = union_all(
        *(
            select(*(bindparam(f"{n}_{k}", type_=_B[n].type).label(n) for n in names))
            for k in range(rows)
        )
    ).subquery("proposed")
    stmt: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(BALANCE_TABLE)
    # WHERE: SQLite reads ON CONFLICT after a bare SELECT ... FROM as a join's ON.
    stmt = stmt.from_select(names, select(proposed).where(true()))
    own = stmt.excluded
    delta = case(
        *(
            (
                and_(*(own[n].is_not_distinct_from(bindparam(f"{n}_{k}")) for n in _KEY)),
                bindparam(f"delta_{k}", type_=_B.quantity.type),
            )
            for k in range(rows)
        )
    )
    return stmt.on_conflict_do_update(
        index_elements=[
            _B.location_id,
            _B.item_id,
            func.coalesce(_B.lot_id, literal_column("0")),
            _B.status,
        ],
        set_={"quantity": _B.quantity + delta},
    ).returning(_B.id, *(_B[n] for n in _KEY), _B.quantity)


_DROP_EMPTY = delete(BALANCE_TABLE).where(_B.id.in_(bindparam("ids", expanding=True)))


def apply_balances(
    session: Session, deltas: dict[BalanceKey, Decimal], site_of: dict[int, int | None]
) -> list[dict[str, Any]]:
    """Add every non-zero delta, drop the rows it empties; answer what changed (ids, not codes)."""
    keys = sorted(
        (k for k, delta in deltas.items() if delta != 0),
        key=lambda k: (k[0], k[1], k[2] or 0, k[3].value),
    )
    if not keys:
        return []
    params: dict[str, Any] = {}
    for k, key in enumerate(keys):
        delta = deltas[key]
        params.update({f"{n}_{k}": value for n, value in zip(_KEY, key, strict=True)})
        params.update(
            {
                f"site_id_{k}": site_of.get(key[0]),
                f"quantity_{k}": max(delta, 0),
                f"delta_{k}": delta,
            }
        )
    conn = session.connection()
    found = {
        tuple(row[1:5]): (row[0], row[5])
        for row in conn.execute(_add(conn.dialect.name, len(keys)), params)
    }
    changed: list[dict[str, Any]] = []
    emptied: list[int] = []
    for key in keys:
        balance_id, quantity = found[key]
        if quantity == 0:
            emptied.append(balance_id)
        changed.append(
            {
                "location": key[0],
                "item": key[1],
                "lot": key[2],
                "status": key[3].value,
                "delta": plain(deltas[key]),
                "quantity": plain(quantity),
            }
        )
    if emptied:
        conn.execute(_DROP_EMPTY, {"ids": emptied})
    return changed
