"""Helpers for the ledger tests: apply commands as a user would, and read back what they see."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from isom.db import Database
from isom.errors import IsomError
from isom.ledger import queries
from isom.ledger import services as ledger
from isom.ledger.models import (
    Balance,
    Container,
    Content,
    Counter,
    Event,
    EventLine,
    EventMove,
    Genealogy,
    Lot,
    Outbox,
)
from isom.ledger.schemas import EventResult, LotIn, ReceiveCommand, ReceiveLine
from isom.ledger.verify import verify
from tests.builders import key

ACTOR = ledger.Actor(name="tester", device="test-scanner")

#: Every table the ledger writes, in an order that reads well in a failure message.
LEDGER_TABLES: list[Any] = [
    Event,
    EventLine,
    EventMove,
    Container,
    Content,
    Balance,
    Genealogy,
    Lot,
    Outbox,
    Counter,
]

Operation = Callable[[Session, ledger.Actor, str, Any], EventResult]


def D(value: str | int) -> Decimal:  # noqa: N802 - reads like a literal
    return Decimal(value)


def apply(
    db: Database, operation: Operation, command: Any, *, idem: str | None = None
) -> EventResult:
    """Apply one ledger operation in its own unit of work, as the API does."""
    k = idem or key()
    return db.write(lambda s: operation(s, ACTOR, k, command), one_command=True)


def receive(
    db: Database,
    container: str | None,
    item: str = "WIRE",
    quantity: str | Decimal = "100",
    *,
    lot: str | None = "L1",
    location: str = "BIN-1",
    unit_cost: str | Decimal = "0.12",
    unit: str | None = None,
    supplier: str | None = "SUP",
    idem: str | None = None,
) -> EventResult:
    """Receive one container holding one line."""
    line = ReceiveLine(
        item=item,
        lot=LotIn(code=lot) if lot else None,
        quantity=Decimal(quantity),
        unit=unit,
        unit_cost=Decimal(unit_cost),
    )
    cmd = ReceiveCommand(container=container, location=location, supplier=supplier, lines=[line])
    return apply(db, ledger.receive, cmd, idem=idem)


def view(db: Database, code: str) -> queries.ContainerView:
    return db.read(lambda s: queries.container(s, code))


def contents(db: Database, code: str) -> dict[tuple[str, str | None, str], Decimal]:
    """What a user sees in a container: (item, lot, status) -> quantity."""
    out: dict[tuple[str, str | None, str], Decimal] = {}
    for c in view(db, code).contents:
        k = (c.item, c.lot, c.status.value)
        out[k] = out.get(k, Decimal(0)) + c.quantity
    return out


def quantity(db: Database, code: str, item: str = "WIRE") -> Decimal:
    """The total quantity of `item` in one container (every lot and status)."""
    return sum((q for (it, _, _), q in contents(db, code).items() if it == item), Decimal(0))


def stock(
    db: Database, *, location: str | None = None, item: str | None = None
) -> dict[tuple[str, str, str | None, str], Decimal]:
    """Inventory as the query shows it: (item, location, lot, status) -> quantity."""
    page = db.read(lambda s: queries.inventory(s, location=location, item=item))
    return {(r.item, r.location, r.lot, r.status.value): r.quantity for r in page.rows}


def stock_at(db: Database, location: str, item: str = "WIRE") -> Decimal:
    """The total of an item at a location and everything below it."""
    return sum(stock(db, location=location, item=item).values(), Decimal(0))


def assert_verified(db: Database) -> None:
    """`isom ledger verify` finds every projection equal to what the events say."""
    report = db.read(verify)
    assert report.ok, "verify found differences:\n" + "\n".join(map(str, report.differences))


def row_counts(db: Database) -> dict[str, int]:
    def count(s: Session) -> dict[str, int]:
        return {
            t.__tablename__: s.scalar(select(func.count()).select_from(t)) or 0
            for t in LEDGER_TABLES
        }

    return db.read(count)


def snapshot(db: Database) -> dict[str, Any]:
    """Every row of every ledger table, to prove that a failed event changed nothing at all."""

    def take(s: Session) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for t in LEDGER_TABLES:
            table = t.__table__
            cols = [c for c in table.columns if c.name not in ("updated_at", "created_at")]
            pk = list(table.primary_key.columns)
            rows = s.execute(select(*cols).order_by(*pk)).all()
            out[table.name] = [tuple(r) for r in rows]
        return out

    return db.read(take)


def refused(
    db: Database,
    error: type[IsomError],
    operation: Operation,
    command: Any,
    *,
    field: str | None = None,
    idem: str | None = None,
) -> IsomError:
    """Apply a command that must fail with `error`, and prove that it changed nothing."""
    before = snapshot(db)
    with pytest.raises(error) as caught:
        apply(db, operation, command, idem=idem)
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"
    if field is not None:
        assert caught.value.field == field, caught.value.to_problem()
    assert snapshot(db) == before, "a refused event changed the ledger"
    return caught.value


def sql_total(db: Database, table: str, where: str = "1 = 1") -> Decimal:
    """SUM(quantity) computed by the database itself, as exact Decimal."""
    raw = db.read(
        lambda s: s.execute(text(f"SELECT SUM(quantity) FROM {table} WHERE {where}")).scalar()
    )
    return (Decimal(int(raw)) / Decimal(1_000_000)).normalize() if raw is not None else Decimal(0)


def set_quantity_sql(db: Database, table: str, quantity: Decimal, where: str) -> None:
    """Tamper with a projection behind the ledger's back (stored as millionths)."""
    micros = int(quantity * 1_000_000)
    with db.engine.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET quantity = :q WHERE {where}"), {"q": micros})


def ids(db: Database, model: Any, **where: Any) -> list[int]:
    return db.read(
        lambda s: list(s.scalars(select(model.id).filter_by(**where).order_by(model.id)).all())
    )
